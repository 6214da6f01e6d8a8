import { UsageError } from "../../core/errors.js";
import type { LogBatch, Metric } from "../store.js";

// The tracking server's log-batch limits (mlflow/utils/validation.py). A request over them is
// refused as a whole, so the client splits large batches and rejects values no request can carry
// before anything is sent: a run never ends up with half of a batch that was doomed anyway.

export const BATCH_LIMITS = {
  metricsPerRequest: 1000,
  paramsPerRequest: 100,
  tagsPerRequest: 100,
  entitiesPerRequest: 1000,
  /** MAX_BATCH_LOG_REQUEST_SIZE; we stay a little under it for JSON framing. */
  requestBytes: 1_000_000,
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
} as const;

export interface WireBatch {
  metrics: Array<{ key: string; value: number | string; timestamp: number; step: number }>;
  params: Array<{ key: string; value: string }>;
  tags: Array<{ key: string; value: string }>;
}

/** Throws a UsageError naming the first offending key; checks everything before any request. */
export function validateBatch(batch: LogBatch): void {
  const checkKey = (kind: string, key: string) => {
    if (key.length === 0) throw new UsageError(`${kind} key is empty`);
    if (key.length > BATCH_LIMITS.keyLength) {
      throw new UsageError(`${kind} key ${JSON.stringify(key.slice(0, 40))}… is ${key.length} characters; MLflow accepts at most ${BATCH_LIMITS.keyLength}`);
    }
  };
  for (const [key, value] of Object.entries(batch.params ?? {})) {
    checkKey("param", key);
    if (value.length > BATCH_LIMITS.paramValueLength) {
      throw new UsageError(`param "${key}" value is ${value.length} characters; MLflow accepts at most ${BATCH_LIMITS.paramValueLength} (log long values as an artifact instead)`);
    }
  }
  for (const [key, value] of Object.entries(batch.tags ?? {})) {
    checkKey("tag", key);
    if (value.length > BATCH_LIMITS.tagValueLength) {
      throw new UsageError(`tag "${key}" value is ${value.length} characters; MLflow accepts at most ${BATCH_LIMITS.tagValueLength}`);
    }
  }
  for (const metric of batch.metrics ?? []) checkKey("metric", metric.key);
}

/** JSON has no NaN/Infinity; MLflow's protobuf JSON parser accepts them as strings. */
function wireMetric(metric: Metric): WireBatch["metrics"][number] {
  const value = Number.isFinite(metric.value) ? metric.value : Number.isNaN(metric.value) ? "NaN" : metric.value > 0 ? "Infinity" : "-Infinity";
  return { key: metric.key, value, timestamp: Math.trunc(metric.timestamp), step: Math.trunc(metric.step) };
}

/**
 * Splits a batch into requests within every limit. Params and tags go first, so a failure half-way
 * leaves metrics missing rather than the run's configuration.
 */
export function splitBatch(batch: LogBatch): WireBatch[] {
  const requests: WireBatch[] = [];
  let current: WireBatch = { metrics: [], params: [], tags: [] };
  let currentBytes = 0;
  const flush = () => {
    if (current.metrics.length + current.params.length + current.tags.length > 0) requests.push(current);
    current = { metrics: [], params: [], tags: [] };
    currentBytes = 0;
  };
  const add = <K extends keyof WireBatch>(kind: K, entry: WireBatch[K][number], limit: number) => {
    const bytes = Buffer.byteLength(JSON.stringify(entry)) + 1;
    const entities = current.metrics.length + current.params.length + current.tags.length;
    if (current[kind].length >= limit || entities >= BATCH_LIMITS.entitiesPerRequest || currentBytes + bytes > BATCH_LIMITS.requestBytes - 1024) flush();
    (current[kind] as Array<WireBatch[K][number]>).push(entry);
    currentBytes += bytes;
  };
  for (const [key, value] of Object.entries(batch.params ?? {})) add("params", { key, value }, BATCH_LIMITS.paramsPerRequest);
  for (const [key, value] of Object.entries(batch.tags ?? {})) add("tags", { key, value }, BATCH_LIMITS.tagsPerRequest);
  for (const metric of batch.metrics ?? []) add("metrics", wireMetric(metric), BATCH_LIMITS.metricsPerRequest);
  flush();
  return requests;
}
