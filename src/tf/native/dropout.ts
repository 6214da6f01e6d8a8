// Dropout with TensorFlow's own random numbers on the native backend.
//
// tfjs-core 4.22 draws dropout masks in JavaScript (randomUniform fills a typed array one value
// at a time, then copies it into TensorFlow): 1.2M values per step for the MNIST convnet, about
// 5 % of a training step in a CPU profile. It also restarts its generator from the layer's seed
// on every call, so a seeded Dropout layer (ours are, for reproducibility) drops the same units
// in every step. Keras instead advances a seed per call.
//
// Here the mask comes from TensorFlow's StatelessRandomUniform with seed [layer seed, call
// number]: computed natively, reproducible for a given seed, different in every step. tfjs-layers
// reaches dropout through the @tensorflow/tfjs-core exports object (as does @tensorflow/tfjs), so
// replacing that export switches every Dropout layer; other backends keep the original.
import { createRequire } from "node:module";
import type { Tensor } from "@tensorflow/tfjs";
import type { TensorFlowModule } from "../backend.js";

type Dropout = (x: Tensor, rate: number, noiseShape?: number[], seed?: number | string) => Tensor;

interface NativeBackend {
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number; TF_INT32: number };
  executeSingleOutput(name: string, attrs: Array<{ name: string; type: number; value: unknown }>, inputs: Tensor[]): Tensor;
}

const require = createRequire(import.meta.url);
const MARK = Symbol.for("podtrain.nativeDropout");

function seedNumber(seed: number | string | undefined): number | undefined {
  if (seed === undefined || seed === null) return undefined;
  if (typeof seed === "number") return Math.trunc(seed) | 0;
  let hash = 0;
  for (const character of String(seed)) hash = (Math.imul(hash, 31) + character.charCodeAt(0)) | 0;
  return hash;
}

export function nativeDropout(tf: TensorFlowModule, original: Dropout): Dropout {
  const calls = new Map<number, number>();
  const dropout: Dropout = (x, rate, noiseShape, seed) => {
    if (tf.getBackend() !== "tensorflow" || x.dtype !== "float32" || !(rate > 0 && rate < 1)) return original(x, rate, noiseShape, seed);
    const backend = tf.backend() as unknown as NativeBackend;
    const { binding } = backend;
    const layerSeed = seedNumber(seed) ?? Math.floor(Math.random() * 2 ** 31);
    const call = calls.get(layerSeed) ?? 0;
    calls.set(layerSeed, call + 1);
    return tf.tidy(() => {
      const shape = tf.tensor1d(noiseShape ?? x.shape, "int32");
      const seeds = tf.tensor1d([layerSeed, call], "int32");
      const uniform = backend.executeSingleOutput("StatelessRandomUniform", [
        { name: "dtype", type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
        { name: "T", type: binding.TF_ATTR_TYPE, value: binding.TF_INT32 },
        { name: "Tseed", type: binding.TF_ATTR_TYPE, value: binding.TF_INT32 },
      ], [shape, seeds]);
      const keep = 1 - rate;
      // Same scaling as tfjs-core: kept units × 1/keep, dropped units 0.
      return tf.mul(x, tf.div(tf.floor(tf.add(uniform, keep)), keep));
    });
  };
  return Object.assign(dropout, { [MARK]: true });
}

/** Points tfjs-core's `dropout` export at the native version. Idempotent. */
export function installNativeDropout(tf: TensorFlowModule): void {
  const core = require("@tensorflow/tfjs-core") as { dropout: Dropout & { [MARK]?: boolean } };
  if (core.dropout[MARK]) return;
  core.dropout = nativeDropout(tf, core.dropout);
}
