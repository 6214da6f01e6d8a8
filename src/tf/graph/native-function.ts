// Registers a FunctionGraph with the native TensorFlow backend and calls it as one op.
import type { Tensor } from "@tensorflow/tfjs";
import type { TensorFlowModule } from "../backend.js";
import type { FunctionGraph } from "./function-def.js";

interface FunctionBackend {
  binding: { addFunctionDef?: (bytes: Uint8Array) => void };
  executeMultipleOutputs(name: string, attrs: unknown[], inputs: Tensor[], outputCount: number): Tensor[];
}

/** Why graph execution is unavailable on the active backend, or undefined when it is available. */
export function graphExecutionUnavailable(tf: TensorFlowModule): string | undefined {
  if (tf.getBackend() !== "tensorflow") return `the ${tf.getBackend()} backend runs ops one at a time (graph execution needs the native tensorflow backend)`;
  const backend = tf.backend() as unknown as Partial<FunctionBackend>;
  if (typeof backend.binding?.addFunctionDef !== "function") return "the tfjs-node binding lacks addFunctionDef: rerun `npm run setup -- --force` to rebuild it";
  return undefined;
}

export interface NativeFunction {
  readonly name: string;
  readonly outputCount: number;
  call(inputs: readonly Tensor[]): Tensor[];
}

const registered = new WeakMap<object, Set<string>>();

export function registerFunction(tf: TensorFlowModule, graph: FunctionGraph, baseName: string, outputCount: number): NativeFunction {
  const unavailable = graphExecutionUnavailable(tf);
  if (unavailable) throw new Error(`cannot run a graph function: ${unavailable}`);
  const backend = tf.backend() as unknown as FunctionBackend;
  const { name, bytes } = graph.serialize(baseName);
  const names = registered.get(backend) ?? new Set<string>();
  registered.set(backend, names);
  if (!names.has(name)) {
    backend.binding.addFunctionDef!(bytes);
    names.add(name);
  }
  return {
    name,
    outputCount,
    call: (inputs) => backend.executeMultipleOutputs(name, [], [...inputs], outputCount),
  };
}
