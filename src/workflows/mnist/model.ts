import type { TensorFlowModule } from "../../tf/backend.js";
import { MNIST_CLASSES, MNIST_IMAGE_SIDE } from "../../data/mnist/dataset.js";
import type { MnistParams } from "./params.js";

/**
 * The classic Keras MNIST convnet: conv32-conv64-maxpool-dropout-dense128-dropout-dense10.
 * Dropout layers get no seed on purpose: tfjs reuses a seeded dropout mask on every step, which
 * turns dropout into a fixed smaller network and costs accuracy. The graph step (src/tf/graph)
 * draws its masks from the run seed and the step number instead, so runs are reproducible.
 */
export function createMnistModel(tf: TensorFlowModule, params: Pick<MnistParams, "learning_rate" | "seed">) {
  const seed = params.seed;
  const kernelInitializer = (offset: number) => tf.initializers.glorotUniform({ seed: seed + offset });
  const model = tf.sequential({
    name: "mnist_cnn",
    layers: [
      tf.layers.conv2d({ inputShape: [MNIST_IMAGE_SIDE, MNIST_IMAGE_SIDE, 1], filters: 32, kernelSize: 3, activation: "relu", kernelInitializer: kernelInitializer(1) }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu", kernelInitializer: kernelInitializer(2) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.dropout({ rate: 0.25 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: "relu", kernelInitializer: kernelInitializer(4) }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: MNIST_CLASSES, activation: "softmax", kernelInitializer: kernelInitializer(6) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(params.learning_rate), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  return model;
}
