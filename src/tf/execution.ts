// How a training step runs: a small module of its own so that CLI flag definitions can name the
// modes without loading the training code.

/** graph: each step is one TensorFlow function (native backend); eager: op by op through tfjs-layers. */
export const EXECUTION_MODES = ["graph", "eager"] as const;
export type ExecutionMode = (typeof EXECUTION_MODES)[number];
