import type { WorkflowName } from "../config/schema.js";
import { cifar10ParamsSchema } from "./cifar10/params.js";
import { mnistParamsSchema } from "./mnist/params.js";
import { powerParamsSchema } from "./power/params.js";
import { tickParamsSchema } from "./tick/params.js";
import type { OrchestrationShape, WorkflowDefinition } from "./types.js";

// The four workflows, each declared once: its spec file, parameter schema (eager, cheap), its
// implementation (lazy: TensorFlow, WebAssembly), its extra subcommands, its benchmark and the
// shape of its DAG. The CLI, `train bench` and the DAG generator all read this table; adding a
// workflow is one folder under src/workflows/ and one entry here.

/** On a GPU pod, insist on the GPU (the backend flag of the TensorFlow workflows). */
const TENSORFLOW_ORCHESTRATION: OrchestrationShape = { input: { kind: "validate" }, gpuFitArguments: ["--backend", "tensorflow-gpu"] };

const mnistDefaults = mnistParamsSchema.parse({});
const cifar10Defaults = cifar10ParamsSchema.parse({});

export const WORKFLOWS: Record<WorkflowName, WorkflowDefinition> = {
  mnist: {
    name: "mnist",
    registeredModel: "mnist_cnn",
    summary: "Keras-style MNIST convnet on the real MNIST IDX files (TensorFlow.js, native TensorFlow)",
    paramsSchema: mnistParamsSchema,
    load: async () => (await import("./mnist/workflow.js")).mnistWorkflow,
    subcommands: [],
    bench: {
      inputShape: [28, 28, 1],
      classes: 10,
      epochExamples: 54_000, // 60k training images less the default 10 % validation split
      defaultLearningRate: mnistDefaults.learning_rate,
      async createModel(tf, { learningRate, seed }) {
        const { createMnistModel } = await import("./mnist/model.js");
        return createMnistModel(tf, { learning_rate: learningRate, seed });
      },
    },
    orchestration: TENSORFLOW_ORCHESTRATION,
  },
  cifar10: {
    name: "cifar10",
    registeredModel: "cifar10_cnn",
    summary: "VGG-style CIFAR-10 CNN with batch norm and crop/flip augmentation on the official binary batches (TensorFlow.js, native TensorFlow)",
    paramsSchema: cifar10ParamsSchema,
    load: async () => (await import("./cifar10/workflow.js")).cifar10Workflow,
    subcommands: [],
    bench: {
      inputShape: [32, 32, 3],
      classes: 10,
      epochExamples: 45_000, // 50k training images less the default 10 % validation split
      defaultLearningRate: cifar10Defaults.learning_rate,
      async createModel(tf, { learningRate, seed }) {
        const { compileForTraining, createCifar10Model } = await import("./cifar10/model.js");
        // The logits model is the one trained; the serving model only adds a softmax.
        const { training } = createCifar10Model(tf, { weight_decay: cifar10Defaults.weight_decay, seed });
        compileForTraining(tf, training, { learning_rate: learningRate, momentum: cifar10Defaults.momentum });
        return training;
      },
    },
    orchestration: TENSORFLOW_ORCHESTRATION,
  },
  tick: {
    name: "tick",
    registeredModel: "tick_model",
    summary: "tick-data direction model on Arrow features by date partition (LightGBM); subcommands: features, generate",
    paramsSchema: tickParamsSchema,
    load: async () => (await import("./tick/workflow.js")).tickWorkflow,
    subcommands: ["features", "generate"],
    // Features are computed per date partition; training reads the window ending at the last one.
    orchestration: { input: { kind: "partitions", command: ["features"], windowEndFlag: "--as-of" }, gpuFitArguments: [] },
  },
  power: {
    name: "power",
    registeredModel: "power_lgbm",
    summary: "next-hour household power forecast (UCI format) with LightGBM in WebAssembly, scored against seasonal-naive baselines",
    paramsSchema: powerParamsSchema,
    load: async () => (await import("./power/workflow.js")).powerWorkflow,
    subcommands: ["generate", "fetch"],
    orchestration: { input: { kind: "validate" }, gpuFitArguments: [] },
  },
};

/** The workflows `train bench` can measure: those that declare a benchmark. */
export function benchmarkedWorkflows(): WorkflowDefinition[] {
  return Object.values(WORKFLOWS).filter((definition) => definition.bench !== undefined);
}
