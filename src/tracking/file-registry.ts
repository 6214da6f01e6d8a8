import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { UsageError } from "../core/errors.js";
import { writeFileAtomic } from "../core/fs-atomic.js";
import type { ModelRegistry, ModelVersion, RegisteredModelSummary } from "./store.js";

// MLflow's file-based model registry layout (mlflow/store/model_registry/file_store.py):
//   models/<name>/meta.yaml                   registered model, aliases as {alias: "version"}
//   models/<name>/aliases/<alias>             the version, as text
//   models/<name>/version-<n>/meta.yaml       model version
//   models/<name>/version-<n>/tags/<key>      one value per file

const META_FILE = "meta.yaml";
const VERSION_PREFIX = "version-";
const DEFAULT_WORKSPACE = "default";
/** MLflow's FileStore marks a deleted version with this stage and keeps its folder and number. */
const STAGE_DELETED_INTERNAL = "Deleted_Internal";

interface RegisteredModelMeta {
  name: string;
  aliases: Record<string, string>;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description: string | null;
  deployment_job_id: null;
  deployment_job_state: null;
  workspace: string;
}

interface ModelVersionMeta {
  name: string;
  version: number;
  run_id: string;
  source: string;
  storage_location: string;
  status: "READY";
  creation_timestamp: number;
  last_updated_timestamp: number;
  current_stage: "None" | typeof STAGE_DELETED_INTERNAL;
  description: string | null;
  deployment_job_state: null;
  model_id: string | null;
  run_link: string | null;
  status_message: string | null;
  user_id: string | null;
  workspace: string;
}

function checkName(name: string): void {
  if (!/^[\w\-.]+$/.test(name)) throw new UsageError(`invalid registered model name ${JSON.stringify(name)}`);
}

export class FileModelRegistry implements ModelRegistry {
  /**
   * `artifactLocationOf`: where a logged model's files lie, for versions made from one
   * (MLflow stores that as the version's storage_location, and loads the version from there).
   */
  constructor(
    private readonly root: string,
    private readonly artifactLocationOf?: (modelId: string) => Promise<string>,
  ) {}

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
    const model = await this.readModel(name);
    const version = model?.aliases?.[alias];
    return version === undefined ? undefined : this.getModelVersion(name, version);
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    checkName(name);
    const directory = path.join(this.root, name, `${VERSION_PREFIX}${version}`);
    const meta = await readFile(path.join(directory, META_FILE), "utf8").then((text) => parseYaml(text) as ModelVersionMeta, () => undefined);
    if (!meta || meta.current_stage === STAGE_DELETED_INTERNAL) throw new UsageError(`model version ${name} ${version} not found in ${this.root}`);
    const model = await this.readModel(name);
    const tags: Record<string, string> = {};
    for (const key of await readdir(path.join(directory, "tags")).catch(() => [] as string[])) {
      tags[key] = await readFile(path.join(directory, "tags", key), "utf8");
    }
    const aliases = Object.entries(model?.aliases ?? {}).filter(([, aliasVersion]) => aliasVersion === String(meta.version)).map(([alias]) => alias);
    return { name, version: String(meta.version), runId: meta.run_id, source: meta.source, tags, aliases };
  }

  async listRegisteredModels(): Promise<RegisteredModelSummary[]> {
    const models: RegisteredModelSummary[] = [];
    for (const name of (await readdir(this.root).catch(() => [] as string[])).sort()) {
      if (!/^[\w\-.]+$/.test(name)) continue;
      const model = await this.readModel(name);
      if (model) models.push({ name: model.name, aliases: { ...model.aliases }, updatedAt: model.last_updated_timestamp });
    }
    return models;
  }

  async listModelVersions(name: string): Promise<ModelVersion[]> {
    const versions: ModelVersion[] = [];
    for (const version of await this.versionNumbers(name)) {
      const modelVersion = await this.getModelVersion(name, String(version)).catch(() => undefined);
      if (modelVersion) versions.push(modelVersion);
    }
    return versions;
  }

  async findModelVersionsByRun(name: string, runId: string): Promise<ModelVersion[]> {
    const found: ModelVersion[] = [];
    for (const version of await this.versionNumbers(name)) {
      const modelVersion = await this.getModelVersion(name, String(version)).catch(() => undefined);
      if (modelVersion?.runId === runId) found.push(modelVersion);
    }
    return found;
  }

  async createModelVersion(input: { name: string; source: string; runId: string; tags: Record<string, string>; modelId?: string }): Promise<ModelVersion> {
    checkName(input.name);
    const now = Date.now();
    const model = (await this.readModel(input.name)) ?? {
      name: input.name,
      aliases: {},
      creation_timestamp: now,
      last_updated_timestamp: now,
      description: null,
      deployment_job_id: null,
      deployment_job_state: null,
      workspace: DEFAULT_WORKSPACE,
    };
    const storageLocation = input.modelId && this.artifactLocationOf ? await this.artifactLocationOf(input.modelId) : input.source;
    const version = Math.max(0, ...(await this.versionNumbers(input.name))) + 1;
    const directory = path.join(this.root, input.name, `${VERSION_PREFIX}${version}`);
    // Tags first and meta.yaml last: a version folder without meta.yaml is invisible to MLflow,
    // so a crash in between never leaves a half-registered version behind.
    for (const [key, value] of Object.entries(input.tags)) await writeFileAtomic(path.join(directory, "tags", key), value);
    const meta: ModelVersionMeta = {
      creation_timestamp: now,
      current_stage: "None",
      deployment_job_state: null,
      description: null,
      last_updated_timestamp: now,
      model_id: input.modelId ?? null,
      name: input.name,
      run_id: input.runId,
      run_link: null,
      source: input.source,
      status: "READY",
      status_message: null,
      storage_location: storageLocation,
      user_id: null,
      version,
      workspace: DEFAULT_WORKSPACE,
    };
    await writeFileAtomic(path.join(directory, META_FILE), stringifyYaml(meta));
    model.last_updated_timestamp = now;
    await this.writeModel(model);
    return this.getModelVersion(input.name, String(version));
  }

  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.getModelVersion(name, version);
    await writeFileAtomic(path.join(this.root, name, `${VERSION_PREFIX}${version}`, "tags", key), value);
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.getModelVersion(name, version);
    const model = await this.readModel(name);
    if (!model) throw new UsageError(`registered model ${name} not found`);
    model.aliases = { ...model.aliases, [alias]: version };
    model.last_updated_timestamp = Date.now();
    await writeFileAtomic(path.join(this.root, name, "aliases", alias), version);
    await this.writeModel(model);
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    const model = await this.readModel(name);
    if (!model || model.aliases?.[alias] === undefined) return;
    delete model.aliases[alias];
    model.last_updated_timestamp = Date.now();
    await rm(path.join(this.root, name, "aliases", alias), { force: true });
    await this.writeModel(model);
  }

  async deleteModelVersion(name: string, version: string): Promise<void> {
    checkName(name);
    const metaFile = path.join(this.root, name, `${VERSION_PREFIX}${version}`, META_FILE);
    const meta = await readFile(metaFile, "utf8").then((text) => parseYaml(text) as ModelVersionMeta, () => undefined);
    if (!meta || meta.current_stage === STAGE_DELETED_INTERNAL) return;
    const now = Date.now();
    await writeFileAtomic(metaFile, stringifyYaml({ ...meta, current_stage: STAGE_DELETED_INTERNAL, last_updated_timestamp: now }));
    const model = await this.readModel(name);
    if (!model) return;
    // An alias must not point at a deleted version (MLflow removes them the same way).
    for (const [alias, aliasVersion] of Object.entries(model.aliases ?? {})) {
      if (aliasVersion !== version) continue;
      delete model.aliases[alias];
      await rm(path.join(this.root, name, "aliases", alias), { force: true });
    }
    model.last_updated_timestamp = now;
    await this.writeModel(model);
  }

  private async readModel(name: string): Promise<RegisteredModelMeta | undefined> {
    checkName(name);
    return readFile(path.join(this.root, name, META_FILE), "utf8").then((text) => parseYaml(text) as RegisteredModelMeta, () => undefined);
  }

  private async writeModel(model: RegisteredModelMeta): Promise<void> {
    await mkdir(path.join(this.root, model.name), { recursive: true });
    await writeFileAtomic(path.join(this.root, model.name, META_FILE), stringifyYaml(model));
  }

  private async versionNumbers(name: string): Promise<number[]> {
    const entries = await readdir(path.join(this.root, name)).catch(() => [] as string[]);
    const numbers: number[] = [];
    for (const entry of entries) {
      if (!entry.startsWith(VERSION_PREFIX)) continue;
      if (await stat(path.join(this.root, name, entry, META_FILE)).then(() => true, () => false)) numbers.push(Number(entry.slice(VERSION_PREFIX.length)));
    }
    return numbers.sort((left, right) => left - right);
  }
}
