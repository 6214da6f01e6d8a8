// Measures training throughput the way `train <workflow>` trains: the workflow's model factory,
// compiled with its optimizer, stepped by the same epoch loop (src/tf/fit.ts: one graph function
// per step on native TensorFlow, tfjs-layers' trainOnBatch otherwise) on batches of synthetic
// examples (timing does not depend on pixel values). Every step is timed in wall-clock and in process CPU
// time; the first `warmup` steps (graph building, kernel selection, allocator growth) are dropped.
import { loadTensorFlow, type BackendRequest } from "../tf/backend.js";
import type { ExecutionMode } from "../tf/execution.js";
import { fitClassifier, tensorBatchSource } from "../tf/fit.js";
import { describeMachine, type MachineDescription } from "./machine.js";
import { median, quantile } from "./statistics.js";
import type { BenchTarget } from "./targets.js";

export interface BenchOptions {
  backend: BackendRequest;
  execution: ExecutionMode;
  batchSize: number;
  steps: number;
  warmup: number;
  learningRate: number;
  seed: number;
}

export interface BenchResult {
  implementation: string;
  workflow: string;
  backend: string;
  /** graph: one TensorFlow function per step; eager: op by op through tfjs-layers. */
  execution: ExecutionMode;
  /** Why graph execution was not used, when it was requested. */
  executionFallback?: string;
  device: string;
  tensorflowVersion?: string;
  tfjsVersion: string;
  batchSize: number;
  steps: number;
  warmup: number;
  msPerStep: { median: number; p10: number; p90: number };
  /** Process CPU time (all threads) per step: the work done, less sensitive to other load than wall time. */
  cpuMsPerStep: number;
  imagesPerSecond: number;
  /** One epoch of the workflow's training set at the median step time. */
  epochSeconds: number;
  peakRssBytes: number;
  machine: MachineDescription;
}

function deviceOf(backend: string, usesGpu: boolean, machine: MachineDescription): string {
  if (usesGpu) return "GPU (TensorFlow CUDA)";
  const kind = backend === "tensorflow" ? "CPU (TensorFlow)" : backend === "wasm" ? "CPU (WebAssembly, XNNPACK)" : "CPU (JavaScript)";
  return `${kind}: ${machine.cpuModel}, ${machine.cores} cores`;
}

export async function measureTraining(target: BenchTarget, options: BenchOptions): Promise<BenchResult> {
  const machine = describeMachine();
  const loaded = await loadTensorFlow(options.backend);
  const { tf } = loaded;
  const totalSteps = options.warmup + options.steps;
  const examples = totalSteps * options.batchSize;
  const images = tf.randomUniform([examples, ...target.inputShape], 0, 1, "float32", options.seed);
  const labels = tf.tidy(() => tf.oneHot(tf.randomUniform([examples], 0, target.classes, "int32", options.seed + 1), target.classes).toFloat());
  const model = await target.createModel(tf, { learningRate: options.learningRate, seed: options.seed });
  const wallMs: number[] = [];
  const cpuMs: number[] = [];
  let wallStart = performance.now();
  let cpuStart = process.cpuUsage();
  const restart = () => {
    wallStart = performance.now();
    cpuStart = process.cpuUsage();
  };
  const fit = await fitClassifier(tf, model, tensorBatchSource(tf, images, labels, { batchSize: options.batchSize, seed: options.seed, shuffle: false }), {
    epochs: 1,
    seed: options.seed,
    execution: options.execution,
    onBatchBegin: () => restart(),
    onBatchEnd: (batch) => {
      // The loop has read the batch loss back (a sync point), so the step is done.
      const cpu = process.cpuUsage(cpuStart);
      if (batch >= options.warmup) {
        wallMs.push(performance.now() - wallStart);
        cpuMs.push((cpu.user + cpu.system) / 1000);
      }
    },
  });
  tf.dispose([images, labels]);
  model.dispose();
  const medianMs = median(wallMs);
  const { usesGpu } = loaded;
  return {
    implementation: `podtrain (TensorFlow.js ${tf.version.tfjs})`,
    workflow: target.workflow,
    backend: loaded.backend,
    execution: fit.execution,
    ...(fit.fallbackReason ? { executionFallback: fit.fallbackReason } : {}),
    device: deviceOf(loaded.backend, usesGpu, machine),
    ...(loaded.tensorflowVersion ? { tensorflowVersion: loaded.tensorflowVersion } : {}),
    tfjsVersion: tf.version.tfjs,
    batchSize: options.batchSize,
    steps: wallMs.length,
    warmup: options.warmup,
    msPerStep: { median: medianMs, p10: quantile(wallMs, 0.1), p90: quantile(wallMs, 0.9) },
    cpuMsPerStep: median(cpuMs),
    imagesPerSecond: (options.batchSize * 1000) / medianMs,
    epochSeconds: (target.epochExamples / options.batchSize) * (medianMs / 1000),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    machine,
  };
}
