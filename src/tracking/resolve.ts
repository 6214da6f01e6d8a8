import path from "node:path";
import { fileURLToPath } from "node:url";
import { SpecError, UsageError } from "../core/errors.js";
import { redactSecrets } from "../core/redact.js";
import { FileTrackingStore } from "./file-store.js";
import { RestTrackingStore } from "./rest/rest-store.js";
import type { TrackingStore } from "./store.js";

// Picks the tracking backend the way MLflow does: explicit URI, else MLFLOW_TRACKING_URI, else
// the local ./mlruns folder (the embedded default that `mlflow ui` opens).

export const DEFAULT_LOCAL_STORE = "./mlruns";

export function openTrackingStore(uri?: string, environment: Record<string, string | undefined> = process.env): TrackingStore {
  const chosen = uri ?? (environment.MLFLOW_TRACKING_URI || undefined);
  if (chosen === undefined) return new FileTrackingStore(DEFAULT_LOCAL_STORE);
  if (/^https?:\/\//i.test(chosen)) {
    if (!URL.canParse(chosen)) {
      // Which one is wrong decides the fix (and the exit code): the flag, or the pod's config.
      const where = uri === undefined ? "MLFLOW_TRACKING_URI" : "--tracking-uri";
      const message = `${where}: ${redactSecrets(chosen)} is not a valid URL (expected http(s)://host:port, IPv6 hosts in brackets: http://[::1]:5000)`;
      throw uri === undefined ? new SpecError(message) : new UsageError(message);
    }
    return new RestTrackingStore(chosen, { environment, configuredBy: uri === undefined ? "MLFLOW_TRACKING_URI" : "--tracking-uri" });
  }
  if (/^file:/i.test(chosen)) {
    try {
      return new FileTrackingStore(fileURLToPath(chosen));
    } catch (cause) {
      throw new UsageError(`invalid file URI ${chosen}: ${(cause as Error).message}`, { cause });
    }
  }
  // A plain path (relative or absolute); "C:\…" style paths have a one-letter "scheme".
  if (!/^[a-z][a-z0-9+.-]+:/i.test(chosen) || path.isAbsolute(chosen)) return new FileTrackingStore(chosen);
  const scheme = chosen.slice(0, chosen.indexOf(":"));
  throw new UsageError(
    `unsupported tracking URI scheme "${scheme}:" in ${scheme === chosen ? chosen : `${scheme}:…`}: use http(s)://host:port for an MLflow tracking server, file:///path or a plain path for a local store, or leave MLFLOW_TRACKING_URI unset for ${DEFAULT_LOCAL_STORE}`,
  );
}
