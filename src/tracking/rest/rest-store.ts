import { NotImplementedError } from "../../runtime/errors.js";
import type { TrackingStore } from "../store.js";

/** Placeholder until the REST client lands: fails with a clear message rather than a fake run. */
export function createRestTrackingStore(uri: string): TrackingStore {
  throw new NotImplementedError(`MLflow tracking over REST (${uri}) is not available in this build; unset MLFLOW_TRACKING_URI to use ./mlruns`);
}
