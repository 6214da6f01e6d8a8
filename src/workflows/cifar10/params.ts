import { z } from "zod";
import { BACKEND_REQUESTS } from "../../tf/backend.js";
import { EXECUTION_MODES } from "../../tf/execution.js";

export const LEARNING_RATE_SCHEDULES = ["cosine", "step", "constant"] as const;

export const cifar10ParamsSchema = z.strictObject({
  data_file: z.string().optional().describe("the official cifar-10-binary.tar.gz, read without extracting"),
  data_dir: z.string().optional().describe("folder with cifar-10-binary.tar.gz, its cifar-10-batches-bin/ folder or the .bin files; default: where `train data fetch cifar10` puts it"),
  epochs: z.number().int().positive().default(30).describe("passes over the training set"),
  batch_size: z.number().int().positive().default(128).describe("images per gradient step"),
  learning_rate: z.number().positive().default(0.05).describe("peak SGD learning rate (first epoch), then follows the schedule"),
  momentum: z.number().min(0).max(1).default(0.9).describe("SGD momentum"),
  weight_decay: z.number().min(0).default(5e-4).describe("weight decay on conv/dense kernels, applied as an L2 penalty of weight_decay/2·‖w‖²"),
  schedule: z.enum(LEARNING_RATE_SCHEDULES).default("cosine").describe("per-epoch learning rate: cosine decay to 0, step (×0.1 at 50 % and 75 % of the epochs) or constant"),
  augment: z.boolean().default(true).describe("random crop of the 4-pixel padded image and horizontal flip, drawn per batch from the seed"),
  validation_split: z.number().min(0).max(0.5).default(0.1).describe("fraction of the training images held out for validation (the last ones, like Keras)"),
  seed: z.number().int().default(42).describe("seed for weight initialisation, shuffling, augmentation and dropout"),
  backend: z.enum(BACKEND_REQUESTS).default("auto").describe("TensorFlow.js backend (auto: native TensorFlow when provisioned, on the GPU when the CUDA build sees one; tensorflow-gpu: fail unless it does)"),
  execution: z.enum(EXECUTION_MODES).default("graph").describe("graph: each training step runs as one TensorFlow function (native backend; falls back to eager elsewhere); eager: op by op through tfjs-layers"),
  checkpoint_every_epochs: z.number().int().positive().default(1).describe("write a training checkpoint (weights, optimizer state, position) every N epochs; a retried fit resumes from the newest"),
  checkpoint_every_minutes: z.number().positive().default(10).describe("also write a checkpoint at least this often, inside an epoch if need be"),
  train_limit: z.number().int().positive().optional().describe("use only the first N training images (smoke tests)"),
  test_limit: z.number().int().positive().optional().describe("evaluate on only the first N test images (smoke tests)"),
  allow_partial_batches: z.boolean().default(false).describe("accept batch files with fewer than the official 10000 records (hand-made subsets, test fixtures)"),
});

export type Cifar10Params = z.infer<typeof cifar10ParamsSchema>;
