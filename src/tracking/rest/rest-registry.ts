import type { ModelRegistry, ModelVersion, RegisteredModelSummary } from "../store.js";
import { MlflowRequestError, type MlflowHttpClient } from "./http-client.js";
import { entriesOf, filterLiteral, modelVersionOf, type WireModelVersion } from "./wire.js";

// MLflow 3 model registry over REST: registered models, versions, version tags and aliases
// (aliases replace the deprecated stages).

export class RestModelRegistry implements ModelRegistry {
  constructor(private readonly client: MlflowHttpClient) {}

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
    try {
      const { model_version } = await this.client.call<{ model_version: WireModelVersion }>("getModelVersionByAlias", { query: { name, alias } });
      return modelVersionOf(model_version);
    } catch (error) {
      if (error instanceof MlflowRequestError && (error.errorCode === "RESOURCE_DOES_NOT_EXIST" || error.errorCode === "INVALID_PARAMETER_VALUE")) return undefined;
      throw error;
    }
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    const { model_version } = await this.client.call<{ model_version: WireModelVersion }>("getModelVersion", { query: { name, version } });
    return modelVersionOf(model_version);
  }

  async listRegisteredModels(): Promise<RegisteredModelSummary[]> {
    const models: RegisteredModelSummary[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.client.call<{ registered_models?: Array<{ name: string; aliases?: Array<{ alias: string; version: string | number }>; last_updated_timestamp?: number | string }>; next_page_token?: string }>("searchRegisteredModels", {
        query: { max_results: 1000, page_token: pageToken },
      });
      for (const model of page.registered_models ?? []) {
        models.push({
          name: model.name,
          aliases: Object.fromEntries((model.aliases ?? []).map(({ alias, version }) => [alias, String(version)])),
          ...(model.last_updated_timestamp === undefined ? {} : { updatedAt: Number(model.last_updated_timestamp) }),
        });
      }
      pageToken = page.next_page_token || undefined;
    } while (pageToken);
    return models.sort((left, right) => left.name.localeCompare(right.name));
  }

  async listModelVersions(name: string): Promise<ModelVersion[]> {
    const versions = await this.searchVersions(`name = ${filterLiteral(name)}`);
    if (versions.length === 0) return versions;
    // The search leaves aliases out; the registered model has them.
    const { registered_model } = await this.client.call<{ registered_model: { aliases?: Array<{ alias: string; version: string | number }> } }>("getRegisteredModel", { query: { name } });
    const aliases = registered_model.aliases ?? [];
    return versions.map((version) => ({ ...version, aliases: aliases.filter((alias) => String(alias.version) === version.version).map((alias) => alias.alias).sort() }));
  }

  async findModelVersionsByRun(name: string, runId: string): Promise<ModelVersion[]> {
    return this.searchVersions(`name = ${filterLiteral(name)} and run_id = ${filterLiteral(runId)}`);
  }

  private async searchVersions(filter: string): Promise<ModelVersion[]> {
    const versions: ModelVersion[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.client.call<{ model_versions?: WireModelVersion[]; next_page_token?: string }>("searchModelVersions", {
        query: { filter, max_results: 1000, page_token: pageToken },
      });
      versions.push(...(page.model_versions ?? []).map(modelVersionOf));
      pageToken = page.next_page_token || undefined;
    } while (pageToken);
    return versions.sort((left, right) => Number(left.version) - Number(right.version));
  }

  async createModelVersion(input: { name: string; source: string; runId: string; tags: Record<string, string>; modelId?: string }): Promise<ModelVersion> {
    try {
      await this.client.call("createRegisteredModel", { json: { name: input.name } });
    } catch (error) {
      if (!(error instanceof MlflowRequestError && error.errorCode === "RESOURCE_ALREADY_EXISTS")) throw error;
    }
    // Versions already there before we ask: if our create's response is lost, a version of this
    // run and source that is not among them is ours, and re-sending would register it twice.
    const before = new Set((await this.findModelVersionsByRun(input.name, input.runId)).map((version) => version.version));
    const { model_version } = await this.client.call<{ model_version: WireModelVersion }>("createModelVersion", {
      json: { name: input.name, source: input.source, run_id: input.runId, tags: entriesOf(input.tags), model_id: input.modelId },
      recover: async () => {
        const landed = (await this.findModelVersionsByRun(input.name, input.runId)).find((version) => !before.has(version.version) && version.source === input.source);
        return landed ? { model_version: { ...landed, run_id: input.runId, tags: entriesOf(landed.tags) } } : undefined;
      },
    });
    return modelVersionOf(model_version);
  }

  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.client.call("setModelVersionTag", { json: { name, version, key, value } });
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.client.call("setRegisteredModelAlias", { json: { name, alias, version } });
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    try {
      await this.client.call("deleteRegisteredModelAlias", { json: { name, alias } });
    } catch (error) {
      // No such alias (or our retried request landed): the goal is reached.
      if (!(error instanceof MlflowRequestError && (error.errorCode === "RESOURCE_DOES_NOT_EXIST" || error.errorCode === "INVALID_PARAMETER_VALUE"))) throw error;
    }
  }

  async deleteModelVersion(name: string, version: string): Promise<void> {
    try {
      await this.client.call("deleteModelVersion", { json: { name, version } });
    } catch (error) {
      // Already deleted (our retried request landed): the goal is reached.
      if (!(error instanceof MlflowRequestError && error.errorCode === "RESOURCE_DOES_NOT_EXIST")) throw error;
    }
  }
}
