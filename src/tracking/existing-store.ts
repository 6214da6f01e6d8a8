import { stat } from "node:fs/promises";
import { UsageError } from "../core/errors.js";
import { FileTrackingStore } from "./file-store.js";
import { openTrackingStore } from "./resolve.js";
import type { TrackingStore } from "./store.js";

// Commands that only read or change what is already tracked (promote, runs, models) open the
// store with this: a local folder that does not exist is a wrong --tracking-uri or cwd, and
// creating an empty ./mlruns there (as checkAvailable does for a first run) would hide that.

export async function openExistingTrackingStore(uri?: string, environment: Record<string, string | undefined> = process.env): Promise<TrackingStore> {
  const store = openTrackingStore(uri, environment);
  if (store instanceof FileTrackingStore) {
    const found = await stat(store.location).then((entry) => entry.isDirectory(), () => false);
    if (!found) {
      const given = uri !== undefined ? "--tracking-uri" : environment.MLFLOW_TRACKING_URI ? "MLFLOW_TRACKING_URI" : undefined;
      const fix = given ? `check ${given}` : "run it where the runs were written, or pass --tracking-uri <MLflow server URL or mlruns folder>";
      throw new UsageError(`no tracking store at ${store.location}: nothing has been tracked there; ${fix}`);
    }
  }
  await store.checkAvailable();
  return store;
}
