import { UnavailableError } from "../core/errors.js";
import { ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from "./export.js";

// onnxruntime-node, CPU only. Its npm package ships the CPU binary (bin/napi-v6/<os>/<arch>/), so
// it works with install scripts off (.npmrc); the install script would only fetch CUDA providers.
type OnnxRuntime = typeof import("onnxruntime-node");

let loaded: Promise<OnnxRuntime> | undefined;

export function loadOnnxRuntime(): Promise<OnnxRuntime> {
  loaded ??= import("onnxruntime-node").then(
    (module) => ((module as { default?: OnnxRuntime }).default ?? module) as OnnxRuntime,
    (error: Error) => {
      loaded = undefined;
      throw new UnavailableError(`onnxruntime-node cannot be loaded (${error.message}): run npm ci on this platform`, { cause: error });
    },
  );
  return loaded;
}

export interface OnnxPredictor {
  /** Class probabilities, flat [count, classes]. */
  predict(images: Float32Array, count: number, imageShape: number[]): Promise<Float32Array>;
  release(): Promise<void>;
}

export async function onnxPredictor(model: Uint8Array): Promise<OnnxPredictor> {
  const ort = await loadOnnxRuntime();
  const session = await ort.InferenceSession.create(model, { executionProviders: ["cpu"], graphOptimizationLevel: "all" });
  return {
    async predict(images, count, imageShape) {
      const input = new ort.Tensor("float32", images, [count, ...imageShape]);
      const outputs = await session.run({ [ONNX_INPUT_NAME]: input });
      const output = outputs[ONNX_OUTPUT_NAME];
      if (!output) throw new Error(`the ONNX model has no output ${ONNX_OUTPUT_NAME}`);
      return output.data as Float32Array;
    },
    release: () => session.release(),
  };
}
