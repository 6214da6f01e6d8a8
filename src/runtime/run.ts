import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { LoadedSpec } from "../spec/load.js";
import { MODEL_ARTIFACT_PATH, writeMLmodel } from "../tracking/mlmodel.js";
import type { RunInfo, TrackingStore } from "../tracking/store.js";
import type { WorkflowContext, WorkflowDefinition, WorkflowModule } from "../workflows/types.js";
import { airflowIdentityFromEnvironment, airflowTags, defaultRunKey, writeXcom } from "./airflow.js";
import { codeVersionTags, readCodeVersion } from "./code-version.js";
import { artifactCheckpoints, directoryCheckpoints } from "./checkpoints.js";
import { InterruptedError, PodtrainError, ResumeMismatchError, UsageError } from "./errors.js";
import { type RegistrationResult, registerIfGatePasses } from "./registration.js";
import type { Reporter } from "./reporter.js";
import { withAbortOnSignals } from "./signals.js";

export const STAGES = ["all", "fit", "evaluate", "register"] as const;
export type Stage = (typeof STAGES)[number];

const RUN_KEY_TAG = "podtrain.run_key";
const STAGES_DONE_TAG = "podtrain.stages_done";
/** Training epochs whose metrics are logged: a resumed run does not log them again. */
const EPOCHS_LOGGED_TAG = "podtrain.fit.epochs_logged";

export interface RunOptions {
  definition: WorkflowDefinition;
  loaded: LoadedSpec;
  params: Record<string, unknown>;
  store: TrackingStore;
  reporter: Reporter;
  stage: Stage;
  runKey?: string;
  /** Continue this exact run (Airflow passes the fit task's run id to later steps). */
  runId?: string;
  runName?: string;
  register: boolean;
  xcomPath?: string;
  /** Seconds from SIGTERM/SIGINT until the process exits, checkpoint or not (default 25). */
  gracePeriodSeconds?: number;
  /** Checkpoints go to <checkpointDirectory>/<run id>/ (a mounted volume) instead of the run's artifacts. */
  checkpointDirectory?: string;
}

export interface RunSummary {
  run_id: string;
  experiment_id: string;
  tracking: string;
  stage: Stage;
  metrics: Record<string, number>;
  model_uri: string;
  gate_passed?: boolean;
  gate_reason?: string;
  registered_model?: string;
  registered_version?: string;
  reused?: boolean;
}

function stringParams(params: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined).map(([key, value]) => [key, String(value)]));
}

/** Finds the run a retried task (same run key) must continue, or creates one. */
async function openRun(options: RunOptions, experimentId: string, runKey: string | undefined): Promise<{ run: RunInfo; reused: boolean }> {
  const { store, loaded } = options;
  if (options.runId) {
    const existing = (await store.getRun(options.runId)).info;
    if (existing.experimentId !== experimentId) {
      throw new UsageError(`run ${options.runId} belongs to experiment ${existing.experimentId}, not to "${loaded.spec.experiment}" of ${path.basename(loaded.file)}`);
    }
    if (existing.status !== "RUNNING") await store.updateRun(existing.runId, { status: "RUNNING" });
    return { run: { ...existing, status: "RUNNING" }, reused: true };
  }
  if (runKey) {
    const [existing] = await store.findRunsByTag(experimentId, RUN_KEY_TAG, runKey);
    if (existing) {
      if (existing.status !== "RUNNING") await store.updateRun(existing.runId, { status: "RUNNING" });
      return { run: { ...existing, status: "RUNNING" }, reused: true };
    }
  }
  if (options.stage === "evaluate" || options.stage === "register") {
    throw new UsageError(`--stage ${options.stage} continues an existing run: pass the same --run-key as the fit stage (or run inside Airflow)`);
  }
  const code = await readCodeVersion();
  const identity = airflowIdentityFromEnvironment();
  const run = await store.createRun({
    experimentId,
    runName: options.runName ?? `${loaded.spec.registered_model}-${new Date().toISOString().replace(/[:.]/g, "-")}`,
    startTime: Date.now(),
    tags: {
      "podtrain.workflow": options.definition.name,
      "podtrain.spec": path.basename(loaded.file),
      ...(runKey ? { [RUN_KEY_TAG]: runKey } : {}),
      ...codeVersionTags(code),
      ...airflowTags(identity),
    },
  });
  return { run, reused: false };
}

export async function runWorkflow(options: RunOptions): Promise<RunSummary> {
  const { store, reporter, loaded, definition } = options;
  const log = reporter.log;
  // Load the implementation first: a workflow that cannot load must not leave a run behind.
  const module = await definition.load();
  await store.checkAvailable();
  const experimentId = await store.getOrCreateExperiment(loaded.spec.experiment);
  const runKey = options.runKey ?? defaultRunKey(airflowIdentityFromEnvironment());
  const { run, reused } = await openRun(options, experimentId, runKey);
  log.info({ run_id: run.runId, experiment: loaded.spec.experiment, tracking: store.location, reused }, reused ? "continuing run" : "started run");

  const workDirectory = await mkdtemp(path.join(os.tmpdir(), `podtrain-${definition.name}-`));
  try {
    // A forced exit (second signal, grace period spent) still leaves the run KILLED, not RUNNING.
    const markKilled = async (reason: string) => {
      await store.logBatch(run.runId, { tags: { "podtrain.error": reason } });
      await store.updateRun(run.runId, { status: "KILLED", endTime: Date.now() });
    };
    const signals = { ...(options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: options.gracePeriodSeconds } : {}), onForcedExit: markKilled };
    return await withAbortOnSignals(log, signals, async (signal) => {
      // Every stage checks the signal before it starts and before it writes; a signal that comes
      // after the last write finds the work done, and the run is FINISHED, not KILLED.
      const summary = await executeStages(options, module, run, workDirectory, signal);
      await store.updateRun(run.runId, { status: "FINISHED", endTime: Date.now() });
      if (options.xcomPath) log.info({ xcom: await writeXcom(options.xcomPath, { ...summary, reused }) }, "wrote XCom return value");
      return { ...summary, ...(reused ? { reused } : {}) };
    });
  } catch (error) {
    const status = error instanceof InterruptedError ? "KILLED" : "FAILED";
    const message = error instanceof Error ? error.message : String(error);
    try {
      await store.logBatch(run.runId, { tags: { "podtrain.error": message.slice(0, 5000) } });
      await store.updateRun(run.runId, { status, endTime: Date.now() });
      log.error({ run_id: run.runId, status }, `run marked ${status}`);
    } catch (markError) {
      log.error({ run_id: run.runId, error: (markError as Error).message }, "could not mark the run as failed in the tracking store");
    }
    throw error;
  } finally {
    await rm(workDirectory, { recursive: true, force: true });
  }
}

async function executeStages(options: RunOptions, module: WorkflowModule<Record<string, unknown>>, run: RunInfo, workDirectory: string, signal: AbortSignal): Promise<RunSummary> {
  const { store, loaded, definition, reporter } = options;
  const runId = run.runId;
  const current = await store.getRun(runId);
  const stagesDone = new Set((current.tags[STAGES_DONE_TAG] ?? "").split(",").filter(Boolean));
  const markDone = async (stage: string) => {
    stagesDone.add(stage);
    await store.logBatch(runId, { tags: { [STAGES_DONE_TAG]: [...stagesDone].sort().join(",") } });
  };
  const want = (stage: Exclude<Stage, "all">) => options.stage === "all" || options.stage === stage;
  const stopIfInterrupted = () => {
    if (signal.aborted) throw new InterruptedError(String(signal.reason ?? "signal"));
  };
  let epochsLogged = Number(current.tags[EPOCHS_LOGGED_TAG] ?? 0);

  const loadedOnce = new Map<string, Promise<unknown>>();
  const context: WorkflowContext<Record<string, unknown>> = {
    spec: loaded.spec,
    params: options.params,
    reporter,
    signal,
    workDirectory,
    logMetrics: (metrics, step = 0) => {
      const timestamp = Date.now();
      return store.logBatch(runId, { metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, step, timestamp })) });
    },
    logEpochMetrics: async (metrics, epoch) => {
      if (epoch < epochsLogged) return;
      const timestamp = Date.now();
      epochsLogged = epoch + 1;
      await store.logBatch(runId, { metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, step: epoch, timestamp })), tags: { [EPOCHS_LOGGED_TAG]: String(epochsLogged) } });
    },
    checkpoints: options.checkpointDirectory ? directoryCheckpoints(options.checkpointDirectory, runId, reporter.log) : artifactCheckpoints(store, runId, workDirectory, reporter.log),
    logParams: (params) => store.logBatch(runId, { params: stringParams(params) }),
    setTags: (tags) => store.logBatch(runId, { tags }),
    once: <T>(key: string, load: () => Promise<T>) => {
      if (!loadedOnce.has(key)) loadedOnce.set(key, load());
      return loadedOnce.get(key) as Promise<T>;
    },
  };
  const modelUri = `${run.artifactUri}/${MODEL_ARTIFACT_PATH}`;
  let localModelDirectory: string | undefined;

  if (want("fit") && !stagesDone.has("fit")) {
    refuseChangedParams(options, current.params, runId);
    await context.logParams(stringParams(options.params));
    const fitted = await module.fit(context);
    stopIfInterrupted();
    await writeMLmodel(fitted.modelDirectory, { runId, flavors: fitted.flavors, ...(fitted.signature ? { signature: fitted.signature } : {}) });
    await store.logArtifacts(runId, fitted.modelDirectory, MODEL_ARTIFACT_PATH);
    await logLoggedModel(store, run, fitted.modelDirectory, Object.keys(fitted.flavors)[0] ?? "custom");
    localModelDirectory = fitted.modelDirectory;
    await markDone("fit");
    await context.checkpoints.clear().catch((error: Error) => reporter.log.warn({ reason: error.message }, "could not remove the run's training checkpoints"));
  }
  if (want("evaluate") && !stagesDone.has("evaluate")) {
    stopIfInterrupted();
    if (!stagesDone.has("fit")) throw new UsageError(`run ${runId} has no fitted model yet: run --stage fit first`);
    if (!localModelDirectory) {
      localModelDirectory = path.join(workDirectory, "downloaded-model");
      await store.downloadArtifacts(runId, MODEL_ARTIFACT_PATH, localModelDirectory);
    }
    const metrics = await module.evaluate(context, localModelDirectory);
    stopIfInterrupted();
    await context.logMetrics(metrics);
    await markDone("evaluate");
  }
  let registration: RegistrationResult | undefined;
  if (want("register") && options.register) {
    if (!stagesDone.has("evaluate")) throw new UsageError(`run ${runId} is not evaluated yet: run --stage evaluate first`);
    // Nothing is registered for a run that was told to stop; registration checks again before each write.
    stopIfInterrupted();
    registration = await registerIfGatePasses({ store, spec: loaded.spec, runId, modelUri, log: reporter.log, signal });
    await markDone("register");
  }
  const metrics = (await store.getRun(runId)).metrics;
  return {
    run_id: runId,
    experiment_id: run.experimentId,
    tracking: store.location,
    stage: options.stage,
    metrics,
    model_uri: modelUri,
    ...(registration
      ? {
          gate_passed: registration.gate.passed,
          gate_reason: registration.gate.reason,
          ...(registration.version ? { registered_model: loaded.spec.registered_model, registered_version: registration.version } : {}),
        }
      : {}),
  };
}

/**
 * A run resumed with other hyper-parameters would mix two trainings in one model: refuse it
 * (resuming with other values is a new run, under another run key).
 */
function refuseChangedParams(options: RunOptions, logged: Record<string, string>, runId: string): void {
  const given = stringParams(options.params);
  const changed = Object.keys(options.definition.paramsSchema.shape)
    .filter((key) => key in logged && logged[key] !== given[key])
    .map((key) => `${key}=${given[key] ?? "(unset)"} (the run has ${logged[key]})`);
  if (changed.length > 0) {
    throw new ResumeMismatchError(`run ${runId} was started with other parameters, so it cannot be resumed with ${changed.join(", ")}: use the run's values, or start a new run (another --run-key)`);
  }
}

export const LOGGED_MODEL_TAG = "podtrain.logged_model_id";

/**
 * On an MLflow 3 server the model is also logged as a logged model linked to the run, which is
 * what the UI lists as the run's model and what a registered version points at (models:/<id>).
 * A failed upload finalizes it as UPLOAD_FAILED so nothing half-written looks usable.
 */
async function logLoggedModel(store: TrackingStore, run: RunInfo, modelDirectory: string, modelType: string): Promise<void> {
  if (!store.loggedModels) return;
  const model = await store.loggedModels.create({ experimentId: run.experimentId, name: MODEL_ARTIFACT_PATH, sourceRunId: run.runId, modelType });
  try {
    await store.loggedModels.logArtifacts(model, modelDirectory);
  } catch (error) {
    await store.loggedModels.finalize(model.modelId, "UPLOAD_FAILED").catch(() => undefined);
    throw error;
  }
  await store.loggedModels.finalize(model.modelId, "READY");
  await store.logBatch(run.runId, { tags: { [LOGGED_MODEL_TAG]: model.modelId } });
}

export function isPodtrainError(error: unknown): error is PodtrainError {
  return error instanceof PodtrainError;
}
