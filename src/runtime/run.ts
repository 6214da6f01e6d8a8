import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { LoadedSpec } from "../config/load.js";
import { logModel } from "../tracking/log-model.js";
import { MODEL_ARTIFACT_PATH } from "../tracking/mlmodel.js";
import type { RunData, RunInfo, TrackingStore } from "../tracking/store.js";
import type { Once, WorkflowContext, WorkflowDefinition, WorkflowModule } from "../workflows/types.js";
import { airflowIdentityFromEnvironment, airflowTags, defaultRunKey, writeXcom } from "./airflow.js";
import { readCodeVersion } from "../core/code-version.js";
import { artifactCheckpoints, directoryCheckpoints } from "./checkpoints.js";
import { isObjectStoreUri } from "../data/object-store/uri.js";
import { objectStoreCheckpoints } from "./object-store-checkpoints.js";
import { DataError, exitCodeOf, InterruptedError, PodtrainError, RunOwnedError, UsageError } from "../core/errors.js";
import { type RegistrationResult, registerIfGatePasses } from "./registration.js";
import type { Reporter } from "./reporter.js";
import { withAbortOnSignals } from "./signals.js";
import {
  type Ownership,
  canonicalRun,
  claimRun,
  currentAttempt,
  leaseMilliseconds,
  leaseTags,
  reconcileCreated,
  startHeartbeat,
  verifyOwnership,
} from "./run-ownership.js";
import { redactSecrets } from "../core/redact.js";
import { codeVersionTags, EPOCHS_LOGGED_TAG, ERROR_TAG, LOGGED_MODEL_TAG, RUN_KEY_TAG, SPEC_TAG, STAGES_DONE_TAG, WORKFLOW_TAG } from "../tracking/tags.js";

export const STAGES = ["all", "fit", "evaluate", "register"] as const;
export type Stage = (typeof STAGES)[number];


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
  /** Checkpoints go to <checkpointDirectory>/<run id>/ (a mounted volume or s3://bucket/prefix) instead of the run's artifacts. */
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
  // Nested settings (tick's `input` contract) are logged as JSON, not as "[object Object]".
  const text = (value: unknown) => (value !== null && typeof value === "object" && !Array.isArray(value) ? JSON.stringify(value) : String(value));
  return Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined).map(([key, value]) => [key, text(value)]));
}

interface OpenedRun {
  run: RunInfo;
  reused: boolean;
  ownership: Ownership;
}

/**
 * Finds the run a retried task (same run key) must continue, or creates one; either way this
 * attempt ends up owning its lease, or throws RunOwnedError (exit 75). See run-ownership.ts.
 */
async function openRun(options: RunOptions, experimentId: string, runKey: string | undefined): Promise<OpenedRun> {
  const { store, loaded, reporter } = options;
  const identity = airflowIdentityFromEnvironment();
  const attempt = currentAttempt(identity);
  const leaseMs = leaseMilliseconds();
  const locked = store.withExclusiveLock !== undefined;
  const exclusively = <T>(body: () => Promise<T>): Promise<T> => (store.withExclusiveLock ? store.withExclusiveLock(body) : body());
  // A retry of the same task (found by run key) refreshes the run's airflow.* ids to its own try;
  // a later step continuing the run by id (evaluate, register) leaves the fit task's ids as lineage.
  const claim = async (runId: string, sameTask: boolean) => {
    assertSameParams(await store.getRun(runId), options);
    return claimRun({ store, runId, attempt, leaseMs, identity: sameTask ? identity : undefined, locked });
  };
  if (options.runId) {
    const runId = options.runId;
    const existing = (await store.getRun(runId)).info;
    if (existing.experimentId !== experimentId) {
      throw new UsageError(`run ${runId} belongs to experiment ${existing.experimentId}, not to "${loaded.spec.experiment}" of ${path.basename(loaded.file)}`);
    }
    const run = await exclusively(() => claim(runId, false));
    return { run, reused: true, ownership: { attempt, leaseMs, runKey: undefined, created: false } };
  }
  const opened = await exclusively(async () => {
    const existing = runKey ? canonicalRun(await store.findRunsByTag(experimentId, RUN_KEY_TAG, runKey)) : undefined;
    if (existing) return { run: await claim(existing.runId, true), reused: true };
    if (options.stage === "evaluate" || options.stage === "register") {
      throw new UsageError(`--stage ${options.stage} continues an existing run: pass the same --run-key as the fit stage (or run inside Airflow)`);
    }
    const code = await readCodeVersion();
    const run = await store.createRun({
      experimentId,
      runName: options.runName ?? `${loaded.spec.registered_model}-${new Date().toISOString().replace(/[:.]/g, "-")}`,
      // Taken right before the request: the race's winner is the earliest start time.
      startTime: Date.now(),
      tags: {
        [WORKFLOW_TAG]: options.definition.name,
        [SPEC_TAG]: path.basename(loaded.file),
        ...(runKey ? { [RUN_KEY_TAG]: runKey } : {}),
        ...leaseTags(attempt),
        ...codeVersionTags(code),
        ...airflowTags(identity),
      },
    });
    return { run, reused: false };
  });
  if (runKey && !opened.reused && !locked) await reconcileCreated({ store, run: opened.run, runKey, leaseMs, log: reporter.log });
  return { ...opened, ownership: { attempt, leaseMs, runKey, created: !opened.reused } };
}

/**
 * Continuing a fitted run with other hyper-parameters would silently keep (and register) the old
 * model: refuse, naming what differs.
 */
function assertSameParams(data: RunData, options: RunOptions): void {
  if (options.stage !== "all" && options.stage !== "fit") return;
  const differing = Object.entries(stringParams(options.params)).filter(([key, value]) => data.params[key] !== undefined && data.params[key] !== value);
  if (differing.length === 0) return;
  const listed = differing.map(([key, value]) => `${key}=${value} (run has ${data.params[key]})`).join(", ");
  throw new UsageError(`run ${data.info.runId} was trained with other parameters than this attempt asks for: ${listed}; use a new --run-key (or --run-id) for a new run, or the run's own parameters to continue it`);
}

export async function runWorkflow(options: RunOptions): Promise<RunSummary> {
  const { store, reporter, loaded, definition } = options;
  const log = reporter.log;
  // Load the implementation first: a workflow that cannot load must not leave a run behind.
  const module = await definition.load();
  // Check before create: bad data or flags fail here, with no run (and no ./mlruns) left behind.
  const once = onceMap();
  if (options.stage !== "register") await module.preflight?.(options.params, reporter, once);
  await store.checkAvailable();
  const experimentId = await store.getOrCreateExperiment(loaded.spec.experiment);
  const runKey = options.runKey ?? defaultRunKey(airflowIdentityFromEnvironment());
  const { run, reused, ownership } = await openRun(options, experimentId, runKey);
  log.info({ run_id: run.runId, experiment: loaded.spec.experiment, tracking: store.location, reused, attempt: ownership.attempt.description }, reused ? "continuing run" : "started run");
  const stopHeartbeat = startHeartbeat(store, run.runId, ownership.leaseMs, log);
  const verify = () => verifyOwnership(store, run, ownership, log);

  const workDirectory = await mkdtemp(path.join(os.tmpdir(), `podtrain-${definition.name}-`));
  try {
    // A forced exit (second signal, grace period spent) still leaves the run KILLED, not RUNNING:
    // the status first and alone, the error tag after it (as markFailed does).
    const markKilled = async (reason: string) => {
      await store.updateRun(run.runId, { status: "KILLED", endTime: Date.now() });
      await store.logBatch(run.runId, { tags: { [ERROR_TAG]: redactSecrets(reason) } }).catch(() => undefined);
    };
    const signals = { ...(options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: options.gracePeriodSeconds } : {}), onForcedExit: markKilled };
    return await withAbortOnSignals(log, signals, async (signal) => {
      // Every stage checks the signal before it starts and before it writes; a signal that comes
      // after the last write finds the work done, and the run is FINISHED, not KILLED.
      const summary = await executeStages(options, module, run, workDirectory, signal, verify, once);
      await verify();
      await store.updateRun(run.runId, { status: "FINISHED", endTime: Date.now() });
      if (options.xcomPath) log.info({ xcom: await writeXcom(options.xcomPath, { ...summary, reused }) }, "wrote XCom return value");
      return { ...summary, ...(reused ? { reused } : {}) };
    });
  } catch (error) {
    // The run belongs to another attempt (or ours was a deleted duplicate): not ours to mark.
    if (error instanceof RunOwnedError) throw error;
    throw await markFailed(store, run, error, log);
  } finally {
    stopHeartbeat();
    await rm(workDirectory, { recursive: true, force: true });
  }
}

/**
 * The status update goes first and alone, so a server that rejects tags (or a too-long error)
 * still ends the run FAILED/KILLED; the error tag is best effort after it. When even the status
 * cannot be sent, the error returned says so: the run is left RUNNING and a later attempt with
 * the same run key takes it over once its lease expires.
 */
async function markFailed(store: TrackingStore, run: RunInfo, error: unknown, log: RunOptions["reporter"]["log"]): Promise<unknown> {
  const status = error instanceof InterruptedError ? "KILLED" : "FAILED";
  const message = redactSecrets(error instanceof Error ? error.message : String(error));
  try {
    await store.updateRun(run.runId, { status, endTime: Date.now() });
  } catch (markError) {
    const reason = redactSecrets((markError as Error).message);
    log.error({ run_id: run.runId, error: reason }, "could not mark the run as failed in the tracking store");
    return new PodtrainError(`${message} (run ${run.runId} is left RUNNING on ${store.location}: marking it ${status} failed too: ${reason}; a later attempt with the same run key takes it over)`, exitCodeOf(error), { cause: error });
  }
  log.error({ run_id: run.runId, status }, `run marked ${status}`);
  await store.logBatch(run.runId, { tags: { [ERROR_TAG]: message.slice(0, 5000) } }).catch((tagError: unknown) => {
    log.warn({ run_id: run.runId, error: redactSecrets((tagError as Error).message) }, "could not store the error tag on the run");
  });
  return error;
}

async function executeStages(
  options: RunOptions,
  module: WorkflowModule<Record<string, unknown>>,
  run: RunInfo,
  workDirectory: string,
  signal: AbortSignal,
  verifyOwnership: () => Promise<void>,
  once: Once,
): Promise<RunSummary> {
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
    checkpoints: options.checkpointDirectory ? (isObjectStoreUri(options.checkpointDirectory) ? objectStoreCheckpoints(options.checkpointDirectory, runId, reporter.log) : directoryCheckpoints(options.checkpointDirectory, runId, reporter.log)) : artifactCheckpoints(store, runId, workDirectory, reporter.log),
    logParams: (params) => store.logBatch(runId, { params: stringParams(params) }),
    setTags: (tags) => store.logBatch(runId, { tags }),
    logArtifacts: (localDirectory, artifactPath) => store.logArtifacts(runId, localDirectory, artifactPath),
    once,
  };
  const modelUri = `${run.artifactUri}/${MODEL_ARTIFACT_PATH}`;
  let localModelDirectory: string | undefined;

  if (want("fit") && !stagesDone.has("fit")) {
    await context.logParams(stringParams(options.params));
    const fitted = await module.fit(context);
    stopIfInterrupted();
    await logModel(store, run, fitted.modelDirectory, { flavors: fitted.flavors, ...(fitted.signature ? { signature: fitted.signature } : {}) });
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
    assertFiniteMetrics(runId, metrics);
    await context.logMetrics(metrics);
    await markDone("evaluate");
  }
  let registration: RegistrationResult | undefined;
  if (want("register") && options.register) {
    if (!stagesDone.has("evaluate")) throw new UsageError(`run ${runId} is not evaluated yet: run --stage evaluate first`);
    // Nothing is registered for a run that was told to stop; registration checks again before each write.
    stopIfInterrupted();
    // A version is irreversible for its readers: only the run's owner registers.
    await verifyOwnership();
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

/** One per run: what the preflight checks read, fit and evaluate reuse. */
function onceMap(): Once {
  const loaded = new Map<string, Promise<unknown>>();
  return <T>(key: string, load: () => Promise<T>) => {
    if (!loaded.has(key)) loaded.set(key, load());
    return loaded.get(key) as Promise<T>;
  };
}

/** NaN or infinite metrics mean the data or the fit blew up: such a run must not pass any gate. */
function assertFiniteMetrics(runId: string, metrics: Record<string, number>): void {
  const bad = Object.entries(metrics).filter(([, value]) => !Number.isFinite(value));
  if (bad.length === 0) return;
  throw new DataError(`run ${runId} produced non-finite metrics (${bad.map(([key, value]) => `${key}=${value}`).join(", ")}): the input data holds out-of-range values or training diverged; nothing is registered`);
}


