// Chooses and loads the TensorFlow.js backend.
//
//   tensorflow  native TensorFlow kernels through @tensorflow/tfjs-node (needs `npm run setup`)
//   wasm        WebAssembly (XNNPACK) kernels of @tensorflow/tfjs-backend-wasm with our gradient
//               kernels (src/tf/wasm): the fallback that trains where native TensorFlow is missing
//   cpu         pure-JS kernels of @tensorflow/tfjs (always available, ~2000x slower for CNNs)
//   tensorflow-gpu  the same binding, insisting on the CUDA build (`npm run setup -- --gpu`) and a
//               GPU that TensorFlow can see: fails instead of silently training on the CPU
//   auto        tensorflow when its binding loads (on the GPU when the CUDA build finds one),
//               else cpu with a warning
//
// Both packages are CommonJS; they are loaded with createRequire so that tfjs-node and the code
// using the returned `tf` share one @tensorflow/tfjs instance (one engine, one kernel registry).
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { UnavailableError } from "../core/errors.js";
import { installNativeDropout } from "./native/dropout.js";
import { registerNativeReluGradient } from "./native/relu-gradient.js";
import { registerNativeStepKernel } from "./native/step-kernel.js";

export type TensorFlowModule = typeof import("@tensorflow/tfjs");
export const BACKEND_REQUESTS = ["auto", "tensorflow", "tensorflow-gpu", "wasm", "cpu"] as const;
export type BackendRequest = (typeof BACKEND_REQUESTS)[number];

/** Contents of node_modules/@tensorflow/tfjs-node/deps/PODTRAIN-PROVISION.json (native/tensorflow/provision.mjs). */
export interface ProvisionStamp {
  format: number;
  variant: string;
  tensorflowVersion: string;
  package: string;
  wheel: string;
  wheelSha256: string;
  tfjsNodeVersion: string;
  provisionedAt: string;
  [key: string]: unknown;
}

export interface LoadedTensorFlow {
  tf: TensorFlowModule;
  /** The active tfjs backend: "tensorflow", "wasm" or "cpu". */
  backend: string;
  /** Whether TensorFlow places ops on a GPU (native CUDA build with a visible GPU). */
  usesGpu: boolean;
  /** Version of the native TensorFlow library the binding runs on (e.g. "2.21.0"); native only. */
  tensorflowVersion?: string;
  /** What `npm run setup` provisioned (wheel, SHA-256, time); native only, when the stamp exists. */
  provision?: ProvisionStamp;
}

export interface LoadTensorFlowOptions {
  /** Receives the warning when `auto` falls back to `cpu`. Default: process.emitWarning. */
  warn?: (message: string) => void;
  /** Package providing the native backend. Default "@tensorflow/tfjs-node" (tests override it). */
  nativePackage?: string;
}

export const SETUP_COMMAND = "npm run setup";

/** The native backend was requested but @tensorflow/tfjs-node or its binding is not usable. */
export class NativeBackendMissingError extends UnavailableError {
  readonly code = "NATIVE_BACKEND_MISSING";
  /** One-line reason taken from the underlying load error. */
  readonly reason: string;

  constructor(reason: string, options?: { cause?: unknown }) {
    super(
      `native backend missing: the TensorFlow binding of @tensorflow/tfjs-node cannot be loaded (${reason}). ` +
        `Run \`${SETUP_COMMAND}\` to provision TensorFlow and build the binding, or choose the pure-JS backend with --backend cpu.`,
      options,
    );
    this.reason = reason;
  }
}

const require = createRequire(import.meta.url);

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (message.split("\n")[0] ?? message).trim();
}

function readStamp(nativePackage: string): ProvisionStamp | undefined {
  try {
    const pkgJson = require.resolve(`${nativePackage}/package.json`);
    const file = path.join(path.dirname(pkgJson), "deps", "PODTRAIN-PROVISION.json");
    return JSON.parse(fs.readFileSync(file, "utf8")) as ProvisionStamp;
  } catch {
    return undefined;
  }
}

interface NativeBackendLike {
  binding?: { TF_Version?: string };
  isUsingGpuDevice?: boolean;
}

/** --backend tensorflow-gpu on a checkout or machine that cannot train on a GPU. */
export class GpuUnavailableError extends UnavailableError {
  readonly code = "GPU_UNAVAILABLE";
}

function requireGpu(provision: ProvisionStamp | undefined, usesGpu: boolean): void {
  if (provision?.variant !== "gpu") {
    const current = provision ? `this checkout has the ${provision.variant} build (${provision.package} ${provision.tensorflowVersion})` : "no provisioning record was found";
    throw new GpuUnavailableError(`--backend tensorflow-gpu needs the CUDA build of TensorFlow, but ${current}. Run \`${SETUP_COMMAND} -- --gpu\` (the podtrain-gpu image has it), or use --backend tensorflow to train on the CPU.`);
  }
  if (!usesGpu) {
    throw new GpuUnavailableError("--backend tensorflow-gpu: the CUDA build of TensorFlow is installed but sees no GPU. Check `nvidia-smi` on the node and that the pod requests a GPU (nvidia.com/gpu) with the NVIDIA container runtime; or use --backend tensorflow to train on the CPU.");
  }
}

// tfjs-node 4.22 calls util.isNullOrUndefined, which Node 23 removed, and util.isArray, which
// warns (DEP0044); the module (shared with the provisioning self-check) fixes both before the
// package loads. The path is the same from src/tf and dist/tf.
function restoreRemovedUtilFunctions(): void {
  const compat = require("../../native/tensorflow/node-util-compat.cjs") as typeof import("../../native/tensorflow/node-util-compat.cjs");
  compat.restoreRemovedUtilFunctions();
}

function loadNative(nativePackage: string): LoadedTensorFlow {
  // TensorFlow logs INFO notices on stderr when it loads; keep the user's choice if they made one.
  // Level 2 silences the CPU-feature notice. TF 2.21 prints "oneDNN custom operations are on"
  // through absl before logging is initialised, which no log level stops (only
  // TF_ENABLE_ONEDNN_OPTS=0 does, and that turns the oneDNN kernels off).
  process.env.TF_CPP_MIN_LOG_LEVEL ??= "2";
  restoreRemovedUtilFunctions();
  let tf: TensorFlowModule;
  try {
    tf = require(nativePackage) as TensorFlowModule;
  } catch (err) {
    throw new NativeBackendMissingError(firstLine(err), { cause: err });
  }
  const provision = readStamp(nativePackage);
  return provision ? { tf, backend: "tensorflow", usesGpu: false, provision } : { tf, backend: "tensorflow", usesGpu: false };
}

/**
 * Loads TensorFlow.js with the requested backend and makes it the active one.
 *
 * - `tensorflow`: throws {@link NativeBackendMissingError} when the native binding is missing.
 * - `auto`: native when it loads, otherwise `cpu` after a warning that names `npm run setup`.
 * - `wasm`: WebAssembly kernels plus our training kernels; never loads the native package.
 * - `cpu`: never loads the native package.
 */
export async function loadTensorFlow(
  requested: BackendRequest,
  options: LoadTensorFlowOptions = {},
): Promise<LoadedTensorFlow> {
  const nativePackage = options.nativePackage ?? "@tensorflow/tfjs-node";
  const warn = options.warn ?? ((message: string) => process.emitWarning(message, { code: "PODTRAIN_CPU_FALLBACK" }));

  if (requested === "tensorflow" || requested === "tensorflow-gpu" || requested === "auto") {
    try {
      const loaded = loadNative(nativePackage);
      const { tf } = loaded;
      if (!(await tf.setBackend("tensorflow"))) {
        throw new NativeBackendMissingError('tf.setBackend("tensorflow") failed');
      }
      await tf.ready();
      // Faster training kernels (src/tf/native). PODTRAIN_STOCK_KERNELS=1 keeps tfjs-node's own:
      // for before/after benchmarks, or to rule ours out when debugging.
      if (process.env.PODTRAIN_STOCK_KERNELS !== "1") {
        registerNativeStepKernel(tf);
        installNativeDropout(tf);
        registerNativeReluGradient(tf);
      }
      const nativeBackend = tf.backend() as unknown as NativeBackendLike;
      const usesGpu = Boolean(nativeBackend.isUsingGpuDevice);
      if (requested === "tensorflow-gpu") requireGpu(loaded.provision, usesGpu);
      return { ...loaded, backend: tf.getBackend(), usesGpu, tensorflowVersion: nativeBackend.binding?.TF_Version };
    } catch (err) {
      if (requested !== "auto" || !(err instanceof NativeBackendMissingError)) throw err;
      warn(`${err.message} Falling back to the pure-JS "cpu" backend, which is far slower.`);
    }
  } else if (requested === "wasm") {
    const tf = require("@tensorflow/tfjs") as TensorFlowModule;
    const { activateWasmBackend } = await import("./wasm/load.js");
    await activateWasmBackend(tf);
    return { tf, backend: tf.getBackend(), usesGpu: false };
  } else if (requested !== "cpu") {
    throw new TypeError(`unknown backend ${JSON.stringify(requested)}: expected ${BACKEND_REQUESTS.join(", ")}`);
  }

  const tf = require("@tensorflow/tfjs") as TensorFlowModule;
  if (!(await tf.setBackend("cpu"))) throw new Error('tf.setBackend("cpu") failed');
  await tf.ready();
  return { tf, backend: tf.getBackend(), usesGpu: false };
}
