// The epoch loop for in-memory image classifiers (MNIST; the benchmark), shared so that
// `train bench` measures exactly what `train <workflow>` runs.
//
// Each step runs either as one TensorFlow graph function (src/tf/graph/, native backend, the
// default) or eagerly through tfjs-layers' trainOnBatch (wasm/cpu backends, or models with a
// layer the graph compiler does not lower). Both use the same seeded shuffle, so a run's batch
// order is reproducible; with graph execution the dropout masks are too.
import type { LayersModel, Tensor } from "@tensorflow/tfjs";
import { deriveSeed, SeededRandom } from "../data/random.js";
import type { TensorFlowModule } from "./backend.js";
import type { ExecutionMode } from "./execution.js";
import { createGraphTrainStep, type GraphTrainStep } from "./graph/train-step.js";

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

type StepFunction = (images: Tensor, labels: Tensor) => Promise<BatchLogs>;

function eagerStep(model: LayersModel): StepFunction {
  return async (images, labels) => {
    const [loss = Number.NaN, accuracy = Number.NaN] = (await model.trainOnBatch(images, labels)) as number[];
    return { loss, accuracy };
  };
}

function graphStep(tf: TensorFlowModule, step: GraphTrainStep): StepFunction {
  return async (images, labels) => {
    const { loss, accuracy } = step.step(images, labels);
    // Reading the loss waits for the step, as Keras' fit does for its per-batch logs.
    const result = { loss: loss.dataSync()[0] ?? Number.NaN, accuracy: accuracy.dataSync()[0] ?? Number.NaN };
    tf.dispose([loss, accuracy]);
    return result;
  };
}

/** Trains `model` (compiled, softmax output, one-hot labels) on in-memory tensors. */
export async function fitClassifier(tf: TensorFlowModule, model: LayersModel, images: Tensor, labels: Tensor, options: FitOptions): Promise<FitResult> {
  const count = images.shape[0] ?? 0;
  let graph: GraphTrainStep | undefined;
  let fallbackReason: string | undefined;
  if (options.execution === "graph") {
    const created = createGraphTrainStep(tf, model, options.seed);
    if ("unsupported" in created) fallbackReason = created.unsupported;
    else graph = created;
  }
  const step = graph ? graphStep(tf, graph) : eagerStep(model);
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
        const logs = await step(batchImages, batchLabels);
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
    graph?.dispose();
  }
  return { execution: graph ? "graph" : "eager", ...(fallbackReason ? { fallbackReason } : {}), epochsCompleted };
}
