// Every MLflow REST endpoint the client uses, in one table, so that a server upgrade that moves a
// route is a one-line change and tests can enumerate what the client depends on.
// Paths are relative to the tracking URI; `{model_id}` style segments are filled by the client.

export interface Endpoint {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly path: string;
}

export const ENDPOINTS = {
  health: { method: "GET", path: "/health" },
  serverInfo: { method: "GET", path: "/api/3.0/mlflow/server-info" },
  searchExperiments: { method: "POST", path: "/api/2.0/mlflow/experiments/search" },
  getExperimentByName: { method: "GET", path: "/api/2.0/mlflow/experiments/get-by-name" },
  createExperiment: { method: "POST", path: "/api/2.0/mlflow/experiments/create" },
  createRun: { method: "POST", path: "/api/2.0/mlflow/runs/create" },
  getRun: { method: "GET", path: "/api/2.0/mlflow/runs/get" },
  updateRun: { method: "POST", path: "/api/2.0/mlflow/runs/update" },
  deleteRun: { method: "POST", path: "/api/2.0/mlflow/runs/delete" },
  deleteTag: { method: "POST", path: "/api/2.0/mlflow/runs/delete-tag" },
  searchRuns: { method: "POST", path: "/api/2.0/mlflow/runs/search" },
  logBatch: { method: "POST", path: "/api/2.0/mlflow/runs/log-batch" },
  uploadArtifact: { method: "PUT", path: "/api/2.0/mlflow-artifacts/artifacts/{artifact_path}" },
  downloadArtifact: { method: "GET", path: "/api/2.0/mlflow-artifacts/artifacts/{artifact_path}" },
  listArtifacts: { method: "GET", path: "/api/2.0/mlflow-artifacts/artifacts" },
  deleteArtifact: { method: "DELETE", path: "/api/2.0/mlflow-artifacts/artifacts/{artifact_path}" },
  createMultipartUpload: { method: "POST", path: "/api/2.0/mlflow-artifacts/mpu/create/{artifact_path}" },
  completeMultipartUpload: { method: "POST", path: "/api/2.0/mlflow-artifacts/mpu/complete/{artifact_path}" },
  abortMultipartUpload: { method: "POST", path: "/api/2.0/mlflow-artifacts/mpu/abort/{artifact_path}" },
  getRegisteredModel: { method: "GET", path: "/api/2.0/mlflow/registered-models/get" },
  searchRegisteredModels: { method: "GET", path: "/api/2.0/mlflow/registered-models/search" },
  createRegisteredModel: { method: "POST", path: "/api/2.0/mlflow/registered-models/create" },
  createModelVersion: { method: "POST", path: "/api/2.0/mlflow/model-versions/create" },
  getModelVersion: { method: "GET", path: "/api/2.0/mlflow/model-versions/get" },
  searchModelVersions: { method: "GET", path: "/api/2.0/mlflow/model-versions/search" },
  deleteModelVersion: { method: "DELETE", path: "/api/2.0/mlflow/model-versions/delete" },
  setModelVersionTag: { method: "POST", path: "/api/2.0/mlflow/model-versions/set-tag" },
  setRegisteredModelAlias: { method: "POST", path: "/api/2.0/mlflow/registered-models/alias" },
  deleteRegisteredModelAlias: { method: "DELETE", path: "/api/2.0/mlflow/registered-models/alias" },
  getModelVersionByAlias: { method: "GET", path: "/api/2.0/mlflow/registered-models/alias" },
  createLoggedModel: { method: "POST", path: "/api/2.0/mlflow/logged-models" },
  finalizeLoggedModel: { method: "PATCH", path: "/api/2.0/mlflow/logged-models/{model_id}" },
  getLoggedModel: { method: "GET", path: "/api/2.0/mlflow/logged-models/{model_id}" },
  setLoggedModelTags: { method: "PATCH", path: "/api/2.0/mlflow/logged-models/{model_id}/tags" },
  logOutputs: { method: "POST", path: "/api/2.0/mlflow/runs/outputs" },
} as const satisfies Record<string, Endpoint>;

export type EndpointName = keyof typeof ENDPOINTS;

/** Fills `{name}` segments; artifact paths keep their slashes, every segment is URL-encoded. */
export function endpointPath(name: EndpointName, pathParameters: Record<string, string> = {}): string {
  return ENDPOINTS[name].path.replace(/\{(\w+)\}/g, (_match, key: string) => {
    const value = pathParameters[key];
    if (value === undefined) throw new Error(`endpoint ${name} needs the path parameter ${key}`);
    return value.split("/").map(encodeURIComponent).join("/");
  });
}
