import { UsageError } from "../../core/errors.js";
import { RUN_STATUSES, type ModelVersion, type RunInfo, type RunStatus } from "../store.js";

// JSON shapes of the MLflow REST API (protobuf messages rendered as JSON) and their conversion to
// the store's types. int64 fields may arrive as strings, hence the Number() calls.

export interface WireRunInfo {
  run_id: string;
  experiment_id: string;
  run_name?: string;
  status?: string;
  start_time?: number | string;
  end_time?: number | string;
  artifact_uri?: string;
}

export interface WireKeyValue {
  key: string;
  value: string;
}

export interface WireRun {
  info: WireRunInfo;
  data?: { metrics?: Array<{ key: string; value: number | string; timestamp?: number | string; step?: number | string }>; params?: WireKeyValue[]; tags?: WireKeyValue[] };
}

export interface WireModelVersion {
  name: string;
  version: string | number;
  run_id?: string;
  source?: string;
  tags?: WireKeyValue[];
  aliases?: string[];
}

export function runInfoOf(info: WireRunInfo): RunInfo {
  const status = (RUN_STATUSES as readonly string[]).includes(info.status ?? "") ? (info.status as RunStatus) : "RUNNING";
  return {
    runId: info.run_id,
    experimentId: String(info.experiment_id),
    runName: info.run_name ?? "",
    status,
    startTime: Number(info.start_time ?? 0),
    ...(info.end_time === undefined || info.end_time === null ? {} : { endTime: Number(info.end_time) }),
    artifactUri: info.artifact_uri ?? "",
  };
}

export function recordOf(entries: WireKeyValue[] | undefined): Record<string, string> {
  return Object.fromEntries((entries ?? []).map(({ key, value }) => [key, value ?? ""]));
}

export function entriesOf(record: Record<string, string>): WireKeyValue[] {
  return Object.entries(record).map(([key, value]) => ({ key, value }));
}

export function modelVersionOf(version: WireModelVersion): ModelVersion {
  return {
    name: version.name,
    version: String(version.version),
    ...(version.run_id ? { runId: version.run_id } : {}),
    source: version.source ?? "",
    tags: recordOf(version.tags),
    aliases: version.aliases ?? [],
  };
}

/** A string literal for MLflow's search grammar (single quotes, or double when the value has one). */
export function filterLiteral(value: string): string {
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"')) return `"${value}"`;
  throw new UsageError(`cannot search for a value containing both quote characters: ${JSON.stringify(value)}`);
}
