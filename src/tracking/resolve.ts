import { fileURLToPath } from "node:url";
import { UsageError } from "../runtime/errors.js";
import { FileTrackingStore } from "./file-store.js";
import type { TrackingStore } from "./store.js";

export const DEFAULT_LOCAL_STORE = "./mlruns";

/** No URI → ./mlruns (MLflow's folder layout); file: URIs and paths → folder store. */
export async function openTrackingStore(uri: string | undefined = process.env.MLFLOW_TRACKING_URI): Promise<TrackingStore> {
  const target = uri?.trim() || DEFAULT_LOCAL_STORE;
  if (/^https?:\/\//.test(target)) {
    const { createRestTrackingStore } = await import("./rest/rest-store.js");
    return createRestTrackingStore(target);
  }
  if (target.startsWith("file:")) return new FileTrackingStore(fileURLToPath(target));
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
    throw new UsageError(`unsupported tracking URI ${target}: use http(s)://host:port for an MLflow server, or a folder path / file: URI for a local store`);
  }
  return new FileTrackingStore(target);
}
