// ReLU's gradient as TensorFlow's single ReluGrad kernel on the native backend.
//
// While recording gradients, tfjs-core does not fuse conv2d/matMul with their activation
// (shouldFuse is false in gradient mode), so every ReLU layer trains through the registered
// `Relu` gradient: dy · cast(step(x)), three to four passes over the activations (4.7M floats
// for the MNIST convnet's second conv). TensorFlow's ReluGrad (what Keras' graph runs) does it
// in one pass. The gradient registry is global, so other backends keep tfjs-core's formula.
// Like TensorFlow and Keras (and unlike tfjs' step), ReluGrad gives 0, not NaN, where x is NaN.
import type { KernelConfig, NamedTensorMap, Tensor } from "@tensorflow/tfjs";
import type { TensorFlowModule } from "../backend.js";

const BACKEND = "tensorflow";
export const NATIVE_RELU_GRAD_KERNEL = "PodtrainReluGrad";

interface NativeBackend {
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: Array<{ name: string; type: number; value: unknown }>, inputs: Tensor[]): Tensor;
}

function reluGradKernel(): KernelConfig {
  return {
    kernelName: NATIVE_RELU_GRAD_KERNEL,
    backendName: BACKEND,
    kernelFunc: ({ inputs, backend }) => {
      const { binding, executeSingleOutput } = backend as unknown as NativeBackend;
      const { dy, x } = inputs as { dy: Tensor; x: Tensor };
      return executeSingleOutput.call(backend, "ReluGrad", [{ name: "T", type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT }], [dy, x]);
    },
  };
}

/** Registers the kernel and the Relu gradient that uses it on the native backend. Idempotent. */
export function registerNativeReluGradient(tf: TensorFlowModule): void {
  if (tf.getKernel(NATIVE_RELU_GRAD_KERNEL, BACKEND)) return;
  tf.registerKernel(reluGradKernel());
  tf.registerGradient({
    kernelName: "Relu",
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => {
      const [x] = saved as [Tensor];
      const gradient = dy as Tensor;
      return {
        x: () =>
          tf.getBackend() === BACKEND && x.dtype === "float32" && gradient.dtype === "float32"
            ? (tf.engine().runKernel(NATIVE_RELU_GRAD_KERNEL, { dy: gradient, x } as unknown as NamedTensorMap) as Tensor)
            : tf.mul(gradient, tf.cast(tf.step(x), "float32")),
      };
    },
  });
}
