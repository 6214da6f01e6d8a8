import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FileTrackingStore } from "../../src/tracking/file-store.js";
import { runPythonJson } from "../support/python.js";

async function newStore() {
  const root = path.join(await mkdtemp(path.join(os.tmpdir(), "podtrain-store-")), "mlruns");
  const store = new FileTrackingStore(root);
  await store.checkAvailable();
  return { root, store };
}

describe("FileTrackingStore", () => {
  it("writes runs that the real MLflow client reads: status, params, tags, metric history, artifacts", async () => {
    const { root, store } = await newStore();
    const experimentId = await store.getOrCreateExperiment("store-test");
    expect(await store.getOrCreateExperiment("store-test")).toBe(experimentId);
    const run = await store.createRun({ experimentId, runName: "r1", startTime: 1_700_000_000_000, tags: { team: "ml-platform" } });
    await store.logBatch(run.runId, { params: { epochs: "2", optimizer: "adam" }, tags: { "data.version": "abc" } });
    for (const step of [0, 1, 2]) await store.logBatch(run.runId, { metrics: [{ key: "val_accuracy", value: 0.5 + step / 10, timestamp: 1_700_000_000_000 + step, step }] });
    const artifacts = path.join(path.dirname(root), "artifacts");
    await mkdir(path.join(artifacts, "nested"), { recursive: true });
    await writeFile(path.join(artifacts, "model.json"), "{}");
    await writeFile(path.join(artifacts, "nested", "weights.bin"), new Uint8Array([1, 2, 3]));
    await store.logArtifacts(run.runId, artifacts, "model");
    await store.updateRun(run.runId, { status: "FINISHED", endTime: 1_700_000_001_000 });

    const seen = await runPythonJson<{ status: string; name: string; params: Record<string, string>; history: number[][]; artifacts: string[]; tag: string; end: number }>(`
import json, mlflow
from mlflow import MlflowClient
client = MlflowClient("file://${root}")
run = client.get_run("${run.runId}")
history = [[m.step, m.value] for m in client.get_metric_history(run.info.run_id, "val_accuracy")]
artifacts = sorted(f.path for f in client.list_artifacts(run.info.run_id, "model")) + sorted(f.path for f in client.list_artifacts(run.info.run_id, "model/nested"))
print(json.dumps({"status": run.info.status, "name": run.info.run_name, "params": run.data.params, "history": history,
  "artifacts": artifacts, "tag": run.data.tags["data.version"], "end": run.info.end_time}))`);
    expect(seen).toEqual({
      status: "FINISHED",
      name: "r1",
      params: { epochs: "2", optimizer: "adam" },
      history: [[0, 0.5], [1, 0.6], [2, 0.7]],
      artifacts: ["model/model.json", "model/nested", "model/nested/weights.bin"],
      tag: "abc",
      end: 1_700_000_001_000,
    });
    expect(await store.findRunsByTag(experimentId, "data.version", "abc")).toHaveLength(1);
    expect((await store.getRun(run.runId)).metrics).toEqual({ val_accuracy: 0.7 });
  });

  it("refuses to change a logged param and bad keys", async () => {
    const { store } = await newStore();
    const run = await store.createRun({ experimentId: await store.getOrCreateExperiment("e"), runName: "r", startTime: 1, tags: {} });
    await store.logBatch(run.runId, { params: { epochs: "2" } });
    await store.logBatch(run.runId, { params: { epochs: "2" } });
    await expect(store.logBatch(run.runId, { params: { epochs: "3" } })).rejects.toThrow(/param "epochs" was already logged as "2".*params cannot change/);
    await expect(store.logBatch(run.runId, { tags: { "../escape": "x" } })).rejects.toThrow(/invalid tag name "..\/escape"/);
  });
});

describe("FileModelRegistry", () => {
  it("registers versions with tags and aliases that the real MLflow client reads", async () => {
    const { root, store } = await newStore();
    const run = await store.createRun({ experimentId: await store.getOrCreateExperiment("e"), runName: "r", startTime: 1, tags: {} });
    const first = await store.registry.createModelVersion({ name: "demo_model", source: `${run.artifactUri}/model`, runId: run.runId, tags: { "data.version": "abc" } });
    await store.registry.setAlias("demo_model", "candidate", first.version);
    const second = await store.registry.createModelVersion({ name: "demo_model", source: `${run.artifactUri}/model`, runId: run.runId, tags: {} });
    expect([first.version, second.version]).toEqual(["1", "2"]);
    const seen = await runPythonJson<{ version: string; tags: Record<string, string>; run: string }>(`
import json
from mlflow import MlflowClient
client = MlflowClient(tracking_uri="file://${root}", registry_uri="file://${root}")
version = client.get_model_version_by_alias("demo_model", "candidate")
print(json.dumps({"version": str(version.version), "tags": version.tags, "run": version.run_id}))`);
    expect(seen).toEqual({ version: "1", tags: { "data.version": "abc" }, run: run.runId });
    expect((await store.registry.getModelVersionByAlias("demo_model", "candidate"))?.aliases).toEqual(["candidate"]);
    expect(await store.registry.findModelVersionsByRun("demo_model", run.runId)).toHaveLength(2);
  });
});
