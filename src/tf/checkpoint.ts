// A CNN's training state as a checkpoint: every weight of the model (batch-norm statistics
// included), the optimizer's slots and iteration count, and the loop position (epoch, batch,
// global step, the epoch's running sums). The batch order, augmentation and dropout masks are
// functions of (seed, epoch, step), so the position is all the RNG state there is.
// Tensors travel as one little-endian float32 blob; the manifest says where each one lies.
import type { LayersModel, Tensor } from "@tensorflow/tfjs";
import type { Checkpoint, CheckpointStore } from "../runtime/checkpoints.js";
import type { Reporter } from "../runtime/reporter.js";
import type { TensorFlowModule } from "./backend.js";
import type { CheckpointPolicy, ExecutionMode, FitOptions, LoopPosition, TrainStep } from "./fit.js";
import { RESUMED_FROM_TAG } from "../tracking/tags.js";

const MILLISECONDS_PER_MINUTE = 60_000;

interface TensorEntry {
  kind: "weight" | "slot";
  name: string;
  shape: number[];
  /** In float32 elements from the start of the blob. */
  offset: number;
}

export interface TrainingState extends Record<string, unknown> {
  position: LoopPosition;
  execution: ExecutionMode;
  iterations: number;
  tensors: TensorEntry[];
}

interface WeightVariable {
  readonly shape: number[];
  readonly dtype: string;
  read(): Tensor;
  write(value: Tensor): unknown;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((product, size) => product * size, 1);

export async function encodeTrainingState(model: LayersModel, step: TrainStep, position: LoopPosition): Promise<{ state: TrainingState; data: Uint8Array }> {
  const variables = model.weights as unknown as WeightVariable[];
  const optimizer = await step.optimizerState();
  const tensors: TensorEntry[] = [];
  const values: Float32Array[] = [];
  let offset = 0;
  const add = async (kind: TensorEntry["kind"], name: string, tensor: Tensor) => {
    if (tensor.dtype !== "float32") throw new Error(`cannot checkpoint ${name}: dtype ${tensor.dtype}`);
    const data = (await tensor.data()) as Float32Array;
    tensors.push({ kind, name, shape: [...tensor.shape], offset });
    values.push(data);
    offset += data.length;
  };
  for (const [index, variable] of variables.entries()) await add("weight", `weight_${index}`, variable.read());
  for (const slot of optimizer.slots) await add("slot", slot.name, slot.tensor);
  const blob = new Float32Array(offset);
  values.forEach((value, index) => blob.set(value, tensors[index]!.offset));
  return { state: { position, execution: step.execution, iterations: optimizer.iterations, tensors }, data: new Uint8Array(blob.buffer) };
}

/** Loads a checkpoint into `model` and `step`; throws saying why when it does not fit them. */
export async function restoreTrainingState(tf: TensorFlowModule, model: LayersModel, step: TrainStep, checkpoint: Checkpoint): Promise<LoopPosition> {
  const state = checkpoint.state as TrainingState;
  if (state.execution !== step.execution) throw new Error(`it was written by ${state.execution} execution, this run trains with ${step.execution}`);
  const blob = new Float32Array(checkpoint.data.buffer.slice(checkpoint.data.byteOffset, checkpoint.data.byteOffset + checkpoint.data.byteLength));
  const read = (entry: TensorEntry) => tf.tensor(blob.subarray(entry.offset, entry.offset + sizeOf(entry.shape)), entry.shape, "float32");
  const variables = model.weights as unknown as WeightVariable[];
  const weights = state.tensors.filter((entry) => entry.kind === "weight");
  if (weights.length !== variables.length || weights.some((entry, index) => entry.shape.join("x") !== variables[index]!.shape.join("x"))) {
    throw new Error(`its ${weights.length} weights do not match the model's ${variables.length} (another architecture?)`);
  }
  const slots = state.tensors.filter((entry) => entry.kind === "slot").map((entry) => ({ name: entry.name, tensor: read(entry) }));
  try {
    await step.restoreOptimizerState({ iterations: state.iterations, slots });
  } catch (error) {
    tf.dispose(slots.map((slot) => slot.tensor));
    throw error;
  }
  weights.forEach((entry, index) => {
    const value = read(entry);
    variables[index]!.write(value);
    value.dispose();
  });
  return state.position;
}

export interface CheckpointParams {
  checkpoint_every_epochs: number;
  checkpoint_every_minutes: number;
}

/**
 * Resume and checkpoint options for fitClassifier, wired to the run's checkpoint store: resumes
 * from the newest checkpoint that loads (recording podtrain.resumed_from), and writes one every
 * `checkpoint_every_epochs`, at least every `checkpoint_every_minutes`, and on a signal.
 */
/** What checkpointing needs of a run: a workflow's context is one (tf/ does not import workflows/). */
export interface CheckpointContext {
  params: CheckpointParams;
  checkpoints: CheckpointStore;
  reporter: Reporter;
  signal: AbortSignal;
  setTags(tags: Record<string, string>): Promise<void>;
}

export function checkpointing(tf: TensorFlowModule, model: LayersModel, context: CheckpointContext): Pick<FitOptions, "resume" | "checkpoint"> {
  const store: CheckpointStore = context.checkpoints;
  const log = context.reporter.log;
  const checkpoint: CheckpointPolicy = {
    everyEpochs: context.params.checkpoint_every_epochs,
    everyMilliseconds: context.params.checkpoint_every_minutes * MILLISECONDS_PER_MINUTE,
    async write(position, step) {
      const started = performance.now();
      const { state, data } = await encodeTrainingState(model, step, position);
      let saved: { name: string; bytes: number };
      try {
        saved = await store.save(position.step, state, data);
      } catch (error) {
        // On the way out the run must still end KILLED (and exit 143), not FAILED: the retry
        // resumes from an older checkpoint instead.
        if (!context.signal.aborted) throw error;
        log.warn({ checkpoint: store.location, reason: (error as Error).message }, "could not write the checkpoint on the way out");
        return;
      }
      log.info({ checkpoint: saved.name, epoch: position.epoch, batch: position.batch, step: position.step, bytes: saved.bytes, seconds: Math.round(performance.now() - started) / 1000 }, "wrote checkpoint");
    },
  };
  return {
    checkpoint,
    async resume(step) {
      // Newest first; one that does not fit this model is skipped like a damaged one.
      const found = await store.loadNewest();
      if (!found) return undefined;
      let position: LoopPosition;
      try {
        position = await restoreTrainingState(tf, model, step, found);
      } catch (error) {
        log.warn({ checkpoint: found.location, reason: (error as Error).message }, "cannot resume from this checkpoint: training from the start");
        return undefined;
      }
      await context.setTags({ [RESUMED_FROM_TAG]: JSON.stringify({ epoch: position.epoch, batch: position.batch, step: position.step, checkpoint: found.location }) });
      log.info({ checkpoint: found.location, epoch: position.epoch, batch: position.batch, step: position.step }, "resuming from checkpoint");
      return position;
    },
  };
}
