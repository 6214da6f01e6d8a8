// One training step of a tfjs-layers classifier as one TensorFlow function: forward pass, softmax
// cross-entropy, backward pass and the Adam update, executed by TensorFlow as a graph.
//
// Why: tfjs-node runs every op separately, each a round trip through JavaScript (tfjs-layers'
// fit loop, the gradient tape, tensor bookkeeping), and TensorFlow sees one op at a time. Keras
// hands TensorFlow the whole step: grappler fuses Conv2D + BiasAdd + ReLU and independent ops
// (the two gradients of a convolution) run in parallel. Doing the same here is what closes most
// of the gap (benchmarks/results/).
//
// The tfjs model stays the owner of the weights: each step reads its variables, and writes the
// updated tensors back (a handle swap, no copy), so saving, evaluating and predicting are unchanged.
// Adam follows tfjs-core's AdamOptimizer exactly (bias-corrected moments, epsilon outside the
// square root) so that a graph step and a tfjs step give the same weights (test/tf/graph/).
import type { LayersModel, Tensor } from "@tensorflow/tfjs";
import type { TensorFlowModule } from "../backend.js";
import { FunctionGraph, type GraphTensor } from "./function-def.js";
import { LOWERINGS, UnsupportedLayerError, type LayerLike, type Lowered } from "./layers.js";
import { graphExecutionUnavailable, registerFunction, type NativeFunction } from "./native-function.js";

const FLOAT: { type: "float32" } = { type: "float32" };
const INT32: { type: "int32" } = { type: "int32" };

interface AdamSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

interface WeightVariable {
  readonly shape: readonly number[];
  read(): Tensor;
  write(value: Tensor): unknown;
}

export interface StepResult {
  /** Mean softmax cross-entropy of the batch (scalar tensor; the caller reads and disposes it). */
  loss: Tensor;
  /** Fraction of the batch classified correctly (scalar tensor). */
  accuracy: Tensor;
}

export interface GraphTrainStep {
  readonly functionName: string;
  /** Trains on one batch (NHWC images, one-hot labels) and updates the model's weights. */
  step(images: Tensor, labels: Tensor): StepResult;
  dispose(): void;
}

function adamSettings(model: LayersModel): AdamSettings {
  const optimizer = model.optimizer as unknown as { getClassName(): string; getConfig(): Record<string, unknown> } | undefined;
  if (!optimizer) throw new UnsupportedLayerError("the model is not compiled");
  const name = optimizer.getClassName();
  if (name !== "Adam") throw new UnsupportedLayerError(`optimizer ${name} is not lowered (Adam is)`);
  const config = optimizer.getConfig();
  return { learningRate: Number(config.learningRate), beta1: Number(config.beta1), beta2: Number(config.beta2), epsilon: Number(config.epsilon ?? 1e-7) };
}

function checkLossAndMetrics(model: LayersModel, layers: readonly LayerLike[]): void {
  const loss = (model as unknown as { loss: unknown }).loss;
  if (loss !== "categoricalCrossentropy") throw new UnsupportedLayerError(`loss ${JSON.stringify(loss)} is not lowered (categoricalCrossentropy is)`);
  const last = layers.at(-1)?.getConfig();
  if (last?.activation !== "softmax") throw new UnsupportedLayerError("the last layer must end in softmax (the loss takes its logits)");
}

function outputShapeOf(layer: LayerLike): number[] {
  const shape = (layer as unknown as { outputShape: Array<number | null> }).outputShape;
  return shape.slice(1).map((size) => size ?? -1);
}

/** Builds the step function's graph; throws UnsupportedLayerError naming what cannot be lowered. */
export function buildTrainStepGraph(model: LayersModel): { graph: FunctionGraph; weightCount: number } {
  const layers = model.layers as unknown as LayerLike[];
  checkLossAndMetrics(model, layers);
  const adam = adamSettings(model);
  const graph = new FunctionGraph();
  const images = graph.input("images", "float32");
  const labels = graph.input("labels", "float32");
  const stepNumber = graph.input("step", "float32"); // 1-based, as Adam's bias correction counts
  const seed = graph.input("seed", "int32");
  const weightShapes = layers.flatMap((layer) => layer.trainableWeights.map((weight) => weight.shape));
  const weights = weightShapes.map((_, index) => graph.input(`weight_${index}`, "float32"));
  const firstMoments = weightShapes.map((_, index) => graph.input(`m_${index}`, "float32"));
  const secondMoments = weightShapes.map((_, index) => graph.input(`v_${index}`, "float32"));

  // Forward.
  const lowered: Array<{ lowered: Lowered; weightOffset: number; weightCount: number }> = [];
  let activation = images;
  let weightOffset = 0;
  layers.forEach((layer, layerIndex) => {
    const lowering = LOWERINGS[layer.getClassName()];
    if (!lowering) throw new UnsupportedLayerError(`layer type ${layer.getClassName()} is not lowered (${Object.keys(LOWERINGS).join(", ")} are)`);
    const weightCount = layer.trainableWeights.length;
    const result = lowering(layer.getConfig(), activation, {
      graph,
      weights: weights.slice(weightOffset, weightOffset + weightCount),
      seed,
      layerIndex,
      needsInputGradient: layerIndex > 0,
      isLast: layerIndex === layers.length - 1,
      outputShape: outputShapeOf(layer),
    });
    lowered.push({ lowered: result, weightOffset, weightCount });
    weightOffset += weightCount;
    activation = result.output;
  });

  // Loss: mean softmax cross-entropy over the batch, taken from the logits.
  const [exampleLosses, logitGradients] = graph.opOutputs("SoftmaxCrossEntropyWithLogits", [activation, labels], { T: FLOAT });
  const axisZero = graph.constant([0], [1], "int32");
  const loss = graph.op("Mean", [exampleLosses!, axisZero], { T: FLOAT, Tidx: INT32, keep_dims: { bool: false } });
  const batchSize = graph.op("Cast", [graph.op("Size", [exampleLosses!], { T: FLOAT, out_type: INT32 }, "int32")], { SrcT: INT32, DstT: FLOAT, Truncate: { bool: false } }, "float32");
  const axisOne = graph.constant(1, [], "int32");
  const predicted = graph.op("ArgMax", [activation, axisOne], { T: FLOAT, Tidx: INT32, output_type: INT32 }, "int32");
  const actual = graph.op("ArgMax", [labels, axisOne], { T: FLOAT, Tidx: INT32, output_type: INT32 }, "int32");
  const hits = graph.op("Cast", [graph.op("Equal", [predicted, actual], { T: INT32, incompatible_shape_error: { bool: true } }, "bool")], { SrcT: { type: "bool" }, DstT: FLOAT, Truncate: { bool: false } }, "float32");
  const accuracy = graph.op("Mean", [hits, axisZero], { T: FLOAT, Tidx: INT32, keep_dims: { bool: false } });

  // Backward, layer by layer in reverse.
  const gradients: GraphTensor[] = new Array(weights.length);
  let gradient = graph.op("RealDiv", [logitGradients!, batchSize], { T: FLOAT });
  for (let index = lowered.length - 1; index >= 0; index -= 1) {
    const { lowered: layer, weightOffset: offset, weightCount } = lowered[index]!;
    const result = layer.backward(gradient);
    if (result.weightGradients.length !== weightCount) throw new Error(`layer ${index} returned ${result.weightGradients.length} gradients for ${weightCount} weights`);
    result.weightGradients.forEach((weightGradient, position) => (gradients[offset + position] = weightGradient));
    if (index > 0) gradient = result.inputGradient!;
  }

  // Adam, as tfjs-core's AdamOptimizer.applyGradients computes it.
  const constant = (value: number) => graph.constant(value, []);
  const mul = (a: GraphTensor, b: GraphTensor) => graph.op("Mul", [a, b], { T: FLOAT });
  const add = (a: GraphTensor, b: GraphTensor) => graph.op("AddV2", [a, b], { T: FLOAT });
  const one = constant(1);
  const firstCorrection = graph.op("Sub", [one, graph.op("Pow", [constant(adam.beta1), stepNumber], { T: FLOAT })], { T: FLOAT });
  const secondCorrection = graph.op("Sub", [one, graph.op("Pow", [constant(adam.beta2), stepNumber], { T: FLOAT })], { T: FLOAT });
  const stepSize = graph.op("RealDiv", [constant(adam.learningRate), firstCorrection], { T: FLOAT });
  const inverseSecondCorrection = graph.op("RealDiv", [one, secondCorrection], { T: FLOAT });
  const beta1 = constant(adam.beta1);
  const oneMinusBeta1 = constant(1 - adam.beta1);
  const beta2 = constant(adam.beta2);
  const oneMinusBeta2 = constant(1 - adam.beta2);
  const epsilon = constant(adam.epsilon);
  graph.output("loss", loss);
  graph.output("accuracy", accuracy);
  weights.forEach((weight, index) => {
    const weightGradient = gradients[index]!;
    const m = add(mul(beta1, firstMoments[index]!), mul(oneMinusBeta1, weightGradient));
    const v = add(mul(beta2, secondMoments[index]!), mul(oneMinusBeta2, graph.op("Square", [weightGradient], { T: FLOAT })));
    const denominator = add(graph.op("Sqrt", [mul(v, inverseSecondCorrection)], { T: FLOAT }), epsilon);
    const update = graph.op("RealDiv", [mul(stepSize, m), denominator], { T: FLOAT });
    graph.output(`new_weight_${index}`, graph.op("Sub", [weight, update], { T: FLOAT }));
    graph.output(`new_m_${index}`, m);
    graph.output(`new_v_${index}`, v);
  });
  return { graph, weightCount: weights.length };
}

/**
 * A graph training step for `model`, or the reason it cannot have one (wrong backend, a layer,
 * loss or optimizer without a lowering). `seed` makes the dropout masks reproducible.
 */
export function createGraphTrainStep(tf: TensorFlowModule, model: LayersModel, seed: number): GraphTrainStep | { unsupported: string } {
  const unavailable = graphExecutionUnavailable(tf);
  if (unavailable) return { unsupported: unavailable };
  let built: ReturnType<typeof buildTrainStepGraph>;
  try {
    built = buildTrainStepGraph(model);
  } catch (error) {
    if (error instanceof UnsupportedLayerError) return { unsupported: error.message };
    throw error;
  }
  const { graph, weightCount } = built;
  const fn: NativeFunction = registerFunction(tf, graph, "podtrain_train_step", 2 + 3 * weightCount);
  const variables = model.layers.flatMap((layer) => layer.trainableWeights) as unknown as WeightVariable[];
  let firstMoments = variables.map((variable) => tf.zeros([...variable.shape]));
  let secondMoments = variables.map((variable) => tf.zeros([...variable.shape]));
  let stepCount = 0;
  return {
    functionName: fn.name,
    step(images, labels) {
      stepCount += 1;
      const stepTensor = tf.scalar(stepCount);
      const seedTensor = tf.tensor1d([seed | 0, stepCount], "int32");
      const outputs = fn.call([images, labels, stepTensor, seedTensor, ...variables.map((variable) => variable.read()), ...firstMoments, ...secondMoments]);
      tf.dispose([stepTensor, seedTensor, ...firstMoments, ...secondMoments]);
      const [loss, accuracy, ...state] = outputs;
      const next = { weights: [] as Tensor[], m: [] as Tensor[], v: [] as Tensor[] };
      for (let index = 0; index < weightCount; index += 1) {
        next.weights.push(state[3 * index]!);
        next.m.push(state[3 * index + 1]!);
        next.v.push(state[3 * index + 2]!);
      }
      variables.forEach((variable, index) => variable.write(next.weights[index]!));
      tf.dispose(next.weights);
      firstMoments = next.m;
      secondMoments = next.v;
      return { loss: loss!, accuracy: accuracy! };
    },
    dispose() {
      tf.dispose([...firstMoments, ...secondMoments]);
    },
  };
}
