import { UsageError } from "../../runtime/errors.js";
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

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 6,
  totalTimeoutMs: 60_000,
  requestTimeoutMs: 120_000,
  baseDelayMs: 1_000,
  maxDelayMs: 20_000,
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

/** "Full jitter" (AWS architecture blog): uniform in [0, min(cap, base * 2^retry)], so that many
 * pods retrying against one recovering server do not arrive in lockstep. */
export function backoffDelay(policy: RetryPolicy, retryIndex: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retryIndex);
  return Math.floor(random() * ceiling);
}

function parseNonNegative(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`${name} must be a non-negative number, got ${JSON.stringify(text)}`);
  return value;
}
