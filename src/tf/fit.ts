// The training step and the epoch loop for in-memory image classifiers (MNIST; the benchmark),
// shared so that `train bench` measures exactly what `train <workflow>` runs. CIFAR-10, whose
// batches are built on the host, uses the step alone.
//
// Each step runs either as one TensorFlow graph function (src/tf/graph/, native backend, the
// default) or eagerly through tfjs-layers' trainOnBatch (wasm/cpu backends, or models with a
// layer the graph compiler does not lower). Both use the same seeded shuffle, so a run's batch
// order is reproducible; with graph execution the dropout masks are too.
import type { LayersModel, Tensor } from "@tensorflow/tfjs";
import { deriveSeed, SeededRandom } from "../data/random.js";
import type { TensorFlowModule } from "./backend.js";
import type { ExecutionMode } from "./execution.js";
import { createGraphTrainStep } from "./graph/train-step.js";

export type { ExecutionMode } from "./execution.js";

export interface BatchLogs {
  loss: number;
  accuracy: number;
}

export interface EpochLogs extends BatchLogs {
  val_loss?: number;
  val_accuracy?: number;
  /** Examples trained on in this epoch. */
  examples: number;
}

export interface FitOptions {
  epochs: number;
  batchSize: number;
  seed: number;
  /** Requested mode; graph falls back to eager (reported in the result) when it is unavailable. */
  execution: ExecutionMode;
  shuffle?: boolean;
  validation?: { images: Tensor; labels: Tensor; batchSize?: number };
  signal?: AbortSignal;
  onEpochBegin?(epoch: number): void | Promise<void>;
  onBatchBegin?(batch: number): void | Promise<void>;
  onBatchEnd?(batch: number, logs: BatchLogs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: EpochLogs): void | Promise<void>;
}

export interface FitResult {
  execution: ExecutionMode;
  /** Why graph execution was not used, when it was requested. */
  fallbackReason?: string;
  epochsCompleted: number;
}

export interface TrainStep {
  execution: ExecutionMode;
  /** Why graph execution was not used, when it was requested. */
  fallbackReason?: string;
  /** Trains on one batch and returns its loss and accuracy (a sync point, as Keras' logs are). */
  run(images: Tensor, labels: Tensor): Promise<BatchLogs>;
  dispose(): void;
}

/** One training step for `model`: a graph function when requested and possible, else trainOnBatch. */
export function createTrainStep(tf: TensorFlowModule, model: LayersModel, options: { execution: ExecutionMode; seed: number }): TrainStep {
  let fallbackReason: string | undefined;
  if (options.execution === "graph") {
    const graph = createGraphTrainStep(tf, model, options.seed);
    if (!("unsupported" in graph)) {
      return {
        execution: "graph",
        async run(images, labels) {
          const { loss, accuracy } = graph.step(images, labels);
          const logs = { loss: loss.dataSync()[0] ?? Number.NaN, accuracy: accuracy.dataSync()[0] ?? Number.NaN };
          tf.dispose([loss, accuracy]);
          return logs;
        },
        dispose: () => graph.dispose(),
      };
    }
    fallbackReason = graph.unsupported;
  }
  return {
    execution: "eager",
    ...(fallbackReason ? { fallbackReason } : {}),
    async run(images, labels) {
      const [loss = Number.NaN, accuracy = Number.NaN] = (await model.trainOnBatch(images, labels)) as number[];
      return { loss, accuracy };
    },
    dispose() {},
  };
}

/** Trains `model` (compiled, softmax output, one-hot labels) on in-memory tensors. */
export async function fitClassifier(tf: TensorFlowModule, model: LayersModel, images: Tensor, labels: Tensor, options: FitOptions): Promise<FitResult> {
  const count = images.shape[0] ?? 0;
  const step = createTrainStep(tf, model, options);
  const order = new Int32Array(count);
  let epochsCompleted = 0;
  try {
    for (let epoch = 0; epoch < options.epochs && !options.signal?.aborted; epoch += 1) {
      await options.onEpochBegin?.(epoch);
      order.forEach((_, index) => (order[index] = index));
      if (options.shuffle ?? true) new SeededRandom(deriveSeed(options.seed, epoch)).shuffle(order);
      let lossSum = 0;
      let accuracySum = 0;
      let seen = 0;
      for (let start = 0, batch = 0; start < count; start += options.batchSize, batch += 1) {
        if (options.signal?.aborted) break;
        await options.onBatchBegin?.(batch);
        const end = Math.min(start + options.batchSize, count);
        const indices = tf.tensor1d(order.subarray(start, end), "int32");
        const batchImages = tf.gather(images, indices);
        const batchLabels = tf.gather(labels, indices);
        const logs = await step.run(batchImages, batchLabels);
        tf.dispose([indices, batchImages, batchLabels]);
        const size = end - start;
        lossSum += logs.loss * size;
        accuracySum += logs.accuracy * size;
        seen += size;
        await options.onBatchEnd?.(batch, logs);
      }
      if (options.signal?.aborted) break;
      const epochLogs: EpochLogs = { loss: lossSum / Math.max(seen, 1), accuracy: accuracySum / Math.max(seen, 1), examples: seen };
      if (options.validation && (options.validation.images.shape[0] ?? 0) > 0) {
        const [loss, accuracy] = model.evaluate(options.validation.images, options.validation.labels, { batchSize: options.validation.batchSize ?? 1024 }) as Tensor[];
        epochLogs.val_loss = (await loss!.data())[0];
        epochLogs.val_accuracy = (await accuracy!.data())[0];
        tf.dispose([loss!, accuracy!]);
      }
      epochsCompleted += 1;
      await options.onEpochEnd?.(epoch, epochLogs);
    }
  } finally {
    step.dispose();
  }
  return { execution: step.execution, ...(step.fallbackReason ? { fallbackReason: step.fallbackReason } : {}), epochsCompleted };
}
