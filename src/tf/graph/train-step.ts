// One training step of a tfjs-layers classifier as one TensorFlow function: forward pass, softmax
// cross-entropy (plus L2 penalties), backward pass and the optimizer update, executed by
// TensorFlow as a graph.
//
// Why: tfjs-node runs every op separately, each a round trip through JavaScript (tfjs-layers'
// fit loop, the gradient tape, tensor bookkeeping), and TensorFlow sees one op at a time. Keras
// hands TensorFlow the whole step, and its graph optimizations apply (oneDNN fuses Conv2D +
// BiasAdd + ReLU, and the bias gradient into the filter gradient). Doing the same here is what
// closes the gap (benchmarks/README.md).
//
// The tfjs model stays the owner of the weights: each step reads its variables, and writes the
// updated tensors back (a handle swap, no copy), so saving, evaluating and predicting are
// unchanged. The optimizer state lives here, in the same form tfjs-core keeps it
// (src/tf/graph/optimizers.ts), so a graph step and a tfjs step give the same weights.
//
// Models: a chain of layers with a lowering (src/tf/graph/layers.ts), one input, and either a
// softmax output trained with categoricalCrossentropy or a logits output trained with
// LOGITS_CROSS_ENTROPY (src/tf/losses.ts). Anything else is reported as unsupported and trained eagerly.
import type { LayersModel, Tensor } from "@tensorflow/tfjs";
import type { TensorFlowModule } from "../backend.js";
import { LOGITS_CROSS_ENTROPY } from "../losses.js";
import { FunctionGraph, type GraphTensor } from "./function-def.js";
import { LOWERINGS, UnsupportedLayerError, type LayerLike, type Lowered } from "./layers.js";
import { graphExecutionUnavailable, registerFunction, type NativeFunction } from "./native-function.js";
import { currentLearningRate, graphOptimizerFor } from "./optimizers.js";

const FLOAT: { type: "float32" } = { type: "float32" };
const INT32: { type: "int32" } = { type: "int32" };


interface WeightVariable {
  readonly shape: readonly number[];
  read(): Tensor;
  write(value: Tensor): unknown;
}

interface ChainLayer extends LayerLike {
  readonly name: string;
  readonly inboundNodes: ReadonlyArray<{ inboundLayers: ReadonlyArray<{ name: string; getClassName(): string }> }>;
  readonly outputShape: ReadonlyArray<number | null> | ReadonlyArray<ReadonlyArray<number | null>>;
}

export interface StepResult {
  /** Mean loss of the batch, L2 penalties included as tfjs reports it (scalar; the caller disposes it). */
  loss: Tensor;
  /** Fraction of the batch classified correctly (scalar tensor). */
  accuracy: Tensor;
}

export interface GraphTrainStep {
  readonly functionName: string;
  /** Trains on one batch (NHWC images, one-hot labels) and updates the model's weights. */
  step(images: Tensor, labels: Tensor): StepResult;
  /** Steps taken and the optimizer slots, per weight in order (owned by the step: do not dispose). */
  state(): { iterations: number; slots: Tensor[] };
  /** Continues from a checkpoint: takes ownership of `slots` (same count and shapes as state()'s). */
  restore(iterations: number, slots: Tensor[]): void;
  dispose(): void;
}

/** The model's layers as a chain (input layer excluded); throws when it is not one. */
function chainOf(model: LayersModel): ChainLayer[] {
  const layers = (model.layers as unknown as ChainLayer[]).filter((layer) => layer.getClassName() !== "InputLayer");
  if ((model.inputs?.length ?? 1) !== 1 || (model.outputs?.length ?? 1) !== 1) throw new UnsupportedLayerError("only single-input, single-output models are lowered");
  layers.forEach((layer, index) => {
    const inbound = layer.inboundNodes.length === 1 ? layer.inboundNodes[0]!.inboundLayers : [];
    const expected = index === 0 ? inbound[0]?.getClassName() === "InputLayer" : inbound[0]?.name === layers[index - 1]!.name;
    if (inbound.length !== 1 || !expected) throw new UnsupportedLayerError(`layer ${layer.name} is not part of a plain chain (branches and shared layers are not lowered)`);
  });
  if (layers.length === 0) throw new UnsupportedLayerError("the model has no layers");
  // tfjs moves a frozen layer's weights to nonTrainableWeights, which the lowerings do not expect.
  const frozen = layers.find((layer) => (layer as unknown as { trainable: boolean }).trainable === false && layer.trainableWeights.length + layer.nonTrainableWeights.length > 0);
  if (frozen) throw new UnsupportedLayerError(`layer ${frozen.name} is frozen (trainable: false); frozen layers are not lowered`);
  return layers;
}

function shapeWithoutBatch(shape: ChainLayer["outputShape"]): number[] {
  const single = (Array.isArray(shape[0]) ? shape[0] : shape) as ReadonlyArray<number | null>;
  return single.slice(1).map((size) => size ?? -1);
}

/** "softmax": the last layer ends in softmax, loss categoricalCrossentropy; "logits": LOGITS_CROSS_ENTROPY on a linear output. */
function lossMode(model: LayersModel, last: ChainLayer): "softmax" | "logits" {
  const loss = (model as unknown as { loss: unknown }).loss;
  const activation = last.getConfig().activation ?? "linear";
  if (loss === "categoricalCrossentropy") {
    if (activation !== "softmax") throw new UnsupportedLayerError("categoricalCrossentropy is lowered only after a softmax output layer");
    return "softmax";
  }
  if (typeof loss === "function" && (loss as { [LOGITS_CROSS_ENTROPY]?: boolean })[LOGITS_CROSS_ENTROPY]) {
    if (activation !== "linear") throw new UnsupportedLayerError("a logits loss needs a linear output layer");
    return "logits";
  }
  throw new UnsupportedLayerError(`loss ${typeof loss === "function" ? "function" : JSON.stringify(loss)} is not lowered (categoricalCrossentropy or LOGITS_CROSS_ENTROPY are)`);
}

export interface TrainStepGraph {
  graph: FunctionGraph;
  weightCount: number;
  stateCount: number;
  slotsPerWeight: number;
}

/** Builds the step function's graph; throws UnsupportedLayerError naming what cannot be lowered. */
export function buildTrainStepGraph(model: LayersModel): TrainStepGraph {
  const layers = chainOf(model);
  lossMode(model, layers.at(-1)!);
  const optimizer = graphOptimizerFor(model.optimizer);
  const graph = new FunctionGraph();
  const images = graph.input("images", "float32");
  const labels = graph.input("labels", "float32");
  const learningRate = graph.input("learning_rate", "float32");
  const stepNumber = graph.input("step", "float32"); // 1-based, as Adam's bias correction counts
  const seed = graph.input("seed", "int32");
  const weightCount = layers.reduce((sum, layer) => sum + layer.trainableWeights.length, 0);
  const stateCount = layers.reduce((sum, layer) => sum + layer.nonTrainableWeights.length, 0);
  const weights = Array.from({ length: weightCount }, (_, index) => graph.input(`weight_${index}`, "float32"));
  const slots = Array.from({ length: weightCount }, (_, index) => Array.from({ length: optimizer.slotsPerWeight }, (_, slot) => graph.input(`slot_${index}_${slot}`, "float32")));
  const state = Array.from({ length: stateCount }, (_, index) => graph.input(`state_${index}`, "float32"));

  // Forward.
  const lowered: Array<{ lowered: Lowered; weightOffset: number; weightCount: number }> = [];
  const l2 = new Array<number>(weightCount).fill(0);
  const stateUpdates: GraphTensor[] = [];
  let activation = images;
  let weightOffset = 0;
  let stateOffset = 0;
  let inputShape = shapeWithoutBatch((layers[0]!.inboundNodes[0]!.inboundLayers[0] as unknown as ChainLayer).outputShape);
  layers.forEach((layer, layerIndex) => {
    const lowering = LOWERINGS[layer.getClassName()];
    if (!lowering) throw new UnsupportedLayerError(`layer type ${layer.getClassName()} is not lowered (${Object.keys(LOWERINGS).join(", ")} are)`);
    const layerWeights = layer.trainableWeights.length;
    const layerState = layer.nonTrainableWeights.length;
    const outputShape = shapeWithoutBatch(layer.outputShape);
    const result = lowering(layer.getConfig(), activation, {
      graph,
      weights: weights.slice(weightOffset, weightOffset + layerWeights),
      state: state.slice(stateOffset, stateOffset + layerState),
      seed,
      layerIndex,
      needsInputGradient: layerIndex > 0,
      isLast: layerIndex === layers.length - 1,
      inputShape,
      outputShape,
    });
    if ((result.stateUpdates?.length ?? 0) !== layerState) throw new UnsupportedLayerError(`layer ${layer.name}: its non-trainable weights are not lowered`);
    stateUpdates.push(...(result.stateUpdates ?? []));
    result.l2?.forEach((factor, position) => (l2[weightOffset + position] = factor));
    lowered.push({ lowered: result, weightOffset, weightCount: layerWeights });
    weightOffset += layerWeights;
    stateOffset += layerState;
    activation = result.output;
    inputShape = outputShape;
  });

  // Loss: mean softmax cross-entropy over the batch, taken from the logits, plus L2 penalties.
  const [exampleLosses, logitGradients] = graph.opOutputs("SoftmaxCrossEntropyWithLogits", [activation, labels], { T: FLOAT });
  const axisZero = graph.constant([0], [1], "int32");
  let loss = graph.op("Mean", [exampleLosses!, axisZero], { T: FLOAT, Tidx: INT32, keep_dims: { bool: false } });
  const allAxes = (rank: number) => graph.constant(Array.from({ length: rank }, (_, axis) => axis), [rank], "int32");
  const shapes = layers.flatMap((layer) => layer.trainableWeights.map((weight) => weight.shape));
  weights.forEach((weight, index) => {
    if (l2[index]! > 0) {
      const penalty = graph.op("Sum", [graph.op("Square", [weight], { T: FLOAT }), allAxes(shapes[index]!.length)], { T: FLOAT, Tidx: INT32, keep_dims: { bool: false } });
      loss = graph.op("AddV2", [loss, graph.op("Mul", [graph.constant(l2[index]!, []), penalty], { T: FLOAT })], { T: FLOAT });
    }
  });
  const batchSize = graph.op("Cast", [graph.op("Size", [exampleLosses!], { T: FLOAT, out_type: INT32 }, "int32")], { SrcT: INT32, DstT: FLOAT, Truncate: { bool: false } }, "float32");
  const axisOne = graph.constant(1, [], "int32");
  const predicted = graph.op("ArgMax", [activation, axisOne], { T: FLOAT, Tidx: INT32, output_type: INT32 }, "int32");
  const actual = graph.op("ArgMax", [labels, axisOne], { T: FLOAT, Tidx: INT32, output_type: INT32 }, "int32");
  const hits = graph.op("Cast", [graph.op("Equal", [predicted, actual], { T: INT32, incompatible_shape_error: { bool: true } }, "bool")], { SrcT: { type: "bool" }, DstT: FLOAT, Truncate: { bool: false } }, "float32");
  const accuracy = graph.op("Mean", [hits, axisZero], { T: FLOAT, Tidx: INT32, keep_dims: { bool: false } });

  // Backward, layer by layer in reverse.
  const gradients: GraphTensor[] = new Array(weightCount);
  let gradient = graph.op("RealDiv", [logitGradients!, batchSize], { T: FLOAT });
  for (let index = lowered.length - 1; index >= 0; index -= 1) {
    const { lowered: layer, weightOffset: offset, weightCount: count } = lowered[index]!;
    const result = layer.backward(gradient);
    if (result.weightGradients.length !== count) throw new Error(`layer ${index} returned ${result.weightGradients.length} gradients for ${count} weights`);
    result.weightGradients.forEach((weightGradient, position) => (gradients[offset + position] = weightGradient));
    if (index > 0) gradient = result.inputGradient!;
  }

  // Optimizer update; outputs: loss, accuracy, then per weight its new value and slots, then state.
  const scalars = optimizer.prepare(graph, learningRate, stepNumber);
  graph.output("loss", loss);
  graph.output("accuracy", accuracy);
  weights.forEach((weight, index) => {
    let weightGradient = gradients[index]!;
    if (l2[index]! > 0) weightGradient = graph.op("AddV2", [weightGradient, graph.op("Mul", [graph.constant(2 * l2[index]!, []), weight], { T: FLOAT })], { T: FLOAT });
    const updated = optimizer.update(graph, scalars, weight, weightGradient, slots[index]!);
    graph.output(`new_weight_${index}`, updated.weight);
    updated.slots.forEach((slot, position) => graph.output(`new_slot_${index}_${position}`, slot));
  });
  stateUpdates.forEach((update, index) => graph.output(`new_state_${index}`, update));
  return { graph, weightCount, stateCount, slotsPerWeight: optimizer.slotsPerWeight };
}

/**
 * A graph training step for `model`, or the reason it cannot have one (wrong backend, a layer,
 * loss or optimizer without a lowering). `seed` makes the dropout masks reproducible.
 */
export function createGraphTrainStep(tf: TensorFlowModule, model: LayersModel, seed: number): GraphTrainStep | { unsupported: string } {
  const unavailable = graphExecutionUnavailable(tf);
  if (unavailable) return { unsupported: unavailable };
  let built: TrainStepGraph;
  try {
    built = buildTrainStepGraph(model);
  } catch (error) {
    if (error instanceof UnsupportedLayerError) return { unsupported: error.message };
    throw error;
  }
  const { graph, weightCount, stateCount, slotsPerWeight } = built;
  const perWeight = 1 + slotsPerWeight;
  const fn: NativeFunction = registerFunction(tf, graph, "podtrain_train_step", 2 + perWeight * weightCount + stateCount);
  const layers = chainOf(model);
  const variables = layers.flatMap((layer) => layer.trainableWeights) as unknown as WeightVariable[];
  const stateVariables = layers.flatMap((layer) => layer.nonTrainableWeights) as unknown as WeightVariable[];
  let slots = variables.flatMap((variable) => Array.from({ length: slotsPerWeight }, () => tf.zeros([...variable.shape])));
  let stepCount = 0;
  return {
    functionName: fn.name,
    step(images, labels) {
      stepCount += 1;
      const scalars = [tf.scalar(currentLearningRate(model.optimizer)), tf.scalar(stepCount), tf.tensor1d([seed | 0, stepCount], "int32")];
      const outputs = fn.call([images, labels, ...scalars, ...variables.map((variable) => variable.read()), ...slots, ...stateVariables.map((variable) => variable.read())]);
      tf.dispose([...scalars, ...slots]);
      const [loss, accuracy, ...rest] = outputs;
      const newWeights: Tensor[] = [];
      slots = [];
      for (let index = 0; index < weightCount; index += 1) {
        newWeights.push(rest[perWeight * index]!);
        slots.push(...rest.slice(perWeight * index + 1, perWeight * (index + 1)));
      }
      const newState = rest.slice(perWeight * weightCount);
      variables.forEach((variable, index) => variable.write(newWeights[index]!));
      stateVariables.forEach((variable, index) => variable.write(newState[index]!));
      tf.dispose([...newWeights, ...newState]);
      return { loss: loss!, accuracy: accuracy! };
    },
    state: () => ({ iterations: stepCount, slots }),
    restore(iterations, restored) {
      const expected = slots.map((slot) => slot.shape.join("x"));
      const given = restored.map((slot) => slot.shape.join("x"));
      if (expected.join(",") !== given.join(",")) throw new Error(`optimizer state does not fit the model: expected slots ${expected.join(", ")}, got ${given.join(", ")}`);
      tf.dispose(slots);
      slots = restored;
      stepCount = iterations;
    },
    dispose() {
      tf.dispose(slots);
    },
  };
}
