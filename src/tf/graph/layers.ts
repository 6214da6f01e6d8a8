// Lowers tfjs-layers layers to TensorFlow graph ops, forward and backward.
//
// Each lowering emits the layer's forward ops and returns a closure that emits its gradient ops,
// called in reverse layer order (reverse-mode differentiation written out per layer, with the same
// kernels TensorFlow's own gradient functions use: Conv2DBackpropFilter/Input, MaxPoolGrad,
// ReluGrad, BiasAddGrad). A layer or setting without a lowering makes the model unsupported; the
// caller then trains it eagerly with tfjs-layers' trainOnBatch instead.
import type { FunctionGraph, GraphTensor } from "./function-def.js";

const FLOAT: { type: "float32" } = { type: "float32" };

export interface LayerLike {
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  readonly trainableWeights: ReadonlyArray<{ readonly shape: readonly number[] }>;
  readonly nonTrainableWeights: ReadonlyArray<{ readonly shape: readonly number[] }>;
}

export interface LoweringContext {
  graph: FunctionGraph;
  /** Trainable weights of this layer, as function inputs, in the layer's own order. */
  weights: GraphTensor[];
  /** Non-trainable weights (batch-norm moving statistics), as function inputs. */
  state: GraphTensor[];
  /** int32[2] seed for this step; each dropout layer offsets it by its own index. */
  seed: GraphTensor;
  layerIndex: number;
  /** Whether the gradient with respect to the layer input is needed (false for the first layer). */
  needsInputGradient: boolean;
  /** The last layer may end in softmax: the loss then takes its logits. */
  isLast: boolean;
  /** Static shapes without the batch dimension. */
  inputShape: readonly number[];
  outputShape: readonly number[];
}

export interface Lowered {
  output: GraphTensor;
  /** New values of the layer's non-trainable weights after this step, in their order. */
  stateUpdates?: GraphTensor[];
  /** L2 factor per trainable weight (0 = none): loss += l2·Σw², gradient += 2·l2·w. */
  l2?: number[];
  /** Emits the backward ops: returns the input gradient (if needed) and one gradient per weight. */
  backward(outputGradient: GraphTensor): { inputGradient?: GraphTensor; weightGradients: GraphTensor[] };
}

type Lowering = (config: Record<string, unknown>, input: GraphTensor, context: LoweringContext) => Lowered;

export class UnsupportedLayerError extends Error {}

function requireSetting(condition: boolean, layer: string, what: string): void {
  if (!condition) throw new UnsupportedLayerError(`${layer}: ${what}`);
}

function pair(value: unknown, fallback: number): [number, number] {
  if (typeof value === "number") return [value, value];
  if (Array.isArray(value) && value.length === 2) return [Number(value[0]), Number(value[1])];
  return [fallback, fallback];
}

function absent(value: unknown): boolean {
  return value === null || value === undefined;
}

/** The kernel's L2 factor; any other regulariser or constraint makes the layer unsupported. */
function kernelL2(layer: string, config: Record<string, unknown>): number {
  for (const key of ["biasRegularizer", "activityRegularizer", "kernelConstraint", "biasConstraint", "gammaRegularizer", "betaRegularizer", "gammaConstraint", "betaConstraint"]) {
    requireSetting(absent(config[key]), layer, `${key} is not lowered to graph ops`);
  }
  const regularizer = config.kernelRegularizer as { className?: string; config?: { l1?: number; l2?: number } } | null | undefined;
  if (absent(regularizer)) return 0;
  requireSetting(regularizer!.className === "L1L2" && !regularizer!.config?.l1, layer, "only an L2 kernel regularizer is lowered");
  return Number(regularizer!.config?.l2 ?? 0);
}

/** Activation after a linear op; softmax is only allowed on the last layer, where the loss takes the logits. */
function activate(graph: FunctionGraph, layer: string, activation: unknown, linear: GraphTensor, isLast: boolean) {
  const name = activation ?? "linear";
  if (name === "linear") return { output: linear, backward: (gradient: GraphTensor) => gradient };
  if (name === "relu") {
    const output = graph.op("Relu", [linear], { T: FLOAT });
    // ReluGrad(dy, y) is TensorFlow's own ReLU gradient; y > 0 exactly where the input was > 0.
    return { output, backward: (gradient: GraphTensor) => graph.op("ReluGrad", [gradient, output], { T: FLOAT }) };
  }
  requireSetting(name === "softmax" && isLast, layer, `activation ${String(name)} is not lowered (relu, linear, and softmax on the last layer are)`);
  return { output: linear, backward: (gradient: GraphTensor) => gradient, logits: true };
}

const conv2d: Lowering = (config, input, context) => {
  const { graph, weights } = context;
  const layer = String(config.name);
  const l2 = kernelL2(layer, config);
  requireSetting(config.dataFormat === "channelsLast", layer, "only channelsLast is lowered");
  requireSetting(pair(config.dilationRate, 1).every((rate) => rate === 1), layer, "dilation is not lowered");
  const [strideRows, strideColumns] = pair(config.strides, 1);
  const convAttrs = { T: FLOAT, strides: { ints: [1, strideRows, strideColumns, 1] }, padding: { string: String(config.padding).toUpperCase() }, data_format: { string: "NHWC" } };
  const kernel = weights[0]!;
  const bias = config.useBias ? weights[1] : undefined;
  const convolved = graph.op("Conv2D", [input, kernel], convAttrs);
  const linear = bias ? graph.op("BiasAdd", [convolved, bias], { T: FLOAT, data_format: { string: "NHWC" } }) : convolved;
  const activation = activate(graph, layer, config.activation, linear, context.isLast);
  const kernelShape = graph.op("Shape", [kernel], { T: FLOAT, out_type: { type: "int32" } }, "int32");
  return {
    output: activation.output,
    l2: bias ? [l2, 0] : [l2],
    backward(outputGradient) {
      const linearGradient = activation.backward(outputGradient);
      const kernelGradient = graph.op("Conv2DBackpropFilter", [input, kernelShape, linearGradient], convAttrs);
      const weightGradients = [kernelGradient];
      if (bias) weightGradients.push(graph.op("BiasAddGrad", [linearGradient], { T: FLOAT, data_format: { string: "NHWC" } }));
      if (!context.needsInputGradient) return { weightGradients };
      const inputShape = graph.op("Shape", [input], { T: FLOAT, out_type: { type: "int32" } }, "int32");
      return { inputGradient: graph.op("Conv2DBackpropInput", [inputShape, kernel, linearGradient], convAttrs, "float32"), weightGradients };
    },
  };
};

const dense: Lowering = (config, input, context) => {
  const { graph, weights } = context;
  const layer = String(config.name);
  const l2 = kernelL2(layer, config);
  // tfjs applies Dense to the last axis of higher-rank inputs; MatMul here takes [batch, features].
  requireSetting(context.inputShape.length === 1, layer, "only [batch, features] inputs are lowered");
  const kernel = weights[0]!;
  const bias = config.useBias ? weights[1] : undefined;
  const product = graph.op("MatMul", [input, kernel], { T: FLOAT, transpose_a: { bool: false }, transpose_b: { bool: false } });
  const linear = bias ? graph.op("BiasAdd", [product, bias], { T: FLOAT, data_format: { string: "NHWC" } }) : product;
  const activation = activate(graph, layer, config.activation, linear, context.isLast);
  return {
    output: activation.output,
    l2: bias ? [l2, 0] : [l2],
    backward(outputGradient) {
      const linearGradient = activation.backward(outputGradient);
      const weightGradients = [graph.op("MatMul", [input, linearGradient], { T: FLOAT, transpose_a: { bool: true }, transpose_b: { bool: false } })];
      if (bias) weightGradients.push(graph.op("BiasAddGrad", [linearGradient], { T: FLOAT, data_format: { string: "NHWC" } }));
      if (!context.needsInputGradient) return { weightGradients };
      return { inputGradient: graph.op("MatMul", [linearGradient, kernel], { T: FLOAT, transpose_a: { bool: false }, transpose_b: { bool: true } }), weightGradients };
    },
  };
};

const maxPooling2d: Lowering = (config, input, { graph }) => {
  const layer = String(config.name);
  requireSetting(config.dataFormat === undefined || config.dataFormat === "channelsLast", layer, "only channelsLast is lowered");
  const [poolRows, poolColumns] = pair(config.poolSize, 2);
  const [strideRows, strideColumns] = pair(config.strides ?? config.poolSize, 2);
  const attrs = { T: FLOAT, ksize: { ints: [1, poolRows, poolColumns, 1] }, strides: { ints: [1, strideRows, strideColumns, 1] }, padding: { string: String(config.padding).toUpperCase() }, data_format: { string: "NHWC" } };
  const output = graph.op("MaxPool", [input], attrs);
  return { output, backward: (gradient) => ({ inputGradient: graph.op("MaxPoolGrad", [input, output, gradient], attrs), weightGradients: [] }) };
};

// Dropout like tfjs-core's (and podtrain's native dropout kernel): keep where floor(u + keep) = 1,
// scale kept units by 1/keep. The uniform numbers come from StatelessRandomUniform seeded with
// [step seed + layer offset, step], so every step and layer draws a different, reproducible mask.
const DROPOUT_SEED_STRIDE = 7919;
const dropout: Lowering = (config, input, { graph, seed, layerIndex }) => {
  const layer = String(config.name);
  requireSetting(config.noiseShape === undefined || config.noiseShape === null, layer, "noiseShape is not lowered");
  const rate = Number(config.rate);
  if (!(rate > 0)) return { output: input, backward: (gradient) => ({ inputGradient: gradient, weightGradients: [] }) };
  requireSetting(rate < 1, layer, "rate must be below 1");
  const keep = 1 - rate;
  const layerSeed = graph.op("AddV2", [seed, graph.constant([layerIndex * DROPOUT_SEED_STRIDE, 0], [2], "int32")], { T: { type: "int32" } });
  const shape = graph.op("Shape", [input], { T: FLOAT, out_type: { type: "int32" } }, "int32");
  const uniform = graph.op("StatelessRandomUniform", [shape, layerSeed], { dtype: FLOAT, T: { type: "int32" }, Tseed: { type: "int32" } }, "float32");
  const kept = graph.op("Floor", [graph.op("AddV2", [uniform, graph.constant(keep, [])], { T: FLOAT })], { T: FLOAT });
  const mask = graph.op("Mul", [kept, graph.constant(1 / keep, [])], { T: FLOAT });
  const output = graph.op("Mul", [input, mask], { T: FLOAT });
  return { output, backward: (gradient) => ({ inputGradient: graph.op("Mul", [gradient, mask], { T: FLOAT }), weightGradients: [] }) };
};

const flatten: Lowering = (_config, input, { graph, outputShape }) => {
  const features = outputShape.reduce((product, size) => product * size, 1);
  const output = graph.op("Reshape", [input, graph.constant([-1, features], [2], "int32")], { T: FLOAT, Tshape: { type: "int32" } });
  return {
    output,
    backward: (gradient) => {
      const shape = graph.op("Shape", [input], { T: FLOAT, out_type: { type: "int32" } }, "int32");
      return { inputGradient: graph.op("Reshape", [gradient, shape], { T: FLOAT, Tshape: { type: "int32" } }), weightGradients: [] };
    },
  };
};

const activation: Lowering = (config, input, { graph, isLast }) => {
  const applied = activate(graph, String(config.name), config.activation, input, isLast);
  return { output: applied.output, backward: (gradient) => ({ inputGradient: applied.backward(gradient), weightGradients: [] }) };
};

const globalAveragePooling2d: Lowering = (config, input, { graph, inputShape }) => {
  const layer = String(config.name);
  requireSetting(absent(config.dataFormat) || config.dataFormat === "channelsLast", layer, "only channelsLast is lowered");
  const [rows, columns, channels] = inputShape as [number, number, number];
  const output = graph.op("Mean", [input, graph.constant([1, 2], [2], "int32")], { T: FLOAT, Tidx: { type: "int32" }, keep_dims: { bool: false } });
  return {
    output,
    backward(gradient) {
      // Each input position receives 1/(rows·columns) of its channel's gradient (broadcast multiply).
      const perChannel = graph.op("Reshape", [gradient, graph.constant([-1, 1, 1, channels], [4], "int32")], { T: FLOAT, Tshape: { type: "int32" } });
      const spread = graph.constant(new Array(rows * columns).fill(1 / (rows * columns)), [1, rows, columns, 1]);
      return { inputGradient: graph.op("Mul", [perChannel, spread], { T: FLOAT }), weightGradients: [] };
    },
  };
};

// Batch normalisation in training mode, as tfjs-layers computes it: normalise with the batch
// statistics, then move the moving mean/variance towards the batch's by (1 − momentum). tfjs uses
// the biased batch variance there; TensorFlow's fused kernel reports the unbiased one, so it is
// scaled back by (n − 1)/n.
const batchNormalization: Lowering = (config, input, { graph, weights, state, inputShape }) => {
  const layer = String(config.name);
  kernelL2(layer, config);
  requireSetting(config.axis === -1 || config.axis === inputShape.length, layer, "only the channel axis (-1) is lowered");
  requireSetting(inputShape.length === 3, layer, "only 4-D (NHWC) inputs are lowered");
  requireSetting(config.center !== false && config.scale !== false, layer, "center and scale must both be on");
  const epsilon = Number(config.epsilon ?? 1e-3);
  const momentum = Number(config.momentum ?? 0.99);
  const [gamma, beta] = weights as [GraphTensor, GraphTensor];
  const [movingMean, movingVariance] = state as [GraphTensor, GraphTensor];
  const attrs = { T: FLOAT, U: FLOAT, epsilon: { float: epsilon }, data_format: { string: "NHWC" }, is_training: { bool: true } };
  const empty = graph.constant([], [0]);
  const [output, batchMean, batchVariance, reserve1, reserve2, reserve3] = graph.opOutputs("FusedBatchNormV3", [input, gamma, beta, empty, empty], { ...attrs, exponential_avg_factor: { float: 1 } });
  const channels = inputShape[2]!;
  const count = graph.op("RealDiv", [graph.op("Cast", [graph.op("Size", [input], { T: FLOAT, out_type: { type: "int32" } }, "int32")], { SrcT: { type: "int32" }, DstT: FLOAT, Truncate: { bool: false } }, "float32"), graph.constant(channels, [])], { T: FLOAT });
  const biasedVariance = graph.op("Mul", [batchVariance!, graph.op("RealDiv", [graph.op("Sub", [count, graph.constant(1, [])], { T: FLOAT }), count], { T: FLOAT })], { T: FLOAT });
  const decay = graph.constant(1 - momentum, []);
  const moveTowards = (moving: GraphTensor, batch: GraphTensor) => graph.op("Sub", [moving, graph.op("Mul", [graph.op("Sub", [moving, batch], { T: FLOAT }), decay], { T: FLOAT })], { T: FLOAT });
  return {
    output: output!,
    stateUpdates: [moveTowards(movingMean, batchMean!), moveTowards(movingVariance, biasedVariance)],
    l2: [0, 0],
    backward(gradient) {
      const [inputGradient, gammaGradient, betaGradient] = graph.opOutputs("FusedBatchNormGradV3", [gradient, input, gamma, reserve1!, reserve2!, reserve3!], attrs);
      return { inputGradient: inputGradient!, weightGradients: [gammaGradient!, betaGradient!] };
    },
  };
};

export const LOWERINGS: Readonly<Record<string, Lowering>> = {
  Activation: activation,
  BatchNormalization: batchNormalization,
  GlobalAveragePooling2D: globalAveragePooling2d,
  Conv2D: conv2d,
  Dense: dense,
  Dropout: dropout,
  Flatten: flatten,
  MaxPooling2D: maxPooling2d,
};
