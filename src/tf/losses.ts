import type { Tensor } from "@tensorflow/tfjs";
import type { TensorFlowModule } from "./backend.js";

/** Marks a loss function as softmax cross-entropy over logits, so the graph compiler can lower it. */
export const LOGITS_CROSS_ENTROPY = Symbol.for("podtrain.logitsCrossEntropy");

/**
 * Per-example softmax cross-entropy computed from logits (tfjs-layers takes the batch mean).
 * Used instead of categoricalCrossentropy on a softmax output where a run may become confidently
 * wrong early: tfjs clips probabilities to [1e-7, 1 − 1e-7], whose gradient is then zero.
 */
export function logitsCrossEntropy(tf: TensorFlowModule): ((labels: Tensor, logits: Tensor) => Tensor) & { [LOGITS_CROSS_ENTROPY]: true } {
  const loss = (labels: Tensor, logits: Tensor) => tf.losses.softmaxCrossEntropy(labels, logits, undefined, undefined, tf.Reduction.NONE);
  return Object.assign(loss, { [LOGITS_CROSS_ENTROPY]: true as const });
}
