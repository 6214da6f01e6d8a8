import { ModelExportError } from "../core/errors.js";
import type { TensorFlowModule } from "../tf/backend.js";
import { ATTRIBUTE_TYPE, type AttributeMessage, encodeModel, type ModelMessage, type NodeMessage, TENSOR_FLOAT, type TensorMessage, type ValueInfoMessage } from "./onnx-proto.js";

// Writes a trained tfjs layers model (a plain chain of layers, as the CNN workflows build) as an
// ONNX graph of standard operators.
//
// Layout: the model keeps the NHWC input it was trained on (float32 [batch, H, W, C]). ONNX's
// Conv / MaxPool / BatchNormalization / GlobalAveragePool work on NCHW, so one Transpose node
// (perm 0,3,1,2) goes before the first spatial layer and the convolution kernels are stored as
// NCHW weights ([out, in, kh, kw], transposed here from tfjs' [kh, kw, in, out]). Before a Flatten
// the graph transposes back to NHWC so the flattened feature order, and thus the Dense weights,
// stay exactly those of tfjs. Dropout is the identity at inference and writes no node.

/** ONNX opset 21 (IR version 10): current operator definitions that onnxruntime 1.30 fully runs. */
export const ONNX_OPSET = 21;
export const ONNX_IR_VERSION = 10;
export const ONNX_INPUT_NAME = "image";
export const ONNX_OUTPUT_NAME = "probabilities";
export const ONNX_BATCH_DIMENSION = "batch";

type LayersModel = Awaited<ReturnType<TensorFlowModule["loadLayersModel"]>>;
type Layer = LayersModel["layers"][number];
type Layout = "NHWC" | "NCHW" | "flat";

interface GraphBuilder {
  nodes: NodeMessage[];
  initializers: TensorMessage[];
  /** Name of the value the next node reads. */
  current: string;
  layout: Layout;
}

function floatTensor(name: string, dims: number[], values: Float32Array): TensorMessage {
  const bytes = new Uint8Array(values.byteLength);
  // ONNX raw_data is little-endian; so is every platform onnxruntime and tfjs-node run on.
  new Float32Array(bytes.buffer).set(values);
  return { name, dims, dataType: TENSOR_FLOAT, rawData: bytes };
}

function ints(name: string, values: number[]): AttributeMessage {
  return { name, type: ATTRIBUTE_TYPE.INTS, ints: values };
}
function int(name: string, value: number): AttributeMessage {
  return { name, type: ATTRIBUTE_TYPE.INT, i: value };
}
function float(name: string, value: number): AttributeMessage {
  return { name, type: ATTRIBUTE_TYPE.FLOAT, f: value };
}
function text(name: string, value: string): AttributeMessage {
  return { name, type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode(value) };
}

function addNode(graph: GraphBuilder, opType: string, name: string, extraInputs: string[] = [], attribute: AttributeMessage[] = []): void {
  const output = `${name}:0`;
  graph.nodes.push({ input: [graph.current, ...extraInputs], output: [output], name, opType, attribute });
  graph.current = output;
}

function toLayout(graph: GraphBuilder, layout: "NHWC" | "NCHW", name: string): void {
  if (graph.layout === layout) return;
  if (graph.layout === "flat") throw new ModelExportError(`layer ${name} needs an image tensor but follows a flattened one`);
  addNode(graph, "Transpose", `${name}/to_${layout.toLowerCase()}`, [], [ints("perm", layout === "NCHW" ? [0, 3, 1, 2] : [0, 2, 3, 1])]);
  graph.layout = layout;
}

/** tfjs weights by their short name (kernel, bias, gamma, beta, moving_mean, moving_variance). */
function weightsOf(layer: Layer): Map<string, { shape: number[]; values: Float32Array }> {
  const tensors = layer.getWeights();
  return new Map(
    layer.weights.map((variable, index) => {
      const tensor = tensors[index]!;
      return [variable.originalName.split("/").at(-1) ?? variable.originalName, { shape: tensor.shape, values: tensor.dataSync() as Float32Array }];
    }),
  );
}

function required<T>(map: Map<string, T>, key: string, layer: Layer): T {
  const value = map.get(key);
  if (!value) throw new ModelExportError(`layer ${layer.name} (${layer.getClassName()}) has no ${key} weight`);
  return value;
}

function pair(value: unknown): [number, number] {
  if (Array.isArray(value)) return [Number(value[0]), Number(value[1] ?? value[0])];
  return [Number(value), Number(value)];
}

function autoPad(padding: unknown, layer: Layer): AttributeMessage {
  // TensorFlow's "same" puts the extra padding at the end: ONNX's SAME_UPPER.
  if (padding === "same") return text("auto_pad", "SAME_UPPER");
  if (padding === "valid") return text("auto_pad", "VALID");
  throw new ModelExportError(`layer ${layer.name}: padding ${String(padding)} has no ONNX equivalent here`);
}

function addActivation(graph: GraphBuilder, activation: unknown, name: string): void {
  if (activation === undefined || activation === null || activation === "linear") return;
  if (activation === "relu") return addNode(graph, "Relu", `${name}/relu`);
  if (activation === "softmax") {
    if (graph.layout !== "flat") throw new ModelExportError(`layer ${name}: softmax over an image tensor is not exported`);
    return addNode(graph, "Softmax", `${name}/softmax`, [], [int("axis", -1)]);
  }
  throw new ModelExportError(`layer ${name}: activation ${String(activation)} is not exported to ONNX`);
}

function addLayer(graph: GraphBuilder, layer: Layer): void {
  const config = layer.getConfig() as Record<string, unknown>;
  const name = layer.name;
  const className = layer.getClassName();
  if (config.dataFormat !== undefined && config.dataFormat !== "channelsLast") throw new ModelExportError(`layer ${name}: only channelsLast (NHWC) layers are exported`);
  switch (className) {
    case "InputLayer":
    case "Dropout":
      return;
    case "Conv2D": {
      toLayout(graph, "NCHW", name);
      const weights = weightsOf(layer);
      const kernel = required(weights, "kernel", layer);
      const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
      // tfjs [kh, kw, in, out] -> ONNX [out, in, kh, kw].
      const transposed = new Float32Array(kernel.values.length);
      for (let y = 0; y < kh; y += 1)
        for (let x = 0; x < kw; x += 1)
          for (let i = 0; i < cin; i += 1)
            for (let o = 0; o < cout; o += 1) transposed[((o * cin + i) * kh + y) * kw + x] = kernel.values[((y * kw + x) * cin + i) * cout + o]!;
      graph.initializers.push(floatTensor(`${name}/kernel`, [cout, cin, kh, kw], transposed));
      const inputs = [`${name}/kernel`];
      const bias = weights.get("bias");
      if (bias) {
        graph.initializers.push(floatTensor(`${name}/bias`, [cout], bias.values));
        inputs.push(`${name}/bias`);
      }
      addNode(graph, "Conv", name, inputs, [ints("kernel_shape", [kh, kw]), ints("strides", pair(config.strides ?? 1)), ints("dilations", pair(config.dilationRate ?? 1)), autoPad(config.padding, layer)]);
      return addActivation(graph, config.activation, name);
    }
    case "MaxPooling2D": {
      toLayout(graph, "NCHW", name);
      const poolSize = pair(config.poolSize);
      return addNode(graph, "MaxPool", name, [], [ints("kernel_shape", poolSize), ints("strides", pair(config.strides ?? poolSize)), autoPad(config.padding, layer)]);
    }
    case "BatchNormalization": {
      if (config.axis !== -1 && config.axis !== 3) throw new ModelExportError(`layer ${name}: batch normalisation over axis ${String(config.axis)} is not exported`);
      toLayout(graph, "NCHW", name);
      const weights = weightsOf(layer);
      const mean = required(weights, "moving_mean", layer);
      const channels = mean.values.length;
      const inputs = [
        ["gamma", 1],
        ["beta", 0],
        ["moving_mean", 0],
        ["moving_variance", 1],
      ].map(([key, fallback]) => {
        const weight = weights.get(key as string);
        // center/scale off: tfjs keeps no beta/gamma; ONNX wants them, as zeros/ones.
        graph.initializers.push(floatTensor(`${name}/${key}`, [channels], weight?.values ?? new Float32Array(channels).fill(fallback as number)));
        return `${name}/${key}`;
      });
      return addNode(graph, "BatchNormalization", name, inputs, [float("epsilon", Number(config.epsilon ?? 1e-3))]);
    }
    case "Activation":
      return addActivation(graph, config.activation, name);
    case "GlobalAveragePooling2D":
      toLayout(graph, "NCHW", name);
      addNode(graph, "GlobalAveragePool", name);
      addNode(graph, "Flatten", `${name}/flatten`, [], [int("axis", 1)]);
      graph.layout = "flat";
      return;
    case "Flatten":
      if (graph.layout !== "flat") toLayout(graph, "NHWC", name);
      addNode(graph, "Flatten", name, [], [int("axis", 1)]);
      graph.layout = "flat";
      return;
    case "Dense": {
      if (graph.layout !== "flat") throw new ModelExportError(`layer ${name}: a dense layer on an image tensor is not exported`);
      const weights = weightsOf(layer);
      const kernel = required(weights, "kernel", layer);
      graph.initializers.push(floatTensor(`${name}/kernel`, kernel.shape, kernel.values));
      const inputs = [`${name}/kernel`];
      const bias = weights.get("bias");
      if (bias) {
        graph.initializers.push(floatTensor(`${name}/bias`, bias.shape, bias.values));
        inputs.push(`${name}/bias`);
      }
      addNode(graph, "Gemm", name, inputs);
      return addActivation(graph, config.activation, name);
    }
    case "Softmax": {
      const axis = config.axis ?? -1;
      if (graph.layout !== "flat" || (axis !== -1 && axis !== 1)) throw new ModelExportError(`layer ${name}: softmax over axis ${String(axis)} of an image tensor is not exported`);
      return addNode(graph, "Softmax", name, [], [int("axis", -1)]);
    }
    default:
      throw new ModelExportError(`layer ${name} (${className}) has no ONNX export`);
  }
}

function tensorValue(name: string, dims: Array<number | string>): ValueInfoMessage {
  return { name, type: { tensorType: { elemType: TENSOR_FLOAT, shape: { dim: dims.map((dim) => (typeof dim === "string" ? { dimParam: dim } : { dimValue: dim })) } } } };
}

export interface ExportedOnnx {
  bytes: Uint8Array;
  inputShape: number[];
  outputShape: number[];
}

/**
 * The ONNX bytes of `model`: input `image` float32 [batch, H, W, C] (NHWC, as trained), output
 * `probabilities` float32 [batch, classes], batch dynamic.
 */
export function exportLayersModel(model: LayersModel, metadata: Record<string, string> = {}): ExportedOnnx {
  const inputShape = model.inputs[0]?.shape.slice(1);
  const outputShape = model.outputs[0]?.shape.slice(1);
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || !inputShape || inputShape.length !== 3 || !outputShape || outputShape.length !== 1) {
    throw new ModelExportError(`model ${model.name}: only one image input [H, W, C] and one vector output are exported to ONNX`);
  }
  const dims = [...inputShape, ...outputShape];
  if (dims.some((dim) => dim === null)) throw new ModelExportError(`model ${model.name}: every dimension but the batch must be fixed for the ONNX export`);
  const graph: GraphBuilder = { nodes: [], initializers: [], current: ONNX_INPUT_NAME, layout: "NHWC" };
  for (const layer of model.layers) addLayer(graph, layer);
  if (graph.layout !== "flat") throw new ModelExportError(`model ${model.name}: the last layer does not produce class probabilities`);
  // The last node writes the graph's named output.
  const last = graph.nodes.at(-1);
  if (!last) throw new ModelExportError(`model ${model.name} has no layers to export`);
  last.output = [ONNX_OUTPUT_NAME];
  const message: ModelMessage = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: "", version: ONNX_OPSET }],
    producerName: "podtrain",
    producerVersion: metadata.podtrain_version ?? "",
    docString: `${model.name}: NHWC float32 images in, class probabilities out (exported from a TensorFlow.js layers model)`,
    graph: {
      name: model.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [tensorValue(ONNX_INPUT_NAME, [ONNX_BATCH_DIMENSION, ...(inputShape as number[])])],
      output: [tensorValue(ONNX_OUTPUT_NAME, [ONNX_BATCH_DIMENSION, ...(outputShape as number[])])],
    },
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  };
  return { bytes: encodeModel(message), inputShape: inputShape as number[], outputShape: outputShape as number[] };
}
