import os from "node:os";
import type { TrackingStore } from "../tracking/store.js";
import { airflowIdentityFromEnvironment } from "./airflow.js";
import { UsageError } from "../core/errors.js";
import { GATE_PASSED_TAG, GATE_REASON_TAG, PROMOTION_LATEST_TAG, PROMOTION_TAG_PREFIX, REJECTED_AT_TAG, REJECTED_BY_TAG, REJECTION_REASON_TAG, SUPERSEDED_BY_TAG } from "../tracking/tags.js";

export interface PromotionInput {
  store: TrackingStore;
  model: string;
  version: string;
  reason: string;
  alias: string;
  /** Who approved; defaults to PODTRAIN_APPROVER, then the OS user. */
  approver?: string;
  now?: Date;
  environment?: NodeJS.ProcessEnv;
  /** Promote a version a reviewer rejected; the rejection it overrides goes into the audit record. */
  overrideRejection?: boolean;
}

export interface PromotionRecord {
  model: string;
  version: string;
  alias: string;
  previous_version: string | null;
  approved_by: string;
  reason: string;
  at: string;
  /** The Airflow task that promoted (the DAG's promote step), when there was one. */
  airflow?: { dag_id: string; run_id: string; task_id: string; try_number?: string };
  /** True when the version already held the alias: nothing was changed. */
  unchanged?: boolean;
  /** The rejection this promotion overrode (--override-rejection). */
  overrode_rejection?: { rejected_by: string; reason: string; at: string };
}

const MINIMUM_REASON_LENGTH = 3;

/**
 * Moves an alias (champion by default) to a version, explicitly, and leaves an audit trail as
 * model-version tags: the latest promotion in plain tags and every promotion under a
 * time-stamped key, on the promoted version and on the one it replaced (which also gets
 * podtrain.superseded_by). Refuses a version whose run did not finish or whose gate did not
 * pass; a version that already holds the alias is left as it is (a retried promote task). A
 * version a reviewer rejected is refused too, unless the caller overrides the rejection on
 * purpose: then the overridden decision is part of the audit record.
 */
export async function promoteModelVersion(input: PromotionInput): Promise<PromotionRecord> {
  const reason = input.reason.trim();
  if (reason.length < MINIMUM_REASON_LENGTH) throw new UsageError(`promotion needs a reason of at least ${MINIMUM_REASON_LENGTH} characters: --reason "why this version"`);
  const registry = input.store.registry;
  const candidate = await registry.getModelVersion(input.model, input.version);
  if (candidate.runId) {
    const run = await input.store.getRun(candidate.runId);
    if (run.info.status !== "FINISHED") {
      throw new UsageError(`${input.model} version ${input.version} comes from run ${candidate.runId}, which is ${run.info.status}, not FINISHED: only a finished run's model can be promoted`);
    }
    if (run.tags[GATE_PASSED_TAG] !== undefined && run.tags[GATE_PASSED_TAG] !== "true") {
      throw new UsageError(`${input.model} version ${input.version} did not pass its registration gate (${run.tags[GATE_REASON_TAG] ?? "no reason recorded"}): it cannot be promoted`);
    }
  }
  const rejectedBy = candidate.tags[REJECTED_BY_TAG];
  const rejection = rejectedBy === undefined ? undefined : { rejected_by: rejectedBy, reason: candidate.tags[REJECTION_REASON_TAG] ?? "", at: candidate.tags[REJECTED_AT_TAG] ?? "" };
  if (rejection && !input.overrideRejection) {
    throw new UsageError(`${input.model} version ${input.version} was rejected by ${rejection.rejected_by} at ${rejection.at} ("${rejection.reason}"): promote another version, or pass --override-rejection to promote it anyway (recorded)`);
  }
  const previous = await registry.getModelVersionByAlias(input.model, input.alias);
  const now = input.now ?? new Date();
  const identity = airflowIdentityFromEnvironment(input.environment ?? process.env);
  const record: PromotionRecord = {
    model: input.model,
    version: input.version,
    alias: input.alias,
    previous_version: previous?.version ?? null,
    approved_by: input.approver ?? process.env.PODTRAIN_APPROVER ?? os.userInfo().username,
    reason,
    at: now.toISOString(),
    ...(rejection ? { overrode_rejection: rejection } : {}),
    ...(identity ? { airflow: { dag_id: identity.dagId, run_id: identity.runId, task_id: identity.taskId, ...(identity.tryNumber ? { try_number: identity.tryNumber } : {}) } } : {}),
  };
  if (previous?.version === input.version) return { ...record, previous_version: null, unchanged: true };
  await registry.setAlias(input.model, input.alias, input.version);
  const entry = JSON.stringify(record);
  await registry.setModelVersionTag(input.model, input.version, `${PROMOTION_TAG_PREFIX}.${now.getTime()}`, entry);
  await registry.setModelVersionTag(input.model, input.version, PROMOTION_LATEST_TAG, entry);
  if (previous) {
    await registry.setModelVersionTag(input.model, previous.version, `${PROMOTION_TAG_PREFIX}.${now.getTime()}`, JSON.stringify({ ...record, replaced_by: input.version }));
    await registry.setModelVersionTag(input.model, previous.version, SUPERSEDED_BY_TAG, JSON.stringify({ version: input.version, alias: input.alias, at: record.at, approved_by: record.approved_by }));
  }
  return record;
}
