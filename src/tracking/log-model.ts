import { LOGGED_MODEL_TAG, MLFLOW_MODEL_VERSIONS_TAG } from "./tags.js";
import { MODEL_ARTIFACT_PATH, type MLmodelInput, writeMLmodel } from "./mlmodel.js";
import type { TrackingStore } from "./store.js";

// Logging a model folder, the same on every store: the MLmodel file, the run's `model/`
// artifacts, and (MLflow 3) a logged model linked to the run, which is what the UI lists as the
// run's model and what a registered version points at (models:/<model id>). The logged model is
// created PENDING and finalized READY only once its files are in; a failed upload finalizes it
// UPLOAD_FAILED, so nothing half-written looks usable.


export interface LoggedModelResult {
  /** Where the run's copy lies (`<artifact root>/model`). */
  modelUri: string;
  /** The MLflow 3 logged model, when the store has them. */
  modelId?: string;
}

export async function logModel(
  store: TrackingStore,
  run: { runId: string; experimentId: string; artifactUri: string },
  modelDirectory: string,
  model: Pick<MLmodelInput, "flavors" | "signature">,
): Promise<LoggedModelResult> {
  const modelUri = `${run.artifactUri}/${MODEL_ARTIFACT_PATH}`;
  const loggedModels = store.loggedModels;
  const created = loggedModels ? await loggedModels.create({ experimentId: run.experimentId, name: MODEL_ARTIFACT_PATH, sourceRunId: run.runId, modelType: Object.keys(model.flavors)[0] ?? "custom" }) : undefined;
  await writeMLmodel(modelDirectory, { runId: run.runId, ...(created ? { modelId: created.modelId } : {}), flavors: model.flavors, ...(model.signature ? { signature: model.signature } : {}) });
  await store.logArtifacts(run.runId, modelDirectory, MODEL_ARTIFACT_PATH);
  if (!loggedModels || !created) return { modelUri };
  try {
    await loggedModels.logArtifacts(created, modelDirectory);
  } catch (error) {
    await loggedModels.finalize(created.modelId, "UPLOAD_FAILED").catch(() => undefined);
    throw error;
  }
  await loggedModels.finalize(created.modelId, "READY");
  await loggedModels.logOutputs(run.runId, created.modelId);
  await store.logBatch(run.runId, { tags: { [LOGGED_MODEL_TAG]: created.modelId } });
  return { modelUri, modelId: created.modelId };
}

/**
 * Adds a registered version to the logged model's `mlflow.modelVersions` tag, as Python's
 * `mlflow.register_model` does, so the model page links to its versions.
 */
export async function linkModelVersion(store: TrackingStore, modelId: string, version: { name: string; version: string }): Promise<void> {
  const loggedModels = store.loggedModels;
  if (!loggedModels) return;
  const existing = (await loggedModels.getTags(modelId))[MLFLOW_MODEL_VERSIONS_TAG];
  const listed = existing ? (JSON.parse(existing) as Array<{ name: string; version: number }>) : [];
  if (listed.some((entry) => entry.name === version.name && String(entry.version) === version.version)) return;
  listed.push({ name: version.name, version: Number(version.version) });
  await loggedModels.setTags(modelId, { [MLFLOW_MODEL_VERSIONS_TAG]: JSON.stringify(listed) });
}

