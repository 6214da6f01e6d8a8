import os from "node:os";
import type { TrackingStore } from "../tracking/store.js";
import { airflowIdentityFromEnvironment } from "./airflow.js";
import { UsageError } from "../core/errors.js";
import { REJECTED_AT_TAG, REJECTED_BY_TAG, REJECTION_AIRFLOW_TAG, REJECTION_REASON_TAG } from "../tracking/tags.js";

// The other answer to an approval: a person decided a candidate version must not become
// champion. The decision is recorded on the version itself (who, why, when, from which Airflow
// task) so the registry shows it next to the version, and the candidate alias is cleared or kept
// as the spec says (registry.on_reject).


export type OnReject = "keep_candidate" | "clear_candidate";

export interface RejectionInput {
  store: TrackingStore;
  model: string;
  version: string;
  reason: string;
  rejectedBy?: string;
  candidateAlias: string;
  championAlias: string;
  onReject: OnReject;
  now?: Date;
  environment?: NodeJS.ProcessEnv;
}

export interface RejectionRecord {
  model: string;
  version: string;
  rejected_by: string;
  reason: string;
  at: string;
  /** True when the candidate alias pointed at this version and was removed. */
  candidate_cleared: boolean;
  /** True when the version was already rejected (a retried task): nothing was changed. */
  unchanged?: boolean;
}

const MINIMUM_REASON_LENGTH = 3;

export async function rejectModelVersion(input: RejectionInput): Promise<RejectionRecord> {
  const reason = input.reason.trim();
  if (reason.length < MINIMUM_REASON_LENGTH) throw new UsageError(`a rejection needs a reason of at least ${MINIMUM_REASON_LENGTH} characters: --reason "why not this version"`);
  const environment = input.environment ?? process.env;
  const rejectedBy = (input.rejectedBy ?? environment.PODTRAIN_REVIEWER ?? os.userInfo().username).trim();
  if (!rejectedBy) throw new UsageError("a rejection needs the reviewer's name: --rejected-by <name>");
  const registry = input.store.registry;
  const version = await registry.getModelVersion(input.model, input.version);
  // Rejecting the serving model would leave the alias on a version marked as rejected: demoting
  // the champion is a promotion of another version, with its own audit trail.
  if (version.aliases.includes(input.championAlias)) {
    throw new UsageError(`${input.model} version ${input.version} is the current ${input.championAlias}: promote another version instead of rejecting it`);
  }
  // Only this version's candidate alias: a newer candidate registered meanwhile keeps its alias.
  const clear = input.onReject === "clear_candidate" && version.aliases.includes(input.candidateAlias);
  const existing = version.tags[REJECTED_BY_TAG];
  if (existing !== undefined) {
    // A retried task: the decision stands as first recorded; finish clearing the alias if that was cut short.
    if (clear) await registry.deleteAlias(input.model, input.candidateAlias);
    return { model: input.model, version: input.version, rejected_by: existing, reason: version.tags[REJECTION_REASON_TAG] ?? "", at: version.tags[REJECTED_AT_TAG] ?? "", candidate_cleared: clear, unchanged: true };
  }
  const at = (input.now ?? new Date()).toISOString();
  const identity = airflowIdentityFromEnvironment(environment);
  // The reason and time first, the name last: a version with podtrain.rejected_by is fully recorded
  // (a retry after a partial write finds no name and writes all again).
  await registry.setModelVersionTag(input.model, input.version, REJECTION_REASON_TAG, reason);
  await registry.setModelVersionTag(input.model, input.version, REJECTED_AT_TAG, at);
  if (identity) {
    const airflow = { dag_id: identity.dagId, run_id: identity.runId, task_id: identity.taskId, ...(identity.tryNumber ? { try_number: identity.tryNumber } : {}) };
    await registry.setModelVersionTag(input.model, input.version, REJECTION_AIRFLOW_TAG, JSON.stringify(airflow));
  }
  await registry.setModelVersionTag(input.model, input.version, REJECTED_BY_TAG, rejectedBy);
  if (clear) await registry.deleteAlias(input.model, input.candidateAlias);
  return { model: input.model, version: input.version, rejected_by: rejectedBy, reason, at, candidate_cleared: clear };
}
