import { createRequire } from "node:module";
import { UnavailableError } from "../runtime/errors.js";

// Interim loader; the provisioning work replaces it with the full version.
export type TensorFlowModule = typeof import("@tensorflow/tfjs");
export type BackendRequest = "auto" | "tensorflow" | "cpu";

export class NativeBackendMissingError extends UnavailableError {}

export async function loadTensorFlow(requested: BackendRequest): Promise<{ tf: TensorFlowModule; backend: string; tensorflowVersion?: string }> {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= "2";
  const require = createRequire(import.meta.url);
  if (requested !== "cpu") {
    try {
      const tf = require("@tensorflow/tfjs-node") as TensorFlowModule;
      await tf.setBackend("tensorflow");
      return { tf, backend: "tensorflow" };
    } catch (cause) {
      if (requested === "tensorflow") throw new NativeBackendMissingError("the native TensorFlow backend is not provisioned: run `npm run setup`", { cause });
    }
  }
  const tf = require("@tensorflow/tfjs") as TensorFlowModule;
  await tf.setBackend("cpu");
  return { tf, backend: "cpu" };
}
