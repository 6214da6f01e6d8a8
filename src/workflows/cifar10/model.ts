import type { TensorFlowModule } from "../../tf/backend.js";
import { logitsCrossEntropy } from "../../tf/losses.js";
import { CIFAR10_CHANNELS, CIFAR10_CLASSES, CIFAR10_IMAGE_SIDE } from "../../data/cifar10/format.js";
import type { Cifar10Params } from "./params.js";

// VGG-style net with batch normalisation: three blocks of two 3×3 convs (64, 128, 256 filters),
// each conv followed by batch norm and ReLU, each block by 2×2 max-pooling and dropout; then
// global average pooling, a 10-way dense layer (logits) and softmax. About 1.15 M weights and
// 0.15 GMAC per image; with crop+flip augmentation this family reaches ~90 % test accuracy on
// CIFAR-10 in a few dozen epochs of SGD.
// Chosen over ResNet-20 because it is a plain stack of few, wide convolutions: one native kernel
// call per layer keeps the per-op cost of the JS↔TensorFlow boundary small, and Keras builds the
// identical stack for the side-by-side benchmark (benchmarks/cifar10/).

export const CIFAR10_BLOCK_FILTERS = [64, 128, 256] as const;
export const CIFAR10_BLOCK_DROPOUT = [0.2, 0.3, 0.4] as const;
export const LOGITS_INIT_STDDEV = 0.01;

export interface Cifar10Models {
  /** Outputs logits: trained with a softmax cross-entropy computed from logits. */
  training: ReturnType<TensorFlowModule["model"]>;
  /** The same layers (shared weights) plus a softmax: what is saved, evaluated and served. */
  serving: ReturnType<TensorFlowModule["model"]>;
}

export function createCifar10Model(tf: TensorFlowModule, params: Pick<Cifar10Params, "weight_decay" | "seed">): Cifar10Models {
  const { seed } = params;
  // Keras' L2 adds l2·Σw² to the loss, whose gradient 2·l2·w equals SGD weight decay when l2 = wd/2.
  const regularizer = () => (params.weight_decay > 0 ? { kernelRegularizer: tf.regularizers.l2({ l2: params.weight_decay / 2 }) } : {});
  let layerSeed = seed;
  const input = tf.input({ shape: [CIFAR10_IMAGE_SIDE, CIFAR10_IMAGE_SIDE, CIFAR10_CHANNELS], name: "image" });
  let features = input;
  const apply = (layer: { apply(input: typeof features): unknown }) => {
    features = layer.apply(features) as typeof features;
  };
  CIFAR10_BLOCK_FILTERS.forEach((filters, block) => {
    for (let conv = 0; conv < 2; conv += 1) {
      // No bias: the batch norm right after has its own shift (beta).
      apply(tf.layers.conv2d({ filters, kernelSize: 3, padding: "same", useBias: false, kernelInitializer: tf.initializers.heNormal({ seed: (layerSeed += 1) }), ...regularizer() }));
      apply(tf.layers.batchNormalization());
      apply(tf.layers.activation({ activation: "relu" }));
    }
    apply(tf.layers.maxPooling2d({ poolSize: 2 }));
    // Unseeded: a seeded tfjs dropout layer draws the same mask at every step.
    apply(tf.layers.dropout({ rate: CIFAR10_BLOCK_DROPOUT[block] ?? 0 }));
  });
  // Global average pooling, not flatten: a dense layer on 4×4×256 = 4096 flattened features moves
  // its logits by ~lr·4096 per SGD step and the loss jumps to 5–10 even at lr 0.01; on the 256
  // channel averages (as in ResNet) plain SGD at lr 0.05 is stable.
  apply(tf.layers.globalAveragePooling2d({}));
  // Small initial weights keep the first logits near zero, so training starts at a loss of ln 10.
  apply(tf.layers.dense({ units: CIFAR10_CLASSES, name: "logits", kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: LOGITS_INIT_STDDEV, seed: (layerSeed += 1) }), ...regularizer() }));
  const logits = features;
  const probabilities = tf.layers.softmax({ name: "probabilities" }).apply(logits) as typeof logits;
  return {
    training: tf.model({ inputs: input, outputs: logits, name: "cifar10_cnn_logits" }),
    serving: tf.model({ inputs: input, outputs: probabilities, name: "cifar10_cnn" }),
  };
}

/**
 * SGD with momentum on the logits model; the training loop sets the rate each epoch.
 * The loss is computed from logits because tfjs' categoricalCrossentropy on softmax outputs
 * clips probabilities to [1e-7, 1-1e-7], whose gradient is zero: a net that becomes confidently
 * wrong early (high learning rate) then stays stuck at a loss near 9 (Keras avoids this by
 * reading the logits behind its softmax; tfjs does not).
 */
export function compileForTraining(tf: TensorFlowModule, model: Cifar10Models["training"], params: Pick<Cifar10Params, "learning_rate" | "momentum">) {
  const optimizer = tf.train.momentum(params.learning_rate, params.momentum);
  model.compile({ optimizer, loss: logitsCrossEntropy(tf), metrics: ["accuracy"] });
  return optimizer;
}
