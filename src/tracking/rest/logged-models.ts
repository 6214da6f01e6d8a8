import type { ProxiedArtifacts } from "./artifacts.js";
import { proxiedArtifactPath } from "./artifacts.js";
import type { MlflowHttpClient } from "./http-client.js";
import { entriesOf, recordOf, type WireKeyValue } from "./wire.js";

// MLflow 3 logged models: the entity the MLflow 3 UI lists as a run's "Models". A logged model is
// created PENDING, its files go under its own artifact root, then it is finalized READY (or
// UPLOAD_FAILED), so a crashed upload never shows as a usable model.

/** mlflow.entities.LoggedModelStatus numbers; the server's finalize handler wants the number. */
const STATUS_NUMBER = { PENDING: 1, READY: 2, UPLOAD_FAILED: 3 } as const;

export interface LoggedModel {
  modelId: string;
  experimentId: string;
  name: string;
  artifactUri: string;
  status: string;
  sourceRunId?: string;
  tags: Record<string, string>;
}

interface WireLoggedModel {
  info: { model_id: string; experiment_id: string; name: string; artifact_uri: string; status?: string | number; source_run_id?: string; tags?: WireKeyValue[] };
}

function loggedModelOf(model: WireLoggedModel): LoggedModel {
  const { info } = model;
  return {
    modelId: info.model_id,
    experimentId: String(info.experiment_id),
    name: info.name,
    artifactUri: info.artifact_uri,
    status: String(info.status ?? ""),
    ...(info.source_run_id ? { sourceRunId: info.source_run_id } : {}),
    tags: recordOf(info.tags),
  };
}

export class RestLoggedModels {
  constructor(
    private readonly client: MlflowHttpClient,
    private readonly artifacts: ProxiedArtifacts,
  ) {}

  async create(input: { experimentId: string; name: string; sourceRunId?: string; modelType?: string; params?: Record<string, string>; tags?: Record<string, string> }): Promise<LoggedModel> {
    const { model } = await this.client.call<{ model: WireLoggedModel }>("createLoggedModel", {
      json: { experiment_id: input.experimentId, name: input.name, source_run_id: input.sourceRunId, model_type: input.modelType, params: entriesOf(input.params ?? {}), tags: entriesOf(input.tags ?? {}) },
    });
    return loggedModelOf(model);
  }

  async get(modelId: string): Promise<LoggedModel> {
    const { model } = await this.client.call<{ model: WireLoggedModel }>("getLoggedModel", { pathParameters: { model_id: modelId } });
    return loggedModelOf(model);
  }

  /** Uploads a local folder as the model's files (MLmodel, weights, …) under its artifact root. */
  async logArtifacts(model: LoggedModel, localDirectory: string): Promise<void> {
    await this.artifacts.uploadDirectory(proxiedArtifactPath(model.artifactUri), localDirectory);
  }

  async listArtifacts(model: LoggedModel): Promise<string[]> {
    const root = proxiedArtifactPath(model.artifactUri);
    return this.artifacts.listFiles(root, root);
  }

  async setTags(modelId: string, tags: Record<string, string>): Promise<void> {
    if (Object.keys(tags).length === 0) return;
    await this.client.call("setLoggedModelTags", { pathParameters: { model_id: modelId }, json: { model_id: modelId, tags: entriesOf(tags) } });
  }

  async getTags(modelId: string): Promise<Record<string, string>> {
    return (await this.get(modelId)).tags;
  }

  async logOutputs(runId: string, modelId: string): Promise<void> {
    await this.client.call("logOutputs", { json: { run_id: runId, models: [{ model_id: modelId, step: 0 }] } });
  }

  async finalize(modelId: string, status: "READY" | "UPLOAD_FAILED"): Promise<LoggedModel> {
    const { model } = await this.client.call<{ model: WireLoggedModel }>("finalizeLoggedModel", { pathParameters: { model_id: modelId }, json: { model_id: modelId, status: STATUS_NUMBER[status] } });
    return loggedModelOf(model);
  }
}
