// `train bench <workflow>`: training throughput on this machine (laptop, CI runner, GPU node),
// printed as a table and optionally tracked in MLflow. Logic lives in src/bench.
import path from "node:path";
import { Command, Option } from "commander";
import { numberFlag } from "./flag-parsers.js";
import { BACKEND_REQUESTS, type BackendRequest } from "../tf/backend.js";
import { EXECUTION_MODES, type ExecutionMode } from "../tf/execution.js";
import { BENCH_TARGETS } from "../bench/targets.js";

interface BenchCommandOptions {
  backend: BackendRequest;
  execution: ExecutionMode;
  batchSize: number;
  steps: number;
  warmup: number;
  learningRate?: number;
  seed: number;
  intraOpThreads?: number;
  interOpThreads?: number;
  track: boolean;
  trackingUri?: string;
  spec?: string;
  json: boolean;
}

export function registerBenchCommand(program: Command): void {
  program
    .command("bench")
    .description("measure training speed (images/s, ms/step, peak memory) of a workflow's model on this machine")
    .addArgument(program.createArgument("<workflow>", "workflow to benchmark").choices(Object.keys(BENCH_TARGETS)))
    .addOption(new Option("--backend <backend>", "TensorFlow.js backend").choices(BACKEND_REQUESTS).default("auto"))
    .addOption(new Option("--execution <mode>", "graph: each step one TensorFlow function (native backend); eager: op by op through tfjs-layers").choices(EXECUTION_MODES).default("graph"))
    .option("--batch-size <n>", "images per step", numberFlag({ integer: true, exclusiveMinimum: 0 }), 128)
    .option("--steps <n>", "timed steps", numberFlag({ integer: true, exclusiveMinimum: 0 }), 30)
    .option("--warmup <n>", "untimed steps first", numberFlag({ integer: true, minimum: 0 }), 5)
    .option("--learning-rate <rate>", "learning rate of the workflow's optimizer (default: the workflow's own, 0.001 Adam for mnist, 0.05 SGD momentum for cifar10)", numberFlag({ exclusiveMinimum: 0 }))
    .option("--seed <n>", "seed for weights and synthetic data", numberFlag({ integer: true, minimum: 0 }), 42)
    .option("--intra-op-threads <n>", "TensorFlow intra-op threads (sets TF_NUM_INTRAOP_THREADS; default: one per core)", numberFlag({ integer: true, exclusiveMinimum: 0 }))
    .option("--inter-op-threads <n>", "TensorFlow inter-op threads (sets TF_NUM_INTEROP_THREADS)", numberFlag({ integer: true, exclusiveMinimum: 0 }))
    .option("--track", "log the result to MLflow as a run in experiment <experiment>-bench", false)
    .option("--tracking-uri <uri>", "MLflow tracking server (http…) or local folder (default: $MLFLOW_TRACKING_URI, else ./mlruns)")
    .option("--spec <file>", "workflow spec naming the experiment (default: models/<registered model>.yaml)")
    .option("--json", "print the result as JSON instead of a table", false)
    .action(async (workflow: string, options: BenchCommandOptions) => {
      // TensorFlow reads these once, when its first context is created: set them before loading it.
      if (options.intraOpThreads) process.env.TF_NUM_INTRAOP_THREADS = String(options.intraOpThreads);
      if (options.interOpThreads) process.env.TF_NUM_INTEROP_THREADS = String(options.interOpThreads);
      const { benchTarget } = await import("../bench/targets.js");
      const { measureTraining } = await import("../bench/measure.js");
      const target = benchTarget(workflow);
      const result = await measureTraining(target, {
        backend: options.backend,
        execution: options.execution,
        batchSize: options.batchSize,
        steps: options.steps,
        warmup: options.warmup,
        learningRate: options.learningRate ?? target.defaultLearningRate,
        seed: options.seed,
      });
      let tracked: { runId: string; experimentId: string } | undefined;
      if (options.track) {
        const { loadSpecFile, specPathFor } = await import("../config/load.js");
        const { openTrackingStore } = await import("../tracking/resolve.js");
        const { trackBenchResult } = await import("../bench/track.js");
        const loaded = await loadSpecFile(path.resolve(options.spec ?? specPathFor(target.registeredModel)));
        const store = await openTrackingStore(options.trackingUri);
        tracked = await trackBenchResult(store, loaded.spec.experiment, result);
      }
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ ...result, ...(tracked ? { tracked } : {}) }, null, 2)}\n`);
        return;
      }
      const { describeResult } = await import("../bench/report.js");
      process.stdout.write(`${describeResult(result)}\n`);
      if (tracked) process.stdout.write(`tracked     run ${tracked.runId} in experiment ${tracked.experimentId}\n`);
    });
}
