// What `train bench` can measure: one entry per workflow, built from the workflow's own model
// factory so the benchmark trains exactly the network `train <workflow>` trains. Adding a
// workflow (cifar10) is one entry: its factory, input shape and class count.
import type { LayersModel } from "@tensorflow/tfjs";
import type { TensorFlowModule } from "../tf/backend.js";

export interface BenchModelOptions {
  learningRate: number;
  seed: number;
}

export interface BenchTarget {
  /** Workflow name, as in `train <workflow>`; also picks models/<registeredModel>.yaml. */
  workflow: string;
  registeredModel: string;
  /** Shape of one example, without the batch dimension (NHWC). */
  inputShape: number[];
  classes: number;
  /** Full training-set size, to extrapolate the time of one epoch. */
  epochExamples: number;
  /** The workflow's default learning rate (its optimizer differs: Adam for MNIST, SGD momentum for CIFAR-10). */
  defaultLearningRate: number;
  /** A compiled model (optimizer and loss set), as the workflow compiles it. */
  createModel(tf: TensorFlowModule, options: BenchModelOptions): Promise<LayersModel>;
}

export const BENCH_TARGETS: Record<string, BenchTarget> = {
  mnist: {
    workflow: "mnist",
    registeredModel: "mnist_cnn",
    inputShape: [28, 28, 1],
    classes: 10,
    epochExamples: 54_000, // 60k training images less the default 10 % validation split
    defaultLearningRate: 0.001,
    async createModel(tf, { learningRate, seed }) {
      const { createMnistModel } = await import("../workflows/mnist/model.js");
      return createMnistModel(tf, { learning_rate: learningRate, seed });
    },
  },
  cifar10: {
    workflow: "cifar10",
    registeredModel: "cifar10_cnn",
    inputShape: [32, 32, 3],
    classes: 10,
    epochExamples: 45_000, // 50k training images less the default 10 % validation split
    defaultLearningRate: 0.05,
    async createModel(tf, { learningRate, seed }) {
      const { compileForTraining, createCifar10Model } = await import("../workflows/cifar10/model.js");
      const { cifar10ParamsSchema } = await import("../workflows/cifar10/params.js");
      const defaults = cifar10ParamsSchema.parse({});
      // The logits model is the one trained; the serving model only adds a softmax.
      const { training } = createCifar10Model(tf, { weight_decay: defaults.weight_decay, seed });
      compileForTraining(tf, training, { learning_rate: learningRate, momentum: defaults.momentum });
      return training;
    },
  },
};

export function benchTarget(workflow: string): BenchTarget {
  const target = BENCH_TARGETS[workflow];
  if (!target) throw new RangeError(`no benchmark for workflow "${workflow}": expected one of ${Object.keys(BENCH_TARGETS).join(", ")}`);
  return target;
}
