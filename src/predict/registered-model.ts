import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { DataError, UsageError } from "../core/errors.js";
import { MLMODEL_FILE, MODEL_ARTIFACT_PATH } from "../tracking/mlmodel.js";
import type { ModelVersion, TrackingStore } from "../tracking/store.js";

// Resolves `models:/<name>@<alias>` (or `models:/<name>/<version>`) in the tracking store and
// fetches the version's model folder. Every version podtrain registers is logged under its run's
// `model/` artifacts (and, MLflow 3, as the identical logged model), so the run's copy is read.

export interface ModelDocument {
  flavors: Record<string, Record<string, unknown>>;
  signature?: { inputs: string; outputs: string };
}

export interface FetchedModel {
  version: ModelVersion;
  directory: string;
  document: ModelDocument;
}

export function parseModelUri(uri: string): { name: string; alias?: string; version?: string } {
  const match = /^models:\/([^/@]+)(?:@([^/@]+)|\/(\d+))$/.exec(uri);
  if (!match) throw new UsageError(`--model-uri ${JSON.stringify(uri)} is not models:/<name>@<alias> or models:/<name>/<version>`);
  const [, name, alias, version] = match;
  return { name: name!, ...(alias ? { alias } : {}), ...(version ? { version } : {}) };
}

export async function fetchRegisteredModel(store: TrackingStore, uri: string, localDirectory: string): Promise<FetchedModel> {
  const { name, alias, version: number } = parseModelUri(uri);
  const version = alias ? await store.registry.getModelVersionByAlias(name, alias) : await store.registry.getModelVersion(name, number!).catch(() => undefined);
  if (!version) throw new UsageError(`${uri} does not exist on ${store.location}: no version of "${name}" ${alias ? `has the alias "${alias}"` : `numbered ${number}`}`);
  if (!version.runId) throw new UsageError(`${uri} (version ${version.version}) has no source run to load the model from`);
  await store.downloadArtifacts(version.runId, MODEL_ARTIFACT_PATH, localDirectory);
  const text = await readFile(path.join(localDirectory, MLMODEL_FILE), "utf8").catch(() => undefined);
  if (text === undefined) throw new DataError(`${uri} (run ${version.runId}) has no ${MODEL_ARTIFACT_PATH}/${MLMODEL_FILE}: not a model folder`);
  const document = parseYaml(text) as ModelDocument;
  if (!document?.flavors) throw new DataError(`${uri}: ${MLMODEL_FILE} lists no flavors`);
  return { version, directory: localDirectory, document };
}
