import { randomUUID, randomInt } from "node:crypto";
import { appendFile, copyFile, mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import lockfile from "proper-lockfile";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { UnavailableError, UsageError } from "../core/errors.js";
import { listFilesRecursive } from "../core/files.js";
import { writeFileAtomic } from "../core/fs-atomic.js";
import type { ExperimentSummary, LogBatch, ModelRegistry, RunData, RunInfo, RunStatus, TrackingStore } from "./store.js";
import { FileModelRegistry } from "./file-registry.js";
import { MLFLOW_RUN_NAME_TAG, MLFLOW_SOURCE_NAME_TAG, MLFLOW_SOURCE_TYPE_TAG, MLFLOW_USER_TAG } from "./tags.js";
import { FileLoggedModels } from "./file-logged-models.js";

// The on-disk layout of MLflow's own FileStore (mlflow/store/tracking/file_store.py), so that
// `mlflow ui --backend-store-uri ./mlruns` opens what we write:
//   <root>/<experiment_id>/meta.yaml            experiment
//   <root>/<experiment_id>/<run_id>/meta.yaml   run (status as MLflow's RunStatus number)
//   <run>/params/<key>, <run>/tags/<key>        one value per file
//   <run>/metrics/<key>                         "timestamp value step" per line (history)
//   <run>/artifacts/…                           artifacts

const DEFAULT_EXPERIMENT_ID = "0";
const DEFAULT_EXPERIMENT_NAME = "Default";
const META_FILE = "meta.yaml";
const DEFAULT_WORKSPACE = "default";
const LIFECYCLE_ACTIVE = "active";
const SOURCE_TYPE_LOCAL = 4;
/** mlflow.entities.RunStatus numbers. */
const RUN_STATUS_NUMBER: Record<RunStatus, number> = { RUNNING: 1, SCHEDULED: 2, FINISHED: 3, FAILED: 4, KILLED: 5 };
const RUN_STATUS_BY_NUMBER = Object.fromEntries(Object.entries(RUN_STATUS_NUMBER).map(([name, value]) => [value, name])) as Record<number, RunStatus>;
const RESERVED_FOLDERS = new Set([".trash", "models"]);
const LIFECYCLE_DELETED = "deleted";
/**
 * The store's lock is a sibling of the root (`mlruns.lock`), never inside it: MLflow reads every
 * folder under the root as an experiment. A holder that dies leaves it stale after STALE_MS
 * (proper-lockfile refreshes the lock of a live holder every STALE_MS / 2).
 */
const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 60_000;

interface ExperimentMeta {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
  effective_trace_archival_retention: null;
  trace_location: null;
  workspace: string;
}

interface RunMeta {
  run_id: string;
  run_name: string;
  experiment_id: string;
  status: number;
  start_time: number;
  end_time: number | null;
  artifact_uri: string;
  lifecycle_stage: string;
  user_id: string;
  source_type: number;
  source_name: string;
  source_version: string;
  entry_point_name: string;
  tags: never[];
  deleted_time?: number | null;
}

/** MLflow rejects keys that could escape their folder; we check before touching the disk. */
function checkKey(kind: string, key: string): void {
  if (key.length === 0 || key.length > 250 || key.includes("..") || path.isAbsolute(key) || !/^[\w\-. /]+$/.test(key)) {
    throw new UsageError(`invalid ${kind} name ${JSON.stringify(key)}: use letters, digits, _ - . / and spaces, at most 250 characters`);
  }
}

export class FileTrackingStore implements TrackingStore {
  readonly location: string;
  readonly registry: ModelRegistry;
  readonly loggedModels: FileLoggedModels;
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.location = this.root;
    this.loggedModels = new FileLoggedModels(this.root);
    this.registry = new FileModelRegistry(path.join(this.root, "models"), (modelId) => this.loggedModels.artifactLocation(modelId));
  }

  async checkAvailable(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
      if (!(await exists(path.join(this.root, DEFAULT_EXPERIMENT_ID, META_FILE)))) {
        await this.writeExperiment(DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME);
      }
    } catch (cause) {
      throw new UnavailableError(`cannot write the local tracking store ${this.root}: ${(cause as Error).message}`, { cause });
    }
  }

  async getOrCreateExperiment(name: string): Promise<string> {
    // Under the lock: two first runs at once must not create two experiments of one name.
    const found = await this.findExperiment(name);
    return found ?? this.withExclusiveLock(async () => (await this.findExperiment(name)) ?? this.createExperiment(name));
  }

  private async findExperiment(name: string): Promise<string | undefined> {
    for (const experiment of await this.experimentMetas()) {
      if (experiment.name === name) {
        if (experiment.lifecycle_stage !== LIFECYCLE_ACTIVE) {
          throw new UsageError(`experiment "${name}" is deleted in ${this.root}; restore it or pick another name`);
        }
        return experiment.experiment_id;
      }
    }
    return undefined;
  }

  private async createExperiment(name: string): Promise<string> {
    // MLflow's FileStore uses random integer ids; collisions are checked anyway.
    let experimentId: string;
    do experimentId = `${randomInt(1, 2 ** 47)}${randomInt(100_000, 1_000_000)}`; while (await exists(path.join(this.root, experimentId)));
    await this.writeExperiment(experimentId, name);
    return experimentId;
  }

  async createRun(input: { experimentId: string; runName: string; startTime: number; tags: Record<string, string> }): Promise<RunInfo> {
    const runId = randomUUID().replaceAll("-", "");
    const runDirectory = path.join(this.root, input.experimentId, runId);
    const meta: RunMeta = {
      artifact_uri: pathToFileURL(path.join(runDirectory, "artifacts")).href,
      end_time: null,
      entry_point_name: "",
      experiment_id: input.experimentId,
      lifecycle_stage: LIFECYCLE_ACTIVE,
      run_id: runId,
      run_name: input.runName,
      source_name: "",
      source_type: SOURCE_TYPE_LOCAL,
      source_version: "",
      start_time: input.startTime,
      status: RUN_STATUS_NUMBER.RUNNING,
      tags: [],
      user_id: os.userInfo().username,
    };
    for (const folder of ["params", "metrics", "tags", "artifacts"]) await mkdir(path.join(runDirectory, folder), { recursive: true });
    await this.logBatch(runId, { tags: { [MLFLOW_RUN_NAME_TAG]: input.runName, [MLFLOW_USER_TAG]: meta.user_id, [MLFLOW_SOURCE_TYPE_TAG]: "LOCAL", [MLFLOW_SOURCE_NAME_TAG]: "podtrain", ...input.tags } }, runDirectory);
    await writeFileAtomic(path.join(runDirectory, META_FILE), stringifyYaml(meta));
    return infoOf(meta);
  }

  async getRun(runId: string): Promise<RunData> {
    const runDirectory = await this.runDirectory(runId);
    const meta = await readYaml<RunMeta>(path.join(runDirectory, META_FILE));
    const metrics: Record<string, number> = {};
    for (const key of await listFilesRecursive(path.join(runDirectory, "metrics"))) {
      const lines = (await readFile(path.join(runDirectory, "metrics", key), "utf8")).trim().split("\n");
      const last = lines.at(-1)?.split(" ");
      if (last && last.length >= 2) metrics[key] = Number(last[1]);
    }
    return {
      info: infoOf(meta),
      params: await readValues(path.join(runDirectory, "params")),
      tags: await readValues(path.join(runDirectory, "tags")),
      metrics,
    };
  }

  async listExperiments(): Promise<ExperimentSummary[]> {
    return (await this.experimentMetas()).filter((meta) => meta.lifecycle_stage === LIFECYCLE_ACTIVE).map((meta) => ({ experimentId: String(meta.experiment_id), name: meta.name }));
  }

  async listRuns(experimentIds: string[], options: { status?: RunStatus; maxResults: number }): Promise<RunInfo[]> {
    const found: RunInfo[] = [];
    for (const experimentId of experimentIds) {
      const experimentDirectory = path.join(this.root, experimentId);
      for (const entry of await readdir(experimentDirectory, { withFileTypes: true }).catch(() => [])) {
        if (!entry.isDirectory() || RESERVED_FOLDERS.has(entry.name) || entry.name === "tags") continue;
        const metaFile = path.join(experimentDirectory, entry.name, META_FILE);
        if (!(await exists(metaFile))) continue;
        const meta = await readYaml<RunMeta>(metaFile);
        const info = infoOf(meta);
        if (meta.lifecycle_stage === LIFECYCLE_ACTIVE && (!options.status || info.status === options.status)) found.push(info);
      }
    }
    return found.sort((left, right) => right.startTime - left.startTime).slice(0, options.maxResults);
  }

  async findRunsByTag(experimentId: string, key: string, value: string): Promise<RunInfo[]> {
    const experimentDirectory = path.join(this.root, experimentId);
    const found: RunInfo[] = [];
    for (const entry of await readdir(experimentDirectory, { withFileTypes: true }).catch(() => [])) {
      if (!entry.isDirectory() || RESERVED_FOLDERS.has(entry.name)) continue;
      const tagFile = path.join(experimentDirectory, entry.name, "tags", key);
      const metaFile = path.join(experimentDirectory, entry.name, META_FILE);
      if (!(await exists(metaFile)) || (await readFile(tagFile, "utf8").catch(() => undefined)) !== value) continue;
      const meta = await readYaml<RunMeta>(metaFile);
      if (meta.lifecycle_stage === LIFECYCLE_ACTIVE) found.push(infoOf(meta));
    }
    return found.sort((left, right) => right.startTime - left.startTime);
  }

  async logBatch(runId: string, batch: LogBatch, knownDirectory?: string): Promise<void> {
    const runDirectory = knownDirectory ?? (await this.runDirectory(runId));
    for (const [key, value] of Object.entries(batch.params ?? {})) {
      checkKey("param", key);
      const file = path.join(runDirectory, "params", key);
      const previous = await readFile(file, "utf8").catch(() => undefined);
      // Params are immutable in MLflow; re-logging the same value (a retried task) is fine.
      if (previous !== undefined && previous !== value) {
        throw new UsageError(`param "${key}" was already logged as ${JSON.stringify(previous)} on run ${runId}; params cannot change (new value ${JSON.stringify(value)})`);
      }
      if (previous === undefined) await writeFileAtomic(file, value);
    }
    for (const [key, value] of Object.entries(batch.tags ?? {})) {
      checkKey("tag", key);
      await writeFileAtomic(path.join(runDirectory, "tags", key), value);
    }
    const lines = new Map<string, string>();
    for (const metric of batch.metrics ?? []) {
      checkKey("metric", metric.key);
      lines.set(metric.key, `${lines.get(metric.key) ?? ""}${metric.timestamp} ${formatMetricValue(metric.value)} ${metric.step}\n`);
    }
    for (const [key, text] of lines) {
      const file = path.join(runDirectory, "metrics", key);
      await mkdir(path.dirname(file), { recursive: true });
      await appendFile(file, text);
    }
  }

  async logArtifacts(runId: string, localDirectory: string, artifactPath: string): Promise<void> {
    if (artifactPath) checkKey("artifact path", artifactPath);
    const target = path.join(await this.runDirectory(runId), "artifacts", artifactPath);
    for (const relative of await listFilesRecursive(localDirectory)) {
      const destination = path.join(target, relative);
      await mkdir(path.dirname(destination), { recursive: true });
      const temporary = `${destination}.tmp-${process.pid}`;
      await copyFile(path.join(localDirectory, relative), temporary);
      await rename(temporary, destination);
    }
  }

  async downloadArtifacts(runId: string, artifactPath: string, localDirectory: string): Promise<void> {
    const source = path.join(await this.runDirectory(runId), "artifacts", artifactPath);
    const files = await listFilesRecursive(source);
    if (files.length === 0) throw new UsageError(`run ${runId} has no artifacts under "${artifactPath}"`);
    for (const relative of files) {
      await mkdir(path.dirname(path.join(localDirectory, relative)), { recursive: true });
      await copyFile(path.join(source, relative), path.join(localDirectory, relative));
    }
  }

  async listArtifacts(runId: string, artifactPath = ""): Promise<string[]> {
    const base = path.join(await this.runDirectory(runId), "artifacts");
    const files = await listFilesRecursive(path.join(base, artifactPath));
    return files.map((file) => path.posix.join(artifactPath, file.split(path.sep).join("/"))).sort();
  }

  async deleteArtifacts(runId: string, artifactPath: string): Promise<void> {
    checkKey("artifact path", artifactPath);
    await rm(path.join(await this.runDirectory(runId), "artifacts", artifactPath), { recursive: true, force: true });
  }

  async updateRun(runId: string, input: { status: RunStatus; endTime?: number; runName?: string }): Promise<void> {
    const metaFile = path.join(await this.runDirectory(runId), META_FILE);
    const meta = await readYaml<RunMeta>(metaFile);
    meta.status = RUN_STATUS_NUMBER[input.status];
    if (input.endTime !== undefined) meta.end_time = input.endTime;
    if (input.runName !== undefined) meta.run_name = input.runName;
    await writeFileAtomic(metaFile, stringifyYaml(meta));
  }

  async deleteRun(runId: string): Promise<void> {
    const metaFile = path.join(await this.runDirectory(runId), META_FILE);
    const meta = await readYaml<RunMeta>(metaFile);
    meta.lifecycle_stage = LIFECYCLE_DELETED;
    meta.deleted_time = Date.now();
    await writeFileAtomic(metaFile, stringifyYaml(meta));
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    checkKey("tag", key);
    await rm(path.join(await this.runDirectory(runId), "tags", key), { force: true });
  }

  /** Serializes find-or-create of runs and registration across processes sharing this folder. */
  async withExclusiveLock<T>(body: () => Promise<T>): Promise<T> {
    await mkdir(this.root, { recursive: true });
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(this.root, {
        lockfilePath: `${this.root}.lock`,
        realpath: false,
        stale: LOCK_STALE_MS,
        retries: { retries: Math.ceil(LOCK_WAIT_MS / 200), minTimeout: 20, maxTimeout: 200, factor: 1.3 },
      });
    } catch (cause) {
      throw new UnavailableError(`cannot lock the local tracking store ${this.root} (lock ${this.root}.lock): ${(cause as Error).message}`, { cause });
    }
    try {
      return await body();
    } finally {
      await release().catch(() => undefined);
    }
  }

  private async runDirectory(runId: string): Promise<string> {
    if (!/^[0-9a-f]{32}$/.test(runId)) throw new UsageError(`invalid run id ${JSON.stringify(runId)}: expected 32 hexadecimal characters`);
    for (const experiment of await this.experimentMetas()) {
      const candidate = path.join(this.root, experiment.experiment_id, runId);
      if (await exists(path.join(candidate, META_FILE))) return candidate;
    }
    throw new UsageError(`run ${runId} not found in ${this.root}`);
  }

  private async experimentMetas(): Promise<ExperimentMeta[]> {
    const experiments: ExperimentMeta[] = [];
    for (const entry of await readdir(this.root, { withFileTypes: true }).catch(() => [])) {
      if (!entry.isDirectory() || RESERVED_FOLDERS.has(entry.name)) continue;
      const metaFile = path.join(this.root, entry.name, META_FILE);
      if (await exists(metaFile)) experiments.push(await readYaml<ExperimentMeta>(metaFile));
    }
    return experiments;
  }

  private async writeExperiment(experimentId: string, name: string): Promise<void> {
    const now = Date.now();
    const meta: ExperimentMeta = {
      artifact_location: pathToFileURL(path.join(this.root, experimentId)).href,
      creation_time: now,
      experiment_id: experimentId,
      last_update_time: now,
      lifecycle_stage: LIFECYCLE_ACTIVE,
      name,
      effective_trace_archival_retention: null,
      trace_location: null,
      workspace: DEFAULT_WORKSPACE,
    };
    await mkdir(path.join(this.root, experimentId, "tags"), { recursive: true });
    await writeFileAtomic(path.join(this.root, experimentId, META_FILE), stringifyYaml(meta));
  }
}

function infoOf(meta: RunMeta): RunInfo {
  return {
    runId: meta.run_id,
    experimentId: String(meta.experiment_id),
    runName: meta.run_name,
    status: RUN_STATUS_BY_NUMBER[meta.status] ?? "RUNNING",
    startTime: meta.start_time,
    ...(meta.end_time === null || meta.end_time === undefined ? {} : { endTime: meta.end_time }),
    artifactUri: meta.artifact_uri,
  };
}

/** Python's repr of floats round-trips; JavaScript's shortest form does too and MLflow parses both. */
function formatMetricValue(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  return String(value);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}

async function readYaml<T>(file: string): Promise<T> {
  return parseYaml(await readFile(file, "utf8")) as T;
}

async function readValues(directory: string): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const key of await listFilesRecursive(directory)) values[key.split(path.sep).join("/")] = await readFile(path.join(directory, key), "utf8");
  return values;
}

