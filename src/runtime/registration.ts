import type { Logger } from "pino";
import { linkModelVersion } from "../tracking/log-model.js";
import type { WorkflowSpec } from "../config/schema.js";
import type { TrackingStore } from "../tracking/store.js";
import { InterruptedError } from "../core/errors.js";
import { type GateDecision, decideGate } from "./gate.js";
import { AIRFLOW_TAG_PREFIX, DATA_TAG_PREFIX, GATE_METRIC_TAG, GATE_PASSED_TAG, GATE_REASON_TAG, GATE_VALUE_TAG, GIT_DIRTY_TAG, IMAGE_TAG, LOGGED_MODEL_TAG, MLFLOW_GIT_COMMIT_TAG, PROMOTED_BY_TAG, RUN_KEY_TAG, VERSION_TAG, WORKFLOW_TAG } from "../tracking/tags.js";

export interface RegistrationResult {
  gate: GateDecision;
  version?: string;
}

const LINEAGE_TAG_PREFIXES = [DATA_TAG_PREFIX, VERSION_TAG, IMAGE_TAG, GIT_DIRTY_TAG, RUN_KEY_TAG, WORKFLOW_TAG, AIRFLOW_TAG_PREFIX, MLFLOW_GIT_COMMIT_TAG];

/**
 * Gated registration, never silent promotion: a passing run becomes a new model version with
 * lineage tags and the candidate alias; the champion alias moves only through `train promote`
 * (or when the spec explicitly sets registry.auto_promote).
 */
interface RegistrationInput {
  store: TrackingStore;
  spec: WorkflowSpec;
  runId: string;
  modelUri: string;
  log: Logger;
  signal?: AbortSignal;
}

export async function registerIfGatePasses(input: RegistrationInput): Promise<RegistrationResult> {
  // The local store serializes registrations under its lock; a server relies on reconcile below.
  const { store } = input;
  return store.withExclusiveLock ? store.withExclusiveLock(() => register(input)) : register(input);
}

async function register(input: RegistrationInput): Promise<RegistrationResult> {
  const { store, spec, runId, log } = input;
  // A signal between the calls below stops before the next write: no version, no alias move.
  const stopIfInterrupted = () => {
    if (input.signal?.aborted) throw new InterruptedError(String(input.signal.reason ?? "signal"));
  };
  const name = spec.registered_model;
  const run = await store.getRun(runId);
  // A retried register task must not create a second version for the same run.
  const [already] = await store.registry.findModelVersionsByRun(name, runId);
  const champion = await store.registry.getModelVersionByAlias(name, spec.registry.champion_alias);
  const championValue = champion?.runId && champion.runId !== runId ? (await store.getRun(champion.runId)).metrics[spec.gate.metric] : undefined;
  const gate = decideGate(spec.gate, run.metrics, championValue);
  await store.logBatch(runId, { tags: { [GATE_PASSED_TAG]: String(gate.passed), [GATE_REASON_TAG]: gate.reason } });
  if (already) {
    log.info({ model: name, version: already.version }, "model version for this run already registered");
    return { gate, version: already.version };
  }
  if (!gate.passed) {
    log.warn({ reason: gate.reason }, "registration gate not passed: nothing registered");
    return { gate };
  }
  const lineage = Object.fromEntries(Object.entries(run.tags).filter(([key]) => LINEAGE_TAG_PREFIXES.some((prefix) => key.startsWith(prefix)) && key !== GATE_REASON_TAG));
  // MLflow 3: a version points at the logged model when the server has one for this run.
  const loggedModelId = run.tags[LOGGED_MODEL_TAG];
  stopIfInterrupted();
  const version = await store.registry.createModelVersion({
    name,
    source: loggedModelId ? `models:/${loggedModelId}` : input.modelUri,
    ...(loggedModelId ? { modelId: loggedModelId } : {}),
    runId,
    tags: { ...lineage, [GATE_METRIC_TAG]: spec.gate.metric, [GATE_VALUE_TAG]: String(gate.value), [GATE_REASON_TAG]: gate.reason },
  });
  // At most one version per run, even when two attempts register at once: version numbers are
  // assigned in commit order, so whoever created a higher one sees the lower one and deletes its own.
  const kept = (await store.registry.findModelVersionsByRun(name, runId))[0];
  if (kept && kept.version !== version.version) {
    await store.registry.deleteModelVersion(name, version.version);
    log.warn({ model: name, version: kept.version, deleted: version.version }, "another attempt registered this run first: deleted the duplicate version");
    return { gate, version: kept.version };
  }
  // The logged model lists its versions (mlflow.modelVersions), as Python's register_model does.
  if (loggedModelId) await linkModelVersion(store, loggedModelId, { name, version: version.version });
  stopIfInterrupted();
  await store.registry.setAlias(name, spec.registry.candidate_alias, version.version);
  if (spec.registry.auto_promote) {
    await store.registry.setAlias(name, spec.registry.champion_alias, version.version);
    await store.registry.setModelVersionTag(name, version.version, PROMOTED_BY_TAG, "auto_promote (spec)");
  }
  log.info({ model: name, version: version.version, alias: spec.registry.candidate_alias }, "registered model version");
  return { gate, version: version.version };
}
