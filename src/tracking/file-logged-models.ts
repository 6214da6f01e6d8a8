import { randomUUID } from "node:crypto";
import { copyFile, mkdir, readFile, readdir, rename } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { UsageError } from "../core/errors.js";
import { writeFileAtomic } from "../core/fs-atomic.js";
import type { LoggedModelStore } from "./store.js";

// MLflow 3 logged models in the local folder store, laid out as MLflow 3.17's own FileStore
// writes them (mlflow/store/tracking/file_store.py: create_logged_model, finalize_logged_model,
// set_logged_model_tags, log_outputs), so that `MlflowClient().search_logged_models`, the UI's
// Models tab and `models:/<model id>` URIs work on ./mlruns as on a server:
//
//   <experiment>/models/<model id>/meta.yaml       the LoggedModel record (status 1 PENDING, 2 READY, 3 UPLOAD_FAILED)
//   <experiment>/models/<model id>/tags/<key>      one file per tag, no trailing newline
//   <experiment>/models/<model id>/artifacts/…     the model folder (MLmodel, weights…)
//   <experiment>/<run id>/outputs/<model id>/meta.yaml   the run → model link ("Logged models" of a run)

const META_FILE = "meta.yaml";
const MODELS_FOLDER = "models";
const STATUS_NUMBER = { PENDING: 1, READY: 2, UPLOAD_FAILED: 3 } as const;

interface LoggedModelMeta {
  artifact_location: string;
  creation_timestamp: number;
  experiment_id: string;
  last_updated_timestamp: number;
  lifecycle_stage?: string;
  model_id: string;
  model_type: string | null;
  name: string;
  source_run_id: string | null;
  status: number;
  status_message: string | null;
}

export class FileLoggedModels implements LoggedModelStore {
  /** `root`: the store folder (./mlruns); experiments are its numbered sub-folders. */
  constructor(private readonly root: string) {}

  private modelDirectory(experimentId: string, modelId: string): string {
    return path.join(this.root, experimentId, MODELS_FOLDER, modelId);
  }

  private async find(modelId: string): Promise<{ directory: string; meta: LoggedModelMeta }> {
    if (!/^m-[0-9a-f]{32}$/.test(modelId)) throw new UsageError(`invalid logged model id ${JSON.stringify(modelId)}`);
    for (const entry of await readdir(this.root, { withFileTypes: true }).catch(() => [])) {
      if (!entry.isDirectory()) continue;
      const directory = path.join(this.root, entry.name, MODELS_FOLDER, modelId);
      const meta = await readFile(path.join(directory, META_FILE), "utf8").catch(() => undefined);
      if (meta !== undefined) return { directory, meta: parseYaml(meta) as LoggedModelMeta };
    }
    throw new UsageError(`logged model ${modelId} not found in ${this.root}`);
  }

  async create(input: { experimentId: string; name: string; sourceRunId?: string; modelType?: string; tags?: Record<string, string> }): Promise<{ modelId: string }> {
    const modelId = `m-${randomUUID().replaceAll("-", "")}`;
    const directory = this.modelDirectory(input.experimentId, modelId);
    const now = Date.now();
    const meta: LoggedModelMeta = {
      artifact_location: pathToFileURL(path.join(directory, "artifacts")).href,
      creation_timestamp: now,
      experiment_id: input.experimentId,
      last_updated_timestamp: now,
      // Only the PENDING record carries it, as in MLflow (finalize rewrites the record without it).
      lifecycle_stage: "active",
      model_id: modelId,
      model_type: input.modelType ?? null,
      name: input.name,
      source_run_id: input.sourceRunId ?? null,
      status: STATUS_NUMBER.PENDING,
      status_message: null,
    };
    await mkdir(path.join(directory, "metrics"), { recursive: true });
    await mkdir(path.join(directory, "params"), { recursive: true });
    await writeFileAtomic(path.join(directory, META_FILE), stringifyYaml(meta));
    await this.setTags(modelId, input.tags ?? {});
    return { modelId };
  }

  /** The model's artifact root (file:// URI): a registered version's storage_location. */
  async artifactLocation(modelId: string): Promise<string> {
    return (await this.find(modelId)).meta.artifact_location;
  }

  async logArtifacts(model: { modelId: string }, localDirectory: string): Promise<void> {
    const { meta } = await this.find(model.modelId);
    const target = fileURLToPath(meta.artifact_location);
    for (const relative of await filesUnder(localDirectory)) {
      const destination = path.join(target, relative);
      await mkdir(path.dirname(destination), { recursive: true });
      const temporary = `${destination}.tmp-${process.pid}`;
      await copyFile(path.join(localDirectory, relative), temporary);
      await rename(temporary, destination);
    }
  }

  async finalize(modelId: string, status: "READY" | "UPLOAD_FAILED"): Promise<unknown> {
    const { directory, meta } = await this.find(modelId);
    const { lifecycle_stage: _dropped, ...rest } = meta;
    const finalized: LoggedModelMeta = { ...rest, status: STATUS_NUMBER[status], last_updated_timestamp: Date.now() };
    await writeFileAtomic(path.join(directory, META_FILE), stringifyYaml(finalized));
    return finalized;
  }

  async setTags(modelId: string, tags: Record<string, string>): Promise<void> {
    if (Object.keys(tags).length === 0) return;
    const { directory } = await this.find(modelId);
    for (const [key, value] of Object.entries(tags)) {
      if (key.includes("..") || path.isAbsolute(key)) throw new UsageError(`invalid tag name ${JSON.stringify(key)}`);
      await writeFileAtomic(path.join(directory, "tags", key), value);
    }
  }

  async getTags(modelId: string): Promise<Record<string, string>> {
    const { directory } = await this.find(modelId);
    const tagsDirectory = path.join(directory, "tags");
    const tags: Record<string, string> = {};
    for (const relative of await filesUnder(tagsDirectory).catch(() => [])) tags[relative.split(path.sep).join("/")] = await readFile(path.join(tagsDirectory, relative), "utf8");
    return tags;
  }

  /** The run's "Logged models" link (what MLflow's log_outputs writes, step 0). */
  async logOutputs(runId: string, modelId: string): Promise<void> {
    const { meta } = await this.find(modelId);
    const runDirectory = path.join(this.root, meta.experiment_id, runId);
    const record = { destination_id: modelId, destination_type: "MODEL_OUTPUT", source_id: modelId, source_type: "RUN_OUTPUT", step: 0, tags: {} };
    await writeFileAtomic(path.join(runDirectory, "outputs", modelId, META_FILE), stringifyYaml(record));
  }
}

async function filesUnder(directory: string, prefix = ""): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(path.join(directory, prefix), { withFileTypes: true })) {
    const relative = path.join(prefix, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(directory, relative)));
    else if (entry.isFile()) files.push(relative);
  }
  return files;
}
