// A faster `Step` kernel for the native (tfjs-node) backend.
//
// Step is what every ReLU gradient runs (tfjs-core: dx = dy · step(x), also inside the fused
// conv2d/matmul gradients). tfjs-node 4.22 implements it by building `ones(x.shape)` and
// `fill(x.shape, alpha)` as JavaScript typed arrays and copying both into TensorFlow: for the MNIST
// convnet that is two arrays of 4.7M floats per layer per step. Profiling showed
// makeOnesTypedArray alone at 6 % of training time. This version stays inside TensorFlow.
// For ReLU (alpha = 0) it is relu(sign(x)): two passes, and NaN stays NaN as tfjs-core's Step
// specifies (test/tf/native-kernels.test.ts checks this against the cpu backend); for other
// alphas cast(x > 0) · (1 − alpha) + alpha with NaN passed through explicitly.
import type { KernelConfig, Tensor } from "@tensorflow/tfjs";
import type { TensorFlowModule } from "../backend.js";

const BACKEND = "tensorflow";

function stepKernel(tf: TensorFlowModule): KernelConfig {
  return {
    kernelName: "Step",
    backendName: BACKEND,
    kernelFunc: ({ inputs, attrs }) => {
      const x = inputs.x as Tensor;
      const alpha = (attrs as { alpha?: number }).alpha ?? 0;
      if (alpha === 0 && x.dtype === "float32") return tf.tidy(() => tf.relu(tf.sign(x)));
      return tf.tidy(() => {
        const positive = tf.cast(tf.greater(x, 0), x.dtype);
        const stepped = alpha === 0 ? positive : tf.add(tf.mul(positive, 1 - alpha), alpha);
        // TensorFlow's IsNan is defined for floating point only; integers are never NaN.
        return x.dtype === "float32" ? tf.where(tf.isNaN(x), x, stepped) : stepped;
      });
    },
  };
}

/** Replaces tfjs-node's Step kernel; call once the "tensorflow" backend is registered. Idempotent. */
export function registerNativeStepKernel(tf: TensorFlowModule): void {
  const current = tf.getKernel("Step", BACKEND) as (KernelConfig & { podtrain?: boolean }) | undefined;
  if (current?.podtrain) return;
  if (current) tf.unregisterKernel("Step", BACKEND);
  tf.registerKernel({ ...stepKernel(tf), podtrain: true } as KernelConfig);
}
