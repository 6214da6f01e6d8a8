import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileTrackingStore } from "../../src/tracking/file-store.js";
import { RestTrackingStore } from "../../src/tracking/rest/rest-store.js";
import { CREATE_REQUEST_TAG } from "../../src/tracking/tags.js";
import type { TrackingStore } from "../../src/tracking/store.js";
import { startMlflowServer, type MlflowServer } from "../support/mlflow-server.js";
import { runPythonJson } from "../support/python.js";

// The embedded file store and the REST store must be interchangeable: the same calls, read back
// through Python MLflow from each backend, give the same run and registry contents.

let server: MlflowServer;
let scratch: string;

beforeAll(async () => {
  server = await startMlflowServer();
  scratch = await mkdtemp(path.join(os.tmpdir(), "podtrain-parity-"));
});

afterAll(async () => {
  await server?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function sameSequence(store: TrackingStore, artifacts: string): Promise<string> {
  await store.checkAvailable();
  const experimentId = await store.getOrCreateExperiment("power-forecast");
  const run = await store.createRun({ experimentId, runName: "power-2026-01-02", startTime: 1_767_300_000_000, tags: { "podtrain.data_version": "sha256:abc", "podtrain.git_sha": "0123abc" } });
  await store.logBatch(run.runId, {
    params: { num_leaves: "31", learning_rate: "0.05" },
    metrics: [0, 1, 2].flatMap((step) => [{ key: "rmse", value: 1 / (step + 1), timestamp: 1_767_300_000_000 + step, step }, { key: "val/mae", value: step * 0.5, timestamp: 1_767_300_000_000 + step, step }]),
    tags: { stage: "evaluated" },
  });
  await store.logArtifacts(run.runId, artifacts, "model");
  await store.updateRun(run.runId, { status: "FINISHED", endTime: 1_767_300_100_000 });
  const version = await store.registry.createModelVersion({ name: "power_lgbm", source: `runs:/${run.runId}/model`, runId: run.runId, tags: { rmse: "0.33" } });
  await store.registry.setModelVersionTag("power_lgbm", version.version, "approved", "false");
  await store.registry.setAlias("power_lgbm", "candidate", version.version);
  return run.runId;
}

const READ_BACK = `
import json, sys, mlflow
uri, run_id = sys.argv[1], sys.argv[2]
client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
run = client.get_run(run_id)
def walk(path):
    out = []
    for item in client.list_artifacts(run_id, path):
        out += walk(item.path) if item.is_dir else [item.path]
    return out
version = client.get_model_version_by_alias("power_lgbm", "candidate")
print(json.dumps({
  "experiment": client.get_experiment(run.info.experiment_id).name,
  "run": [run.info.run_name, run.info.status, run.info.start_time, run.info.end_time],
  "params": run.data.params,
  "tags": {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.") and k != "${CREATE_REQUEST_TAG}"},
  "metrics": {key: sorted((m.step, m.value, m.timestamp) for m in client.get_metric_history(run_id, key)) for key in run.data.metrics},
  "artifacts": sorted(walk("model")),
  # str(): MLflow's own file registry hands the version back as an int, the REST API as a string.
  "version": [str(version.version), version.run_id == run_id, version.source == "runs:/" + run_id + "/model", version.tags, sorted(version.aliases)],
}))`;

describe("file store and REST store parity", () => {
  it("reads back equal through the Python client", async () => {
    const artifacts = path.join(scratch, "artifacts");
    await mkdir(path.join(artifacts, "booster"), { recursive: true });
    await writeFile(path.join(artifacts, "MLmodel"), "flavors: {}\n");
    await writeFile(path.join(artifacts, "booster", "model.txt"), "tree\n");
    const fileRoot = path.join(scratch, "mlruns");
    const fileRunId = await sameSequence(new FileTrackingStore(fileRoot), artifacts);
    const restRunId = await sameSequence(new RestTrackingStore(server.uri, { environment: {} }), artifacts);
    const read = (uri: string, runId: string) => runPythonJson<Record<string, unknown>>(`import sys; sys.argv = ["x", ${JSON.stringify(uri)}, ${JSON.stringify(runId)}]\n${READ_BACK}`);
    const fromFile = await read(pathToFileURL(fileRoot).href, fileRunId);
    const fromRest = await read(server.uri, restRunId);
    expect(fromRest).toEqual(fromFile);
    expect(fromRest).toMatchObject({ experiment: "power-forecast", artifacts: ["model/MLmodel", "model/booster/model.txt"], version: ["1", true, true, { rmse: "0.33", approved: "false" }, ["candidate"]] });
  });
});
