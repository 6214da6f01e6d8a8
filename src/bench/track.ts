// Logs a benchmark to MLflow (through the tracking store) as one finished run in experiment
// `<workflow experiment>-bench`, so speed across machines and versions can be compared in the UI.
import type { TrackingStore } from "../tracking/store.js";
import type { BenchResult } from "./measure.js";
import { KIND_TAG, MLFLOW_SOURCE_TYPE_TAG, WORKFLOW_TAG } from "../tracking/tags.js";

export async function trackBenchResult(store: TrackingStore, experiment: string, result: BenchResult): Promise<{ runId: string; experimentId: string }> {
  const experimentId = await store.getOrCreateExperiment(`${experiment}-bench`);
  const now = Date.now();
  const run = await store.createRun({
    experimentId,
    runName: `bench-${result.workflow}-${result.backend}-${result.execution}-b${result.batchSize}`,
    startTime: now,
    tags: { [KIND_TAG]: "benchmark", [WORKFLOW_TAG]: result.workflow, [MLFLOW_SOURCE_TYPE_TAG]: "LOCAL" },
  });
  const metrics = {
    images_per_second: result.imagesPerSecond,
    ms_per_step_median: result.msPerStep.median,
    ms_per_step_p10: result.msPerStep.p10,
    ms_per_step_p90: result.msPerStep.p90,
    cpu_ms_per_step: result.cpuMsPerStep,
    epoch_seconds_extrapolated: result.epochSeconds,
    peak_rss_mib: result.peakRssBytes / 2 ** 20,
    load_average_1m: result.machine.loadAverage[0],
  };
  await store.logBatch(run.runId, {
    metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, step: 0, timestamp: now })),
    params: {
      backend: result.backend,
      execution: result.execution,
      batch_size: String(result.batchSize),
      steps: String(result.steps),
      warmup: String(result.warmup),
      device: result.device.slice(0, 500),
      tensorflow_version: result.tensorflowVersion ?? "none",
      tfjs_version: result.tfjsVersion,
      cpu_model: result.machine.cpuModel,
      cores: String(result.machine.cores),
      node_version: result.machine.node,
      intra_op_threads: String(result.machine.intraOpThreads ?? "default"),
      inter_op_threads: String(result.machine.interOpThreads ?? "default"),
    },
  });
  await store.updateRun(run.runId, { status: "FINISHED", endTime: Date.now() });
  return { runId: run.runId, experimentId };
}
