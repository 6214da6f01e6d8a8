import type { WorkflowName } from "../config/schema.js";
import { cifar10ParamsSchema } from "./cifar10/params.js";
import { mnistParamsSchema } from "./mnist/params.js";
import { powerParamsSchema } from "./power/params.js";
import { tickParamsSchema } from "./tick/params.js";
import type { WorkflowDefinition } from "./types.js";

// The four workflows, each with its spec file and parameter schema loaded eagerly (cheap) and its
// implementation loaded lazily (TensorFlow, WebAssembly).

export const WORKFLOWS: Record<WorkflowName, WorkflowDefinition> = {
  mnist: {
    name: "mnist",
    registeredModel: "mnist_cnn",
    summary: "Keras-style MNIST convnet on the real MNIST IDX files (TensorFlow.js, native TensorFlow)",
    paramsSchema: mnistParamsSchema,
    load: async () => (await import("./mnist/workflow.js")).mnistWorkflow,
  },
  cifar10: {
    name: "cifar10",
    registeredModel: "cifar10_cnn",
    summary: "VGG-style CIFAR-10 CNN with batch norm and crop/flip augmentation on the official binary batches (TensorFlow.js, native TensorFlow)",
    paramsSchema: cifar10ParamsSchema,
    load: async () => (await import("./cifar10/workflow.js")).cifar10Workflow,
  },
  tick: {
    name: "tick",
    registeredModel: "tick_model",
    summary: "tick-data direction model on Arrow features by date partition (LightGBM); subcommands: features, generate",
    paramsSchema: tickParamsSchema,
    load: async () => (await import("./tick/workflow.js")).tickWorkflow,
  },
  power: {
    name: "power",
    registeredModel: "power_lgbm",
    summary: "next-hour household power forecast (UCI format) with LightGBM in WebAssembly, scored against seasonal-naive baselines",
    paramsSchema: powerParamsSchema,
    load: async () => (await import("./power/workflow.js")).powerWorkflow,
  },
};
