import type { LayersModel } from "@tensorflow/tfjs";
import type { z } from "zod";
import type { CheckpointStore } from "../runtime/checkpoints.js";
import type { Reporter } from "../runtime/reporter.js";
import type { WorkflowName, WorkflowSpec } from "../config/schema.js";
import type { TensorFlowModule } from "../tf/backend.js";
import type { SignatureSpec } from "../tracking/mlmodel.js";

// What a workflow (data → model → fit → evaluate) gives the shared run lifecycle, and what it
// gets from it. Workflows never talk to the tracking store directly.

export interface WorkflowContext<Params> {
  spec: WorkflowSpec;
  params: Params;
  reporter: Reporter;
  /** Aborted on SIGINT/SIGTERM: stop at the next batch boundary. */
  signal: AbortSignal;
  /** Scratch folder for this run, removed afterwards. */
  workDirectory: string;
  logMetrics(metrics: Record<string, number>, step?: number): Promise<void>;
  /**
   * Logs one training epoch's metrics at step `epoch`, once: an epoch a resumed run trains
   * again (it was logged, then the process died before the next checkpoint) is not logged twice.
   */
  logEpochMetrics(metrics: Record<string, number>, epoch: number): Promise<void>;
  /** Where this run's training checkpoints go (--checkpoint-dir, else the run's artifacts). */
  checkpoints: CheckpointStore;
  logParams(params: Record<string, string | number | boolean>): Promise<void>;
  setTags(tags: Record<string, string>): Promise<void>;
  /** Copies a local folder into the run's artifacts under `artifactPath` (evaluate's reports). */
  logArtifacts(localDirectory: string, artifactPath: string): Promise<void>;
  /**
   * Runs `load` once per run and key: the stages of one `train` invocation (fit, then evaluate)
   * share what it returns, e.g. the dataset read and checked for fit. Nothing outlives the run.
   */
  once: Once;
}

export interface FitResult {
  /** Local folder holding the trained model; logged as the run's `model` artifact with an MLmodel file. */
  modelDirectory: string;
  flavors: Record<string, Record<string, unknown>>;
  signature?: { inputs: SignatureSpec[]; outputs: SignatureSpec[] };
}

/** Runs `load` once per run and key; what it returns is shared by the checks and the stages. */
export type Once = <T>(key: string, load: () => Promise<T>) => Promise<T>;

export interface WorkflowModule<Params> {
  /**
   * Everything that can be checked without training (data present, readable and consistent with
   * the flags), run before a run exists: a usage mistake must not leave a FAILED run behind. What
   * it reads through `once` is what fit and evaluate get, so the data is read once.
   */
  preflight?(params: Params, reporter: Reporter, once: Once): Promise<void>;
  /**
   * Reads and checks the input data without training or tracking (the DAGs' validate step);
   * returns what identifies the data (version hash, row counts, ranges). Throws DataError.
   */
  validate?(params: Params, reporter: Reporter): Promise<Record<string, string | number>>;
  fit(context: WorkflowContext<Params>): Promise<FitResult>;
  /** Scores the model in `modelDirectory` on held-out data; the gate metric must be among the result. */
  evaluate(context: WorkflowContext<Params>, modelDirectory: string): Promise<Record<string, number>>;
}

/**
 * How a workflow's DAG is laid out, as plain data: the DAG generator (src/dags/task-plan.ts)
 * reads this and imports no workflow code. Every step is one `train …` invocation.
 */
export interface OrchestrationShape {
  /**
   * What runs before fit. `validate`: one `train <name> validate` task. `partitions`: one mapped
   * task per date, `train <name> <command…> --date D`, and the training steps then get
   * `<windowEndFlag> <last date>` so they train on the partitions this DAG run computed.
   */
  input: { kind: "validate" } | { kind: "partitions"; command: readonly string[]; windowEndFlag: string };
  /**
   * Appended to fit's arguments on a GPU pod, to insist on the GPU: a node without a working
   * driver then fails the task (exit 69) instead of training on its CPU for many times longer.
   * Empty for workflows without a GPU backend (test/workflows/catalog.test.ts checks the flags parse).
   */
  gpuFitArguments: readonly string[];
}

export interface BenchModelOptions {
  learningRate: number;
  seed: number;
}

/** What `train bench <name>` needs to time the workflow's training step on synthetic input. */
export interface BenchDefinition {
  /** Shape of one example, without the batch dimension (NHWC). */
  inputShape: number[];
  classes: number;
  /** Full training-set size, to extrapolate the time of one epoch. */
  epochExamples: number;
  /** The optimizer's learning rate when --learning-rate is not given: the params schema's default. */
  defaultLearningRate: number;
  /** A compiled model (optimizer and loss set), as the workflow compiles it. */
  createModel(tf: TensorFlowModule, options: BenchModelOptions): Promise<LayersModel>;
}

/** The single declaration of a workflow: src/workflows/catalog.ts holds one per workflow. */
export interface WorkflowDefinition<Schema extends z.ZodObject = z.ZodObject> {
  name: WorkflowName;
  /** models/<registeredModel>.yaml */
  registeredModel: string;
  summary: string;
  paramsSchema: Schema;
  /** Lazy, so `train --help` never loads TensorFlow or WebAssembly. */
  load(): Promise<WorkflowModule<z.infer<Schema>>>;
  /** Extra subcommands of `train <name>` beside `validate`, in help order; src/cli wires them by these names. */
  subcommands: readonly string[];
  /** Absent: `train bench` does not offer the workflow. */
  bench?: BenchDefinition;
  orchestration: OrchestrationShape;
}
