// The training step and the one epoch loop for image classifiers (MNIST, CIFAR-10, the
// benchmark), shared so that `train bench` measures exactly what `train <workflow>` runs and so
// that stopping, checkpointing and resuming are written once. Where the batches come from is a
// BatchSource: in-memory tensors (MNIST, the benchmark) or batches built and augmented on the
// host (CIFAR-10).
//
// Each step runs either as one TensorFlow graph function (src/tf/graph/, native backend, the
// default) or eagerly through tfjs-layers' trainOnBatch (wasm/cpu backends, or models with a
// layer the graph compiler does not lower). Both use the same seeded shuffle, so a run's batch
// order is reproducible; with graph execution the dropout masks are too, which is what makes a
// resumed run end with the same weights as an uninterrupted one.
//
// A step is synchronous native work: the loop turns the event loop after every step, so a
// SIGTERM handler runs within one step of the signal, not at the end of the epoch.
import type { LayersModel, Tensor } from "@tensorflow/tfjs";
import { deriveSeed, SeededRandom } from "../data/random.js";
import { yieldToEventLoop } from "../core/event-loop.js";
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
  /** Seconds spent training and validating this epoch (across attempts when it was resumed). */
  seconds: number;
}

export interface TrainingBatch {
  images: Tensor;
  labels: Tensor;
  count: number;
}

/** Where one epoch's batches come from. */
export interface BatchSource {
  /** Batches per epoch. */
  readonly batchesPerEpoch: number;
  /**
   * The batches of `epoch` from batch `first` on (the caller disposes their tensors). Batch k
   * is the same whether or not earlier batches were skipped: skipping still draws their randomness.
   */
  batches(epoch: number, first: number): Iterable<TrainingBatch>;
}

/** Where the loop is: what a checkpoint records and a resumed run continues from. */
export interface LoopPosition {
  /** The epoch in progress (or the next one, when `batch` is 0). */
  epoch: number;
  /** Batches of `epoch` already trained. */
  batch: number;
  /** Steps trained in all epochs. */
  step: number;
  epochsCompleted: number;
  /** Running sums of the epoch in progress, so its logged means are those of an uninterrupted epoch. */
  lossSum: number;
  accuracySum: number;
  seen: number;
  seconds: number;
}

export interface CheckpointPolicy {
  everyEpochs: number;
  /** At least this often, also inside an epoch. */
  everyMilliseconds: number;
  write(position: LoopPosition, step: TrainStep): Promise<void>;
}

export interface FitOptions {
  epochs: number;
  seed: number;
  /** Requested mode; graph falls back to eager (reported in the result) when it is unavailable. */
  execution: ExecutionMode;
  /** Loss and accuracy on held-out data, once per epoch. */
  validate?(): Promise<BatchLogs>;
  signal?: AbortSignal;
  /** Restores weights and optimizer state into the fresh step; returns where to continue. */
  resume?(step: TrainStep): Promise<LoopPosition | undefined>;
  checkpoint?: CheckpointPolicy;
  /** Called once the step exists (how it runs), before any training. */
  onStart?(step: TrainStep, position: LoopPosition): void | Promise<void>;
  /** Called at the start of every epoch, also one resumed in the middle (set its learning rate here). */
  onEpochBegin?(epoch: number, firstBatch: number): void | Promise<void>;
  onBatchBegin?(batch: number): void | Promise<void>;
  onBatchEnd?(batch: number, logs: BatchLogs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: EpochLogs): void | Promise<void>;
}

export interface FitResult {
  execution: ExecutionMode;
  /** Why graph execution was not used, when it was requested. */
  fallbackReason?: string;
  epochsCompleted: number;
  /** The signal stopped training (after writing a checkpoint when there is a policy). */
  interrupted: boolean;
}

export interface OptimizerState {
  /** Steps the optimizer has taken (Adam's bias correction, the graph step's dropout seed). */
  iterations: number;
  /** Per-weight slot tensors (Adam moments, momentum accumulations), in the step's own order. */
  slots: Array<{ name: string; tensor: Tensor }>;
}

export interface TrainStep {
  execution: ExecutionMode;
  /** Why graph execution was not used, when it was requested. */
  fallbackReason?: string;
  /** Trains on one batch and returns its loss and accuracy (a sync point, as Keras' logs are). */
  run(images: Tensor, labels: Tensor): Promise<BatchLogs>;
  /** The optimizer's state; the tensors stay owned by the step (read them, do not dispose them). */
  optimizerState(): Promise<OptimizerState>;
  /** Replaces the optimizer's state; takes ownership of the tensors. */
  restoreOptimizerState(state: OptimizerState): Promise<void>;
  dispose(): void;
}

interface TfjsOptimizer {
  getWeights(): Promise<Array<{ name: string; tensor: Tensor }>>;
  setWeights(weights: Array<{ name: string; tensor: Tensor }>): Promise<void>;
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
        optimizerState: async () => {
          const { iterations, slots } = graph.state();
          return { iterations, slots: slots.map((tensor, index) => ({ name: `slot_${index}`, tensor })) };
        },
        restoreOptimizerState: async (state) => graph.restore(state.iterations, state.slots.map((slot) => slot.tensor)),
        dispose: () => graph.dispose(),
      };
    }
    fallbackReason = graph.unsupported;
  }
  const optimizer = model.optimizer as unknown as TfjsOptimizer;
  let held: Tensor[] = [];
  return {
    execution: "eager",
    ...(fallbackReason ? { fallbackReason } : {}),
    async run(images, labels) {
      const [loss = Number.NaN, accuracy = Number.NaN] = (await model.trainOnBatch(images, labels)) as number[];
      return { loss, accuracy };
    },
    async optimizerState() {
      // tfjs: the iteration count first, then its slot variables (none before the first step).
      const [iterations, ...slots] = await optimizer.getWeights();
      tf.dispose(held);
      held = iterations ? [iterations.tensor] : [];
      return { iterations: iterations ? (iterations.tensor.dataSync()[0] ?? 0) : 0, slots };
    },
    async restoreOptimizerState(state) {
      await optimizer.setWeights([{ name: "iter", tensor: tf.scalar(state.iterations, "int32") }, ...state.slots]);
      tf.dispose(state.slots.map((slot) => slot.tensor));
    },
    dispose: () => tf.dispose(held),
  };
}

/** Batches of in-memory tensors, shuffled per epoch from (seed, epoch). */
export function tensorBatchSource(tf: TensorFlowModule, images: Tensor, labels: Tensor, options: { batchSize: number; seed: number; shuffle?: boolean }): BatchSource {
  const count = images.shape[0] ?? 0;
  const order = new Int32Array(count);
  return {
    batchesPerEpoch: Math.ceil(count / options.batchSize),
    *batches(epoch, first) {
      order.forEach((_, index) => (order[index] = index));
      if (options.shuffle ?? true) new SeededRandom(deriveSeed(options.seed, epoch)).shuffle(order);
      for (let start = first * options.batchSize; start < count; start += options.batchSize) {
        const end = Math.min(start + options.batchSize, count);
        const indices = tf.tensor1d(order.subarray(start, end), "int32");
        const batch = { images: tf.gather(images, indices), labels: tf.gather(labels, indices), count: end - start };
        indices.dispose();
        yield batch;
      }
    },
  };
}

export function startPosition(): LoopPosition {
  return { epoch: 0, batch: 0, step: 0, epochsCompleted: 0, lossSum: 0, accuracySum: 0, seen: 0, seconds: 0 };
}

/** Trains `model` (compiled; softmax or logits output, one-hot labels) on the batches of `source`. */
export async function fitClassifier(tf: TensorFlowModule, model: LayersModel, source: BatchSource, options: FitOptions): Promise<FitResult> {
  const step = createTrainStep(tf, model, options);
  const result = (interrupted: boolean): FitResult => ({ execution: step.execution, ...(step.fallbackReason ? { fallbackReason: step.fallbackReason } : {}), epochsCompleted: position.epochsCompleted, interrupted });
  let position = startPosition();
  try {
    position = (await options.resume?.(step)) ?? position;
    await options.onStart?.(step, position);
    const policy = options.checkpoint;
    let lastCheckpointStep = position.step;
    let lastCheckpointTime = performance.now();
    const checkpoint = async () => {
      if (!policy || position.step === lastCheckpointStep) return;
      await policy.write(position, step);
      lastCheckpointStep = position.step;
      lastCheckpointTime = performance.now();
    };
    while (position.epoch < options.epochs) {
      if (options.signal?.aborted) break;
      await options.onEpochBegin?.(position.epoch, position.batch);
      let segmentStarted = performance.now();
      const batches = source.batches(position.epoch, position.batch)[Symbol.iterator]();
      while (position.batch < source.batchesPerEpoch && !options.signal?.aborted) {
        // Before the batch is built: `train bench` times building it (gather, augmentation) and the step.
        await options.onBatchBegin?.(position.batch);
        const next = batches.next();
        if (next.done) throw new Error(`the batch source ended after ${position.batch} of ${source.batchesPerEpoch} batches`);
        const batch = next.value;
        const logs = await step.run(batch.images, batch.labels);
        tf.dispose([batch.images, batch.labels]);
        position = { ...position, batch: position.batch + 1, step: position.step + 1, lossSum: position.lossSum + logs.loss * batch.count, accuracySum: position.accuracySum + logs.accuracy * batch.count, seen: position.seen + batch.count };
        await options.onBatchEnd?.(position.batch - 1, logs);
        // Let a pending SIGTERM/SIGINT handler run before the next synchronous step.
        await yieldToEventLoop();
        if (policy && performance.now() - lastCheckpointTime >= policy.everyMilliseconds && position.batch < source.batchesPerEpoch) {
          position = { ...position, seconds: position.seconds + (performance.now() - segmentStarted) / 1000 };
          segmentStarted = performance.now();
          await checkpoint();
        }
      }
      position = { ...position, seconds: position.seconds + (performance.now() - segmentStarted) / 1000 };
      if (options.signal?.aborted) break;
      const validationStarted = performance.now();
      const validation = await options.validate?.();
      // Stopped while validating: the checkpoint below resumes at this epoch's validation.
      if (options.signal?.aborted) break;
      const seen = Math.max(position.seen, 1);
      const epochLogs: EpochLogs = {
        loss: position.lossSum / seen,
        accuracy: position.accuracySum / seen,
        examples: position.seen,
        seconds: position.seconds + (performance.now() - validationStarted) / 1000,
        ...(validation ? { val_loss: validation.loss, val_accuracy: validation.accuracy } : {}),
      };
      await options.onEpochEnd?.(position.epoch, epochLogs);
      position = { ...startPosition(), epoch: position.epoch + 1, step: position.step, epochsCompleted: position.epochsCompleted + 1 };
      if (policy && (position.epoch >= options.epochs || position.epochsCompleted % policy.everyEpochs === 0 || performance.now() - lastCheckpointTime >= policy.everyMilliseconds)) await checkpoint();
    }
    if (options.signal?.aborted) {
      await checkpoint();
      return result(true);
    }
    return result(false);
  } finally {
    step.dispose();
  }
}
