// Loads the WebAssembly backend of TensorFlow.js: the fallback where native TensorFlow cannot be
// installed. It runs XNNPACK kernels with SIMD (about 200 images/s on the MNIST convnet against
// 0.4 for the pure-JS cpu backend), and trains once our gradient kernels are registered.
import { createRequire } from "node:module";
import path from "node:path";
import { registerWasmGradientKernels } from "./gradient-kernels.js";

import type { TensorFlowModule } from "../backend.js";
type WasmBackendModule = typeof import("@tensorflow/tfjs-backend-wasm");

const require = createRequire(import.meta.url);

/** Folder holding tfjs-backend-wasm*.wasm, with a trailing separator (setWasmPaths joins by concatenation). */
export function wasmBinaryDirectory(): string {
  return path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + path.sep;
}

/**
 * Makes "wasm" the active backend of the shared @tensorflow/tfjs instance and registers the
 * training kernels. Under Node the Emscripten loader reads a plain file path with fs (no fetch of
 * a file: URL), so pointing setWasmPaths at the package's dist folder is enough.
 */
export async function activateWasmBackend(tf: TensorFlowModule): Promise<void> {
  // tfjs-backend-wasm requires @tensorflow/tfjs-core itself: the same instance @tensorflow/tfjs uses.
  const wasm = require("@tensorflow/tfjs-backend-wasm") as WasmBackendModule;
  if (tf.getBackend() !== "wasm") {
    wasm.setWasmPaths(wasmBinaryDirectory());
    if (!(await tf.setBackend("wasm"))) throw new Error(`tf.setBackend("wasm") failed: cannot load the WebAssembly binary from ${wasmBinaryDirectory()}`);
  }
  await tf.ready();
  registerWasmGradientKernels(tf);
}
