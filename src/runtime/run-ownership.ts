import { randomBytes } from "node:crypto";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { RunData, RunInfo, TrackingStore } from "../tracking/store.js";
import { type AirflowIdentity, airflowTags } from "./airflow.js";
import { RunOwnedError, SpecError } from "../core/errors.js";
import { ERROR_TAG, LEASE_HEARTBEAT_TAG, LEASE_OWNER_TAG, RUN_KEY_TAG } from "../tracking/tags.js";

// Exactly one run per run key, even when two attempts of one Airflow task run at once (a zombie
// pod and its retry). MLflow has no unique constraint, so:
//   - the local store serializes find-or-create under its exclusive lock file;
//   - on a server, an attempt that found no run creates one, then reconciles: of all active runs
//     with the key, the earliest start time (then the smallest run id) wins; a loser deletes the
//     run it created and exits 75 naming the winner's owner. Every attempt reconciles again
//     before it finishes or registers, so a loser that raced past the first check still yields.
// A run being worked on carries a lease (owner + heartbeat tags, refreshed in the background).
// A retry that finds the run RUNNING with a fresh lease exits 75 ("owned by … alive n s ago");
// with an expired lease the owner is taken to be dead and the retry takes the run over.


/** Default lease: long enough for a slow server, short enough that Airflow's retry delay covers it. */
const DEFAULT_LEASE_SECONDS = 120;
export const LEASE_ENVIRONMENT_VARIABLE = "PODTRAIN_LEASE_SECONDS";
/** A takeover waits this long (at most) before reading back who holds the lease. */
const MAX_SETTLE_MS = 500;

export interface Attempt {
  /** Random per process: two pods with the same pid and host still differ. */
  id: string;
  /** For messages and the owner tag: "<id> pid=<pid> host=<host> try=<n>". */
  description: string;
}

export function currentAttempt(identity: AirflowIdentity | undefined): Attempt {
  const id = randomBytes(4).toString("hex");
  const tryPart = identity?.tryNumber ? ` try=${identity.tryNumber}` : "";
  return { id, description: `${id} pid=${process.pid} host=${os.hostname()}${tryPart}` };
}

export function leaseMilliseconds(environment: NodeJS.ProcessEnv = process.env): number {
  const raw = environment[LEASE_ENVIRONMENT_VARIABLE];
  if (raw === undefined || raw === "") return DEFAULT_LEASE_SECONDS * 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) {
    throw new SpecError(`${LEASE_ENVIRONMENT_VARIABLE}=${JSON.stringify(raw)} is not a lease duration: give seconds between 0 and 86400 (default ${DEFAULT_LEASE_SECONDS})`);
  }
  return seconds * 1000;
}

export function leaseTags(attempt: Attempt, now = Date.now()): Record<string, string> {
  return { [LEASE_OWNER_TAG]: attempt.description, [LEASE_HEARTBEAT_TAG]: String(now) };
}

function ownerIdOf(tags: Record<string, string>): string | undefined {
  return tags[LEASE_OWNER_TAG]?.split(" ")[0];
}

/** The deterministic winner among runs with one key: earliest start time, then smallest run id. */
export function canonicalRun<T extends RunInfo>(runs: T[]): T | undefined {
  return [...runs].sort((left, right) => left.startTime - right.startTime || (left.runId < right.runId ? -1 : left.runId > right.runId ? 1 : 0))[0];
}

/** Throws when another live attempt holds the run's lease. */
export function assertNotOwnedByOther(data: RunData, attempt: Attempt, leaseMs: number, now = Date.now()): void {
  if (data.info.status !== "RUNNING") return;
  const owner = ownerIdOf(data.tags);
  const heartbeat = Number(data.tags[LEASE_HEARTBEAT_TAG]);
  if (!owner || owner === attempt.id || !Number.isFinite(heartbeat)) return;
  const age = now - heartbeat;
  if (age < leaseMs) {
    throw new RunOwnedError(
      `run ${data.info.runId} is owned by attempt ${data.tags[LEASE_OWNER_TAG]}, alive ${Math.max(0, Math.round(age / 1000))} s ago (lease ${Math.round(leaseMs / 1000)} s): retry after it ends or its lease expires`,
    );
  }
}

export interface Ownership {
  attempt: Attempt;
  leaseMs: number;
  runKey: string | undefined;
  /** True when this attempt created the run (a loser deletes only what it created). */
  created: boolean;
}

/**
 * Takes over an existing run: refuses a live owner, then writes our lease, refreshes the Airflow
 * ids to this try's (when `identity` is given: a retry of the task that made the run) and drops
 * a stale error tag. Without a store lock two attempts may take over at
 * once; after a short settle the lease is read back and the one not named yields.
 */
export async function claimRun(input: { store: TrackingStore; runId: string; attempt: Attempt; leaseMs: number; identity: AirflowIdentity | undefined; locked: boolean }): Promise<RunInfo> {
  const { store, runId, attempt, leaseMs } = input;
  const data = await store.getRun(runId);
  assertNotOwnedByOther(data, attempt, leaseMs);
  await store.logBatch(runId, { tags: { ...leaseTags(attempt), ...airflowTags(input.identity) } });
  if (data.tags[ERROR_TAG] !== undefined) await store.deleteTag(runId, ERROR_TAG);
  if (data.info.status !== "RUNNING") await store.updateRun(runId, { status: "RUNNING" });
  if (!input.locked) {
    await sleep(Math.min(MAX_SETTLE_MS, leaseMs / 10));
    await assertOwner(store, runId, attempt);
  }
  return { ...data.info, status: "RUNNING" };
}

/** After creating a run without a store lock: the losers of the race delete theirs and yield. */
export async function reconcileCreated(input: { store: TrackingStore; run: RunInfo; runKey: string; leaseMs: number; log: Logger }): Promise<void> {
  await yieldIfNotCanonical(input.store, input.run, input.runKey, input.leaseMs, input.log, true);
}

async function yieldIfNotCanonical(store: TrackingStore, run: RunInfo, runKey: string, leaseMs: number, log: Logger, created: boolean): Promise<void> {
  const runs = await store.findRunsByTag(run.experimentId, RUN_KEY_TAG, runKey);
  const winner = canonicalRun(runs.some((found) => found.runId === run.runId) ? runs : [...runs, run]);
  if (!winner || winner.runId === run.runId) {
    await deleteDeadDuplicates(store, run, runs, leaseMs, log);
    return;
  }
  let duplicate = "";
  if (created) {
    try {
      await store.deleteRun(run.runId);
      duplicate = `; this attempt's duplicate run ${run.runId} was deleted`;
      log.warn({ run_id: run.runId, winner: winner.runId }, "another attempt created a run with the same run key first: deleted ours");
    } catch (error) {
      // Its lease runs out and the winner deletes it then (deleteDeadDuplicates).
      log.warn({ run_id: run.runId, winner: winner.runId, error: (error as Error).message }, "another attempt created a run with the same run key first; could not delete ours");
      duplicate = `; this attempt's duplicate run ${run.runId} could not be deleted (the winner removes it once its lease expires)`;
    }
  }
  const owner = (await store.getRun(winner.runId).catch(() => undefined))?.tags[LEASE_OWNER_TAG] ?? "unknown";
  throw new RunOwnedError(`run ${winner.runId} for run key ${JSON.stringify(runKey)} is owned by attempt ${owner}, which created it first${duplicate}`);
}

/**
 * The winner removes duplicates whose losers died before deleting them (RUNNING, lease expired).
 * A live loser yields at its own next check anyway, and finished runs are never touched.
 */
async function deleteDeadDuplicates(store: TrackingStore, winner: RunInfo, runs: RunInfo[], leaseMs: number, log: Logger): Promise<void> {
  for (const other of runs) {
    if (other.runId === winner.runId || other.status !== "RUNNING") continue;
    const data = await store.getRun(other.runId).catch(() => undefined);
    const heartbeat = Number(data?.tags[LEASE_HEARTBEAT_TAG]);
    if (!data || !Number.isFinite(heartbeat) || Date.now() - heartbeat < leaseMs) continue;
    await store.deleteRun(other.runId).catch(() => undefined);
    log.warn({ run_id: other.runId, winner: winner.runId }, "deleted a duplicate run of this run key left by a dead attempt");
  }
}

async function assertOwner(store: TrackingStore, runId: string, attempt: Attempt): Promise<void> {
  const tags = (await store.getRun(runId)).tags;
  if (ownerIdOf(tags) !== attempt.id) {
    throw new RunOwnedError(`run ${runId} was taken over by attempt ${tags[LEASE_OWNER_TAG] ?? "unknown"}: this attempt (${attempt.description}) stops`);
  }
}

/**
 * Before an irreversible step (finishing, registering): this attempt still owns the run and the
 * run is still the one run of its key. Throws RunOwnedError otherwise.
 */
export async function verifyOwnership(store: TrackingStore, run: RunInfo, ownership: Ownership, log: Logger): Promise<void> {
  if (ownership.runKey) await yieldIfNotCanonical(store, run, ownership.runKey, ownership.leaseMs, log, ownership.created);
  await assertOwner(store, run.runId, ownership.attempt);
}

/** Refreshes the heartbeat every third of the lease until stopped; a failed refresh is only logged. */
export function startHeartbeat(store: TrackingStore, runId: string, leaseMs: number, log: Logger): () => void {
  let warned = false;
  const timer = setInterval(() => {
    store.logBatch(runId, { tags: { [LEASE_HEARTBEAT_TAG]: String(Date.now()) } }).catch((error: unknown) => {
      if (!warned) log.warn({ run_id: runId, error: (error as Error).message }, "could not refresh the run's lease heartbeat");
      warned = true;
    });
  }, Math.max(50, leaseMs / 3));
  timer.unref();
  return () => clearInterval(timer);
}
