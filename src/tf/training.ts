import { roundMetrics } from "../core/metrics.js";
import type { LoadedTensorFlow, TensorFlowModule } from "./backend.js";
import type { Progress, Reporter } from "../runtime/reporter.js";
import { yieldToEventLoop } from "../core/event-loop.js";
import type { ExecutionMode } from "./execution.js";
import type { FitOptions } from "./fit.js";
import { LAYERS_MODEL_FORMAT } from "./model-io.js";
import { DATA_VERSION_TAG, EXECUTION_FALLBACK_TAG, EXECUTION_TAG, stageTag } from "../tracking/tags.js";

// Helpers the TensorFlow.js workflows (MNIST, CIFAR-10) share: the MLmodel flavor they log,
// metric rounding for log lines, and evaluation streamed batch by batch so a test set never has
// to be one big float tensor.

type LayersModel = Awaited<ReturnType<TensorFlowModule["loadLayersModel"]>>;

/** What these helpers record through: a workflow's context is one (tf/ does not import workflows/). */
export interface RunRecorder {
  reporter: Reporter;
  setTags(tags: Record<string, string>): Promise<void>;
  logParams(params: Record<string, string | number | boolean>): Promise<void>;
}

/** What the epoch reporting needs: the epoch count, the reporter and the once-per-epoch metric log. */
export interface EpochRecorder {
  reporter: Reporter;
  params: { epochs: number };
  logEpochMetrics(metrics: Record<string, number>, epoch: number): Promise<void>;
}

/** The `tfjs` flavor written into MLmodel: how to load the model and what produced it. */
export function tfjsFlavor(tf: TensorFlowModule, backend: string, tensorflowVersion: string | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    format: LAYERS_MODEL_FORMAT,
    model_json: "model.json",
    tfjs_version: tf.version.tfjs,
    backend,
    ...(tensorflowVersion ? { tensorflow_version: tensorflowVersion } : {}),
    ...extra,
  };
}

export interface HostBatch {
  /** Flat NHWC floats. */
  images: Float32Array;
  /** Flat one-hot labels. */
  labels: Float32Array;
  count: number;
}

export interface EvaluationResult {
  /** Mean categorical cross-entropy (without regularisation terms, like Keras' evaluate). */
  loss: number;
  accuracy: number;
  count: number;
  /** Every image's class probabilities, row-major [count × classes], when asked for (the evaluation report). */
  probabilities?: Float32Array[];
}

/** Mean loss and accuracy of a softmax classifier over batches built on the host, one at a time. */
export async function evaluateBatches(tf: TensorFlowModule, model: LayersModel, batches: Iterable<HostBatch>, imageShape: [number, number, number], signal?: AbortSignal, options: { keepProbabilities?: boolean } = {}): Promise<EvaluationResult> {
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  const kept: Float32Array[] = [];
  for (const batch of batches) {
    if (signal?.aborted) break;
    const [batchLoss, batchCorrect] = tf.tidy(() => {
      const images = tf.tensor4d(batch.images, [batch.count, ...imageShape]);
      const labels = tf.tensor2d(batch.labels, [batch.count, batch.labels.length / batch.count]);
      const probabilities = model.predict(images) as ReturnType<TensorFlowModule["tensor2d"]>;
      const loss = tf.metrics.categoricalCrossentropy(labels, probabilities).sum();
      const hits = tf.equal(tf.argMax(probabilities, 1), tf.argMax(labels, 1)).sum();
      if (options.keepProbabilities) kept.push(probabilities.dataSync() as Float32Array);
      return [loss.dataSync()[0] ?? Number.NaN, hits.dataSync()[0] ?? 0];
    });
    lossSum += batchLoss;
    correct += batchCorrect;
    count += batch.count;
    await yieldToEventLoop();
  }
  return { loss: count > 0 ? lossSum / count : Number.NaN, accuracy: count > 0 ? correct / count : Number.NaN, count, ...(options.keepProbabilities ? { probabilities: kept } : {}) };
}

export interface ImageDatasetSummary {
  dataVersion: string;
  source: string;
  fileHashes: Record<string, string>;
  train: { count: number };
  test: { count: number };
}

export type RecordingStage = "fit" | "evaluate";

/**
 * What a CNN stage records about its data and backend. MLflow params cannot change once logged,
 * and the stages of one run may run on different machines (a GPU fit pod, a CPU evaluate pod),
 * so the device and build facts of every stage are stage-scoped tags (`podtrain.<stage>.device`
 * …); only fit logs them as params too, describing how the model was trained. The lineage tags
 * (`data.*`) are written once, by fit: they say what the model was trained on, and evaluate's
 * own read of the data (a test set only) must not overwrite them.
 */
export async function recordImageRunInputs(context: RunRecorder, loaded: LoadedTensorFlow, dataset: ImageDatasetSummary, stage: RecordingStage): Promise<void> {
  const facts = {
    backend: loaded.backend,
    device: loaded.usesGpu ? "gpu" : "cpu",
    tensorflow_version: loaded.tensorflowVersion ?? "none",
    // Which TensorFlow library `npm run setup` provisioned: cpu (tensorflow-cpu) or gpu (the CUDA build).
    tensorflow_build: loaded.provision?.variant ?? "none",
    tfjs_version: loaded.tf.version.tfjs,
  };
  const stageTags = Object.fromEntries(Object.entries(facts).map(([name, value]) => [stageTag(stage, name), value]));
  if (stage === "fit") {
    await context.setTags({
      [DATA_VERSION_TAG]: dataset.dataVersion,
      "data.source": dataset.source,
      "data.train_images": String(dataset.train.count),
      "data.test_images": String(dataset.test.count),
      ...Object.fromEntries(Object.entries(dataset.fileHashes).map(([file, hash]) => [`data.sha256.${file}`, hash])),
      ...stageTags,
    });
    await context.logParams({
      resolved_backend: facts.backend,
      resolved_device: facts.device,
      tensorflow_version: facts.tensorflow_version,
      tensorflow_build: facts.tensorflow_build,
      tfjs_version: facts.tfjs_version,
    });
  } else {
    await context.setTags({ ...stageTags, [stageTag(stage, "data_version")]: dataset.dataVersion, [stageTag(stage, "test_images")]: String(dataset.test.count) });
  }
}

/** One log line per read of the data (fit and evaluate of one process share the read). */
export function logImageRunInputs(context: Pick<RunRecorder, "reporter">, loaded: LoadedTensorFlow, dataset: ImageDatasetSummary): void {
  context.reporter.log.info({ backend: loaded.backend, tensorflow: loaded.tensorflowVersion, train: dataset.train.count, test: dataset.test.count, data: dataset.source }, "data and backend ready");
}

/** Records how the steps ran (tag podtrain.execution) and, after a fallback to eager, why. */
export async function recordExecution(context: RunRecorder, step: { execution: ExecutionMode; fallbackReason?: string }): Promise<void> {
  await context.setTags({ [EXECUTION_TAG]: step.execution, ...(step.fallbackReason ? { [EXECUTION_FALLBACK_TAG]: step.fallbackReason.slice(0, 5000) } : {}) });
  if (step.fallbackReason) context.reporter.log.info({ reason: step.fallbackReason }, "training eagerly: graph execution is not available");
}

/**
 * Progress bar, epoch log line and epoch metrics for the shared loop: train_loss/accuracy,
 * val_loss/accuracy, epoch_seconds, images_per_second (the epoch's), fit_seconds and
 * fit_images_per_second (all epochs so far), plus the workflow's own (learning rate).
 */
export function epochReporting(context: EpochRecorder, batchesPerEpoch: number, extraMetrics: (epoch: number) => Record<string, number> = () => ({})): Pick<FitOptions, "onEpochBegin" | "onBatchEnd" | "onEpochEnd"> & { stop(): void } {
  const { reporter, params } = context;
  let progress: Progress | undefined;
  // Over the whole fit (the epochs this process trained), not just the last epoch.
  let fitSeconds = 0;
  let fitExamples = 0;
  return {
    onEpochBegin: (epoch, firstBatch) => {
      progress = reporter.startProgress(`epoch ${epoch + 1}/${params.epochs}`, batchesPerEpoch);
      if (firstBatch > 0) progress.update(firstBatch);
    },
    onBatchEnd: (batch, logs) => progress?.update(batch + 1, { loss: logs.loss.toFixed(4) }),
    onEpochEnd: async (epoch, logs) => {
      progress?.stop();
      fitSeconds += logs.seconds;
      fitExamples += logs.examples;
      const metrics: Record<string, number> = {
        train_loss: logs.loss, train_accuracy: logs.accuracy, ...extraMetrics(epoch), epoch_seconds: logs.seconds, images_per_second: logs.examples / logs.seconds,
        fit_seconds: fitSeconds, fit_images_per_second: fitExamples / fitSeconds,
      };
      if (logs.val_loss !== undefined) metrics.val_loss = logs.val_loss;
      if (logs.val_accuracy !== undefined) metrics.val_accuracy = logs.val_accuracy;
      await context.logEpochMetrics(metrics, epoch);
      reporter.log.info({ epoch: epoch + 1, ...roundMetrics(metrics) }, `epoch ${epoch + 1}/${params.epochs} done`);
    },
    stop: () => progress?.stop(),
  };
}
