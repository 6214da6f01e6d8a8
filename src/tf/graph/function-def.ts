// A small builder for tensorflow.FunctionDef: a graph of TensorFlow ops with typed inputs and
// outputs, serialized to the protobuf the native binding registers (addFunctionDef, added by
// native/tensorflow/binding-patch.mjs). Once registered, the function runs as a single op and
// TensorFlow executes its body as a graph.
//
// The protobuf classes come from @tensorflow/tfjs-node itself (dist/proto/api_pb.js, generated
// from TensorFlow's protos for its SavedModel support), so no second protobuf library is needed.
//
// In a FunctionDef body an input names another node's output as "<node>:<output arg>:<index>",
// where <output arg> is the name in the op's registration (Conv2D's is "output", MatMul's
// "product", Relu's "activations"). OUTPUT_ARGS lists them for every op podtrain emits; the tests
// of test/tf/graph/ register and run functions using each of them on the real TensorFlow library.
import { createHash } from "node:crypto";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** Output argument names (and count) of the ops the graph compiler emits, from TensorFlow's op registry. */
export const OUTPUT_ARGS: Readonly<Record<string, readonly string[]>> = {
  AddV2: ["z"],
  ArgMax: ["output"],
  BiasAdd: ["output"],
  BiasAddGrad: ["output"],
  Cast: ["y"],
  Const: ["output"],
  Conv2D: ["output"],
  Conv2DBackpropFilter: ["output"],
  Conv2DBackpropInput: ["output"],
  Equal: ["z"],
  Floor: ["y"],
  FusedBatchNormV3: ["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2", "reserve_space_3"],
  FusedBatchNormGradV3: ["x_backprop", "scale_backprop", "offset_backprop", "reserve_space_4", "reserve_space_5"],
  MatMul: ["product"],
  MaxPool: ["output"],
  MaxPoolGrad: ["output"],
  Mean: ["output"],
  Mul: ["z"],
  Pow: ["z"],
  RealDiv: ["z"],
  Relu: ["activations"],
  ReluGrad: ["backprops"],
  Reshape: ["output"],
  Shape: ["output"],
  Size: ["output"],
  SoftmaxCrossEntropyWithLogits: ["loss", "backprop"],
  Sqrt: ["y"],
  Square: ["y"],
  StatelessRandomUniform: ["output"],
  Sub: ["z"],
  Sum: ["output"],
};

export type GraphDType = "float32" | "int32" | "bool";

/** TensorFlow DataType enum values (types.proto). */
export const TF_DTYPE: Readonly<Record<GraphDType, number>> = { float32: 1, int32: 3, bool: 10 };

/** A value inside the function: a signature input or one output of a node. */
export interface GraphTensor {
  readonly reference: string;
  readonly dtype: GraphDType;
}

export type AttrInput =
  | { type: GraphDType }
  | { int: number }
  | { float: number }
  | { bool: boolean }
  | { string: string }
  | { ints: readonly number[] }
  | { tensor: { values: readonly number[]; shape: readonly number[]; dtype: GraphDType } };

interface NodeRecord {
  name: string;
  op: string;
  inputs: string[];
  attrs: Record<string, AttrInput>;
}

// The generated classes are untyped JavaScript; one loose interface covers the setters used here.
type Setter = (value: unknown) => void;
interface ProtoMessage {
  serializeBinary(): Uint8Array;
  getAttrMap(): { set(key: string, value: unknown): void };
  getRetMap(): { set(key: string, value: string): void };
  setName: Setter;
  setOp: Setter;
  setType: Setter;
  setInputList: Setter;
  setInputArgList: Setter;
  setOutputArgList: Setter;
  setSignature: Setter;
  setNodeDefList: Setter;
  setI: Setter;
  setF: Setter;
  setB: Setter;
  setS: Setter;
  setIList: Setter;
  setList: Setter;
  setTensor: Setter;
  setDtype: Setter;
  setTensorShape: Setter;
  setDimList: Setter;
  setSize: Setter;
  setFloatValList: Setter;
  setIntValList: Setter;
  setBoolValList: Setter;
}
type ProtoClass = new () => ProtoMessage;
interface ProtoModule {
  FunctionDef: ProtoClass;
  OpDef: ProtoClass & { ArgDef: ProtoClass };
  NodeDef: ProtoClass;
  AttrValue: ProtoClass & { ListValue: ProtoClass };
  Tensor: ProtoClass;
  TensorShape: ProtoClass & { Dim: ProtoClass };
}

let protoModule: ProtoModule | undefined;
function proto(): ProtoModule {
  protoModule ??= require("@tensorflow/tfjs-node/dist/proto/api_pb.js") as ProtoModule;
  return protoModule;
}

const ARG_NAME = /^[a-z][a-z0-9_]*$/;

export class FunctionGraph {
  private readonly inputs: Array<{ name: string; dtype: GraphDType }> = [];
  private readonly outputs: Array<{ name: string; tensor: GraphTensor }> = [];
  private readonly nodes: NodeRecord[] = [];
  private readonly usedNames = new Set<string>();

  input(name: string, dtype: GraphDType): GraphTensor {
    this.claimArgName(name);
    this.inputs.push({ name, dtype });
    return { reference: name, dtype };
  }

  output(name: string, tensor: GraphTensor): void {
    this.claimArgName(name);
    this.outputs.push({ name, tensor });
  }

  /** Adds a node and returns all its outputs; `dtypes` gives each output's type (default: the first input's). */
  opOutputs(op: string, inputs: readonly GraphTensor[], attrs: Record<string, AttrInput>, dtypes?: readonly GraphDType[], name?: string): GraphTensor[] {
    const outputArgs = OUTPUT_ARGS[op];
    if (!outputArgs) throw new Error(`graph op ${op} has no entry in OUTPUT_ARGS`);
    const nodeName = this.uniqueNodeName(name ?? op.toLowerCase());
    this.nodes.push({ name: nodeName, op, inputs: inputs.map((input) => input.reference), attrs });
    const fallback = inputs[0]?.dtype ?? "float32";
    return outputArgs.map((arg, index) => ({ reference: `${nodeName}:${arg}:0`, dtype: dtypes?.[index] ?? fallback }));
  }

  op(op: string, inputs: readonly GraphTensor[], attrs: Record<string, AttrInput> = {}, dtype?: GraphDType, name?: string): GraphTensor {
    return this.opOutputs(op, inputs, attrs, dtype ? [dtype] : undefined, name)[0]!;
  }

  constant(values: number | readonly number[], shape: readonly number[], dtype: GraphDType = "float32", name?: string): GraphTensor {
    const flat = typeof values === "number" ? [values] : values;
    const size = shape.reduce((product, dimension) => product * dimension, 1);
    if (flat.length !== size) throw new Error(`constant ${name ?? ""} has ${flat.length} values for shape [${shape.join(", ")}]`);
    const nodeName = this.uniqueNodeName(name ?? "const");
    this.nodes.push({ name: nodeName, op: "Const", inputs: [], attrs: { dtype: { type: dtype }, value: { tensor: { values: flat, shape, dtype } } } });
    return { reference: `${nodeName}:output:0`, dtype };
  }

  /** Serialized FunctionDef, with the content hash appended to `baseName` so that different graphs never share a name. */
  serialize(baseName: string): { name: string; bytes: Uint8Array } {
    const unnamed = this.encode("f").serializeBinary();
    const name = `${baseName}_${createHash("sha256").update(unnamed).digest("hex").slice(0, 16)}`;
    return { name, bytes: this.encode(name).serializeBinary() };
  }

  private encode(name: string): ProtoMessage {
    const tf = proto();
    const signature = new tf.OpDef();
    signature.setName(name);
    const argDef = (argName: string, dtype: GraphDType) => {
      const arg = new tf.OpDef.ArgDef();
      arg.setName(argName);
      arg.setType(TF_DTYPE[dtype]);
      return arg;
    };
    signature.setInputArgList(this.inputs.map(({ name: argName, dtype }) => argDef(argName, dtype)));
    signature.setOutputArgList(this.outputs.map(({ name: argName, tensor }) => argDef(argName, tensor.dtype)));
    const functionDef = new tf.FunctionDef();
    functionDef.setSignature(signature);
    functionDef.setNodeDefList(
      this.nodes.map((record) => {
        const node = new tf.NodeDef();
        node.setName(record.name);
        node.setOp(record.op);
        node.setInputList(record.inputs);
        const attrMap = node.getAttrMap();
        for (const key of Object.keys(record.attrs).sort()) attrMap.set(key, encodeAttr(tf, record.attrs[key]!));
        return node;
      }),
    );
    const returns = functionDef.getRetMap();
    for (const { name: argName, tensor } of this.outputs) returns.set(argName, tensor.reference);
    return functionDef;
  }

  private claimArgName(name: string): void {
    if (!ARG_NAME.test(name)) throw new Error(`function argument name ${JSON.stringify(name)} must match ${ARG_NAME}`);
    if (this.usedNames.has(`arg:${name}`)) throw new Error(`function argument ${name} is defined twice`);
    this.usedNames.add(`arg:${name}`);
  }

  private uniqueNodeName(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_.\-/]/g, "_");
    let candidate = clean;
    for (let suffix = 1; this.usedNames.has(candidate); suffix += 1) candidate = `${clean}_${suffix}`;
    this.usedNames.add(candidate);
    return candidate;
  }
}

function encodeAttr(tf: ProtoModule, attr: AttrInput): ProtoMessage {
  const value = new tf.AttrValue();
  if ("type" in attr) value.setType(TF_DTYPE[attr.type]);
  else if ("int" in attr) value.setI(attr.int);
  else if ("float" in attr) value.setF(attr.float);
  else if ("bool" in attr) value.setB(attr.bool);
  else if ("string" in attr) value.setS(new TextEncoder().encode(attr.string));
  else if ("ints" in attr) {
    const list = new tf.AttrValue.ListValue();
    list.setIList([...attr.ints]);
    value.setList(list);
  } else {
    const { values, shape, dtype } = attr.tensor;
    const tensor = new tf.Tensor();
    tensor.setDtype(TF_DTYPE[dtype]);
    const tensorShape = new tf.TensorShape();
    tensorShape.setDimList(
      shape.map((size) => {
        const dim = new tf.TensorShape.Dim();
        dim.setSize(size);
        return dim;
      }),
    );
    tensor.setTensorShape(tensorShape);
    if (dtype === "float32") tensor.setFloatValList([...values]);
    else if (dtype === "int32") tensor.setIntValList([...values]);
    else tensor.setBoolValList(values.map(Boolean));
    value.setTensor(tensor);
  }
  return value;
}
