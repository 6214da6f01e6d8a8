import { randomUUID } from "node:crypto";
import path from "node:path";
import { UnavailableError, UsageError } from "../../core/errors.js";
import type { ExperimentSummary, LogBatch, ModelRegistry, RunData, RunInfo, RunStatus, TrackingStore } from "../store.js";
import { ProxiedArtifacts, proxiedArtifactPath } from "./artifacts.js";
import { splitBatch, validateBatch } from "./batch-limits.js";
import type { Environment } from "./credentials.js";
import { MlflowHttpClient, MlflowRequestError, MlflowUnavailableError } from "./http-client.js";
import { RestLoggedModels } from "./logged-models.js";
import { RestModelRegistry } from "./rest-registry.js";
import type { RetryPolicy } from "./retry-policy.js";
import { entriesOf, filterLiteral, recordOf, runInfoOf, type WireRun } from "./wire.js";
import { CREATE_REQUEST_TAG, MLFLOW_SOURCE_NAME_TAG, MLFLOW_SOURCE_TYPE_TAG } from "../tags.js";


/** checkAvailable must answer within seconds: a pod should fail at start, not after a training. */
const AVAILABILITY_POLICY: Partial<RetryPolicy> = { maxRetries: 2, totalTimeoutMs: 5_000, requestTimeoutMs: 3_000, baseDelayMs: 250, maxDelayMs: 1_000 };

export interface RestStoreOptions {
  environment?: Environment;
  retryPolicy?: Partial<RetryPolicy>;
  /** Where the URI came from, so an error names what to change (default: the environment). */
  configuredBy?: "--tracking-uri" | "MLFLOW_TRACKING_URI";
}

export class RestTrackingStore implements TrackingStore {
  readonly location: string;
  readonly registry: ModelRegistry;
  readonly client: MlflowHttpClient;
  /** MLflow 3 logged models (REST only; not part of TrackingStore yet). */
  readonly loggedModels: RestLoggedModels;
  private readonly artifacts: ProxiedArtifacts;
  private readonly artifactRoots = new Map<string, string>();

  private readonly configuredBy: NonNullable<RestStoreOptions["configuredBy"]>;

  constructor(trackingUri: string, options: RestStoreOptions = {}) {
    this.configuredBy = options.configuredBy ?? "MLFLOW_TRACKING_URI";
    this.client = new MlflowHttpClient(trackingUri, options.environment, options.retryPolicy);
    this.location = this.client.baseUrl;
    this.artifacts = new ProxiedArtifacts(this.client, options.environment);
    this.registry = new RestModelRegistry(this.client);
    this.loggedModels = new RestLoggedModels(this.client, this.artifacts);
  }

  async checkAvailable(): Promise<void> {
    try {
      await this.client.call("searchExperiments", { json: { max_results: 1 }, policy: AVAILABILITY_POLICY });
    } catch (error) {
      if (error instanceof MlflowUnavailableError) {
        throw new UnavailableError(`cannot reach the MLflow tracking server at ${this.location} (${error.lastFailure}): start it or ${this.configuredBy === "--tracking-uri" ? "drop --tracking-uri" : "unset MLFLOW_TRACKING_URI"} to use ./mlruns`, { cause: error });
      }
      if (error instanceof MlflowRequestError && error.status === 404) {
        throw new UnavailableError(`${this.location} does not look like an MLflow tracking server (HTTP 404 for the experiments API): check ${this.configuredBy}`, { cause: error });
      }
      throw error;
    }
  }

  async getOrCreateExperiment(name: string): Promise<string> {
    const existing = await this.findExperiment(name);
    if (existing !== undefined) return existing;
    try {
      const created = await this.client.call<{ experiment_id: string }>("createExperiment", { json: { name } });
      return String(created.experiment_id);
    } catch (error) {
      // Another pod (or our own retried request) created it in between.
      if (error instanceof MlflowRequestError && error.errorCode === "RESOURCE_ALREADY_EXISTS") {
        const raced = await this.findExperiment(name);
        if (raced !== undefined) return raced;
      }
      throw error;
    }
  }

  async createRun(input: { experimentId: string; runName: string; startTime: number; tags: Record<string, string> }): Promise<RunInfo> {
    const requestId = randomUUID();
    const tags = { [MLFLOW_SOURCE_NAME_TAG]: "podtrain", [MLFLOW_SOURCE_TYPE_TAG]: "LOCAL", ...input.tags, [CREATE_REQUEST_TAG]: requestId };
    validateBatch({ tags });
    const response = await this.client.call<{ run: WireRun }>("createRun", {
      json: { experiment_id: input.experimentId, run_name: input.runName, start_time: input.startTime, tags: entriesOf(tags) },
      recover: async () => {
        const [found] = await this.searchRuns(input.experimentId, CREATE_REQUEST_TAG, requestId);
        return found ? { run: found } : undefined;
      },
    });
    return runInfoOf(response.run.info);
  }

  async getRun(runId: string): Promise<RunData> {
    const { run } = await this.client.call<{ run: WireRun }>("getRun", { query: { run_id: runId } });
    return {
      info: runInfoOf(run.info),
      params: recordOf(run.data?.params),
      tags: recordOf(run.data?.tags),
      metrics: Object.fromEntries((run.data?.metrics ?? []).map((metric) => [metric.key, Number(metric.value)])),
    };
  }

  async listExperiments(): Promise<ExperimentSummary[]> {
    const experiments: ExperimentSummary[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.client.call<{ experiments?: Array<{ experiment_id: string; name: string }>; next_page_token?: string }>("searchExperiments", {
        json: { max_results: 1000, view_type: "ACTIVE_ONLY", page_token: pageToken },
      });
      experiments.push(...(page.experiments ?? []).map((experiment) => ({ experimentId: String(experiment.experiment_id), name: experiment.name })));
      pageToken = page.next_page_token || undefined;
    } while (pageToken);
    return experiments;
  }

  async listRuns(experimentIds: string[], options: { status?: RunStatus; maxResults: number }): Promise<RunInfo[]> {
    if (experimentIds.length === 0) return [];
    const page = await this.client.call<{ runs?: WireRun[] }>("searchRuns", {
      json: {
        experiment_ids: experimentIds,
        ...(options.status ? { filter: `attributes.status = '${options.status}'` } : {}),
        run_view_type: "ACTIVE_ONLY",
        max_results: Math.min(options.maxResults, 1000),
        order_by: ["attributes.start_time DESC"],
      },
    });
    return (page.runs ?? []).map((run) => runInfoOf(run.info));
  }

  async findRunsByTag(experimentId: string, key: string, value: string): Promise<RunInfo[]> {
    return (await this.searchRuns(experimentId, key, value)).map((run) => runInfoOf(run.info));
  }

  async logBatch(runId: string, batch: LogBatch): Promise<void> {
    validateBatch(batch);
    // Sequential on purpose: metric history order is kept and a failure stops the rest.
    for (const request of splitBatch(batch)) await this.client.call("logBatch", { json: { run_id: runId, ...request } });
  }

  async logArtifacts(runId: string, localDirectory: string, artifactPath: string): Promise<void> {
    await this.artifacts.uploadDirectory(path.posix.join(await this.artifactRoot(runId), artifactPath), localDirectory);
  }

  async listArtifacts(runId: string, artifactPath = ""): Promise<string[]> {
    const root = await this.artifactRoot(runId);
    return this.artifacts.listFiles(path.posix.join(root, artifactPath), root);
  }

  /** Downloads one artifact file of the run to `localFile` (not part of TrackingStore). */
  async downloadArtifact(runId: string, artifactPath: string, localFile: string): Promise<void> {
    await this.artifacts.downloadFile(path.posix.join(await this.artifactRoot(runId), artifactPath), localFile);
  }

  async downloadArtifacts(runId: string, artifactPath: string, localDirectory: string): Promise<void> {
    const files = await this.listArtifacts(runId, artifactPath);
    if (files.length === 0) throw new UsageError(`run ${runId} has no artifacts under "${artifactPath}"`);
    for (const file of files) {
      await this.downloadArtifact(runId, file, path.join(localDirectory, path.posix.relative(artifactPath, file)));
    }
  }

  async deleteArtifacts(runId: string, artifactPath: string): Promise<void> {
    const remote = path.posix.join(await this.artifactRoot(runId), artifactPath);
    await this.client.request("deleteArtifact", { pathParameters: { artifact_path: remote } }, async (response) => void (await response.arrayBuffer()));
  }

  async updateRun(runId: string, input: { status: RunStatus; endTime?: number; runName?: string }): Promise<void> {
    await this.client.call("updateRun", { json: { run_id: runId, status: input.status, end_time: input.endTime, run_name: input.runName } });
  }

  async deleteRun(runId: string): Promise<void> {
    await this.client.call("deleteRun", { json: { run_id: runId } });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    try {
      await this.client.call("deleteTag", { json: { run_id: runId, key } });
    } catch (error) {
      // Deleting a tag that is not there is what we wanted anyway.
      if (!(error instanceof MlflowRequestError && error.errorCode === "RESOURCE_DOES_NOT_EXIST")) throw error;
    }
  }

  private async findExperiment(name: string): Promise<string | undefined> {
    try {
      const { experiment } = await this.client.call<{ experiment: { experiment_id: string; lifecycle_stage?: string } }>("getExperimentByName", { query: { experiment_name: name } });
      if (experiment.lifecycle_stage && experiment.lifecycle_stage !== "active") {
        throw new UsageError(`experiment "${name}" is deleted on ${this.location}; restore it or pick another name`);
      }
      return String(experiment.experiment_id);
    } catch (error) {
      if (error instanceof MlflowRequestError && error.errorCode === "RESOURCE_DOES_NOT_EXIST") return undefined;
      throw error;
    }
  }

  private async searchRuns(experimentId: string, key: string, value: string): Promise<WireRun[]> {
    if (key.includes("`")) throw new UsageError(`cannot search for a tag key containing a backtick: ${JSON.stringify(key)}`);
    const runs: WireRun[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.client.call<{ runs?: WireRun[]; next_page_token?: string }>("searchRuns", {
        json: { experiment_ids: [experimentId], filter: `tags.\`${key}\` = ${filterLiteral(value)}`, run_view_type: "ACTIVE_ONLY", max_results: 1000, order_by: ["attributes.start_time DESC"], page_token: pageToken },
      });
      runs.push(...(page.runs ?? []));
      pageToken = page.next_page_token || undefined;
    } while (pageToken);
    return runs;
  }

  private async artifactRoot(runId: string): Promise<string> {
    let root = this.artifactRoots.get(runId);
    if (root === undefined) {
      root = proxiedArtifactPath((await this.getRun(runId)).info.artifactUri);
      this.artifactRoots.set(runId, root);
    }
    return root;
  }
}
