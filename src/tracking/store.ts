// One tracking interface, two implementations: the MLflow-compatible local folder store
// (embedded default) and the MLflow REST client (MLFLOW_TRACKING_URI=http…). The run lifecycle
// in src/runtime only talks to this interface.

export const RUN_STATUSES = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunInfo {
  runId: string;
  experimentId: string;
  runName: string;
  status: RunStatus;
  startTime: number;
  endTime?: number;
  artifactUri: string;
}

export interface RunData {
  info: RunInfo;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Latest value of each metric. */
  metrics: Record<string, number>;
}

export interface Metric {
  key: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
}

export interface LogBatch {
  metrics?: Metric[];
  params?: Record<string, string>;
  tags?: Record<string, string>;
}

export interface ModelVersion {
  name: string;
  version: string;
  runId?: string;
  source: string;
  tags: Record<string, string>;
  aliases: string[];
}

export interface ExperimentSummary {
  experimentId: string;
  name: string;
}

export interface RegisteredModelSummary {
  name: string;
  /** alias → version */
  aliases: Record<string, string>;
  /** Milliseconds since the epoch. */
  updatedAt?: number;
}

export interface ModelRegistry {
  /** Every registered model, by name (`train models list`). */
  listRegisteredModels(): Promise<RegisteredModelSummary[]>;
  /** The versions of one model, oldest first; a model that does not exist has none. */
  listModelVersions(name: string): Promise<ModelVersion[]>;
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion | undefined>;
  getModelVersion(name: string, version: string): Promise<ModelVersion>;
  /** Versions of `name` created from `runId` (used to keep a retried task from registering twice). */
  findModelVersionsByRun(name: string, runId: string): Promise<ModelVersion[]>;
  /** Creates the registered model when missing, then a new version. */
  /** `modelId`: the MLflow 3 logged model the version comes from, when there is one. */
  createModelVersion(input: { name: string; source: string; runId: string; tags: Record<string, string>; modelId?: string }): Promise<ModelVersion>;
  setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void>;
  setAlias(name: string, alias: string, version: string): Promise<void>;
  /** Removes an alias from the model (a rejected candidate); no error when it is not set. */
  deleteAlias(name: string, alias: string): Promise<void>;
  /** Deletes a version (a duplicate created by a racing attempt); its number is never reused. */
  deleteModelVersion(name: string, version: string): Promise<void>;
}

/** MLflow 3 logged models (server and local folder): what the UI lists as a run's "Models". */
export interface LoggedModelStore {
  create(input: { experimentId: string; name: string; sourceRunId?: string; modelType?: string; tags?: Record<string, string> }): Promise<{ modelId: string }>;
  logArtifacts(model: { modelId: string }, localDirectory: string): Promise<void>;
  finalize(modelId: string, status: "READY" | "UPLOAD_FAILED"): Promise<unknown>;
  setTags(modelId: string, tags: Record<string, string>): Promise<void>;
  getTags(modelId: string): Promise<Record<string, string>>;
  /** Links the model to the run as its output (the run's "Logged models" in the UI). */
  logOutputs(runId: string, modelId: string): Promise<void>;
}

export interface TrackingStore {
  /** Where runs go, for messages and the run summary (never carries credentials). */
  readonly location: string;
  /** Fails fast with an actionable error when the backend cannot be used at all. */
  checkAvailable(): Promise<void>;
  getOrCreateExperiment(name: string): Promise<string>;
  /** Active experiments (`train runs list`). */
  listExperiments(): Promise<ExperimentSummary[]>;
  /** Active runs of these experiments, newest first, at most `maxResults`. */
  listRuns(experimentIds: string[], options: { status?: RunStatus; maxResults: number }): Promise<RunInfo[]>;
  createRun(input: { experimentId: string; runName: string; startTime: number; tags: Record<string, string> }): Promise<RunInfo>;
  getRun(runId: string): Promise<RunData>;
  /** Runs of the experiment whose tag `key` equals `value`, newest first. */
  findRunsByTag(experimentId: string, key: string, value: string): Promise<RunInfo[]>;
  logBatch(runId: string, batch: LogBatch): Promise<void>;
  /** Copies a local folder into the run's artifacts under `artifactPath` (atomically per file). */
  logArtifacts(runId: string, localDirectory: string, artifactPath: string): Promise<void>;
  /** Copies the run's artifacts under `artifactPath` into a local folder. */
  downloadArtifacts(runId: string, artifactPath: string, localDirectory: string): Promise<void>;
  /** Lists artifact paths (files only, relative to the run's artifact root). */
  listArtifacts(runId: string, artifactPath?: string): Promise<string[]>;
  /** Removes the run's artifacts under `artifactPath` (old checkpoints); optional for stores that cannot. */
  deleteArtifacts?(runId: string, artifactPath: string): Promise<void>;
  updateRun(runId: string, input: { status: RunStatus; endTime?: number; runName?: string }): Promise<void>;
  /** MLflow's soft delete: the run leaves every search (a duplicate created by a racing attempt). */
  deleteRun(runId: string): Promise<void>;
  /** Removes a tag (a stale `podtrain.error` on a run that is continued); a missing tag is fine. */
  deleteTag(runId: string, key: string): Promise<void>;
  /**
   * Runs `body` while holding the store's exclusive lock, for stores that have one (the local
   * folder). Stores without it (REST) leave the field undefined and callers reconcile instead.
   */
  withExclusiveLock?<T>(body: () => Promise<T>): Promise<T>;
  readonly registry: ModelRegistry;
  readonly loggedModels?: LoggedModelStore;
}
