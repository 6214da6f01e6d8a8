import { UsageError } from "../../core/errors.js";
import type { Environment } from "./credentials.js";

// Bounded retries: a training pod must not hang on a dead tracking server, and a short outage
// (server restart, load balancer hiccup) must not fail a three-hour training run either.

export interface RetryPolicy {
  /** Retries after the first attempt (MLFLOW_HTTP_REQUEST_MAX_RETRIES). */
  maxRetries: number;
  /** No new attempt starts once this much time has passed since the first one. */
  totalTimeoutMs: number;
  /** Limit for one attempt (MLFLOW_HTTP_REQUEST_TIMEOUT, in seconds, like MLflow's client). */
  requestTimeoutMs: number;
  /** First backoff ceiling; doubles on each retry up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

// Waits before retries 1..7 are at least 0.5, 1, 2, 4, 8, 15, 15 s (equal jitter below): 45 s in
// all, longer than an MLflow server takes to restart (20–30 s measured here), and at most 91 s.
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 7,
  totalTimeoutMs: 120_000,
  requestTimeoutMs: 120_000,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
};

/** Defaults, then the MLflow environment variables, then explicit overrides (tests, checkAvailable). */
export function resolveRetryPolicy(environment: Environment, overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY };
  const retries = environment.MLFLOW_HTTP_REQUEST_MAX_RETRIES;
  if (retries !== undefined && retries !== "") policy.maxRetries = parseNonNegative("MLFLOW_HTTP_REQUEST_MAX_RETRIES", retries);
  const timeout = environment.MLFLOW_HTTP_REQUEST_TIMEOUT;
  if (timeout !== undefined && timeout !== "") policy.requestTimeoutMs = parseNonNegative("MLFLOW_HTTP_REQUEST_TIMEOUT", timeout) * 1000;
  return { ...policy, ...overrides };
}

/** "Equal jitter" (AWS architecture blog): uniform in [c/2, c] for c = min(cap, base · 2^retry).
 * The random half keeps many pods retrying against one recovering server out of lockstep; the
 * fixed half guarantees the retries span a server restart, which full jitter (uniform in [0, c])
 * does not: by bad luck all its waits can be short. */
export function backoffDelay(policy: RetryPolicy, retryIndex: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retryIndex);
  return Math.floor(ceiling / 2 + random() * (ceiling / 2));
}

function parseNonNegative(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`${name} must be a non-negative number, got ${JSON.stringify(text)}`);
  return value;
}
