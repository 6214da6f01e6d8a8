import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../../src/core/errors.js";
import { RestTrackingStore } from "../../src/tracking/rest/rest-store.js";
import type { Metric } from "../../src/tracking/store.js";
import { startMlflowServer, type MlflowServer } from "../support/mlflow-server.js";
import { runPythonJson } from "../support/python.js";

// The REST store against the real MLflow 3 server; what it wrote is read back with Python MLflow.

let server: MlflowServer;
let store: RestTrackingStore;
let scratch: string;

beforeAll(async () => {
  server = await startMlflowServer();
  console.info(`mlflow server started in ${server.startSeconds.toFixed(1)} s`);
  store = new RestTrackingStore(server.uri, { environment: {} });
  scratch = await mkdtemp(path.join(os.tmpdir(), "podtrain-rest-"));
});

afterAll(async () => {
  await server?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function newRun(experimentName = "rest-store", tags: Record<string, string> = {}) {
  const experimentId = await store.getOrCreateExperiment(experimentName);
  return store.createRun({ experimentId, runName: "trial", startTime: Date.now(), tags });
}

describe("checkAvailable", () => {
  it("passes against a running server", async () => {
    await expect(store.checkAvailable()).resolves.toBeUndefined();
  });
});

describe("getOrCreateExperiment", () => {
  it("creates once and then finds the same experiment", async () => {
    const first = await store.getOrCreateExperiment("mnist-cnn");
    expect(await store.getOrCreateExperiment("mnist-cnn")).toBe(first);
    expect(first).not.toBe("0");
  });
});

describe("createRun / getRun / updateRun", () => {
  it("round-trips run info, tags and status", async () => {
    const run = await newRun("rest-store", { "podtrain.workflow": "mnist" });
    expect(run.status).toBe("RUNNING");
    expect(run.artifactUri).toMatch(/^mlflow-artifacts:/);
    await store.updateRun(run.runId, { status: "FINISHED", endTime: run.startTime + 5, runName: "renamed" });
    const data = await store.getRun(run.runId);
    expect(data.info).toMatchObject({ runId: run.runId, status: "FINISHED", endTime: run.startTime + 5, runName: "renamed" });
    expect(data.tags["podtrain.workflow"]).toBe("mnist");
  });

  it("names the server's refusal for an unknown run", async () => {
    await expect(store.getRun("0".repeat(32))).rejects.toThrow(/getRun .*HTTP 404 RESOURCE_DOES_NOT_EXIST/);
  });
});

describe("findRunsByTag", () => {
  it("finds runs by tag value, newest first, including values with quotes", async () => {
    const older = await newRun("search", { "airflow.run_id": "manual__2026-01-01" });
    const newer = await newRun("search", { "airflow.run_id": "manual__2026-01-01" });
    await newRun("search", { "airflow.run_id": "other" });
    const quoted = await newRun("search", { note: "it's quoted" });
    const found = await store.findRunsByTag(older.experimentId, "airflow.run_id", "manual__2026-01-01");
    expect(found.map((run) => run.runId)).toEqual([newer.runId, older.runId]);
    expect((await store.findRunsByTag(older.experimentId, "note", "it's quoted")).map((run) => run.runId)).toEqual([quoted.runId]);
  });
});

describe("logBatch", () => {
  it("splits 2500 metrics and 150 params across requests and all of them arrive", async () => {
    const run = await newRun();
    const metrics: Metric[] = [];
    for (let step = 0; step < 1250; step++) {
      metrics.push({ key: "loss", value: 1 / (step + 1), timestamp: 1_700_000_000_000 + step, step });
      metrics.push({ key: "accuracy", value: step / 1250, timestamp: 1_700_000_000_000 + step, step });
    }
    const params = Object.fromEntries(Array.from({ length: 150 }, (_, index) => [`param_${index}`, `value ${index}`]));
    await store.logBatch(run.runId, { metrics, params, tags: { stage: "train" } });
    const readBack = await runPythonJson<{ params: number; loss: Array<[number, number]>; accuracy: number; tag: string }>(`
import json, mlflow
client = mlflow.MlflowClient("${server.uri}")
run = client.get_run("${run.runId}")
loss = sorted((m.step, m.value) for m in client.get_metric_history("${run.runId}", "loss"))
print(json.dumps({"params": len(run.data.params), "loss": loss, "accuracy": len(client.get_metric_history("${run.runId}", "accuracy")), "tag": run.data.tags["stage"]}))`);
    expect(readBack.params).toBe(150);
    expect(readBack.accuracy).toBe(1250);
    expect(readBack.loss).toHaveLength(1250);
    expect(readBack.loss[999]).toEqual([999, 1 / 1000]);
    expect(readBack.tag).toBe("train");
    expect((await store.getRun(run.runId)).metrics.loss).toBe(1 / 1250);
  });

  it("re-logging the same params (a retried task) is accepted", async () => {
    const run = await newRun();
    await store.logBatch(run.runId, { params: { lr: "0.01" } });
    await expect(store.logBatch(run.runId, { params: { lr: "0.01" } })).resolves.toBeUndefined();
  });

  it("rejects an over-long param value before sending anything", async () => {
    const run = await newRun();
    const error = await store.logBatch(run.runId, { params: { ok: "1", notes: "x".repeat(6001) } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/param "notes" value is 6001 characters; MLflow accepts at most 6000/);
    expect((await store.getRun(run.runId)).params).toEqual({});
  });

  it("rejects an over-long key and an over-long tag value", async () => {
    const run = await newRun();
    await expect(store.logBatch(run.runId, { metrics: [{ key: "k".repeat(251), value: 1, timestamp: 1, step: 0 }] })).rejects.toThrow(/metric key .* is 251 characters; MLflow accepts at most 250/);
    await expect(store.logBatch(run.runId, { tags: { long: "v".repeat(8001) } })).rejects.toThrow(/tag "long" value is 8001 characters/);
  });
});

describe("logArtifacts / listArtifacts / downloadArtifact", () => {
  it("uploads a folder with a nested folder and a file over 5 MB, lists and downloads them", async () => {
    const run = await newRun();
    const local = path.join(scratch, "model");
    await mkdir(path.join(local, "weights", "shards"), { recursive: true });
    const big = randomBytes(5 * 1024 * 1024 + 12_345);
    await writeFile(path.join(local, "model.json"), '{"format":"layers-model"}');
    await writeFile(path.join(local, "weights", "shards", "group1-shard1of1.bin"), big);
    await store.logArtifacts(run.runId, local, "model");
    expect(await store.listArtifacts(run.runId)).toEqual(["model/model.json", "model/weights/shards/group1-shard1of1.bin"]);
    expect(await store.listArtifacts(run.runId, "model/weights")).toEqual(["model/weights/shards/group1-shard1of1.bin"]);
    const downloaded = path.join(scratch, "download.bin");
    await store.downloadArtifact(run.runId, "model/weights/shards/group1-shard1of1.bin", downloaded);
    expect((await readFile(downloaded)).equals(big)).toBe(true);
    const pythonList = await runPythonJson<string[]>(`
import json, mlflow
client = mlflow.MlflowClient("${server.uri}")
print(json.dumps(sorted(f.path for f in client.list_artifacts("${run.runId}", "model"))))`);
    expect(pythonList).toEqual(["model/model.json", "model/weights"]);
  });
});

describe("registry", () => {
  it("creates versions with tags, sets a tag and an alias, and finds versions by run", async () => {
    const run = await newRun();
    const registry = store.registry;
    const first = await registry.createModelVersion({ name: "mnist_cnn", source: `runs:/${run.runId}/model`, runId: run.runId, tags: { "podtrain.accuracy": "0.99" } });
    expect(first).toMatchObject({ name: "mnist_cnn", version: "1", runId: run.runId, tags: { "podtrain.accuracy": "0.99" } });
    const second = await registry.createModelVersion({ name: "mnist_cnn", source: `runs:/${run.runId}/model`, runId: run.runId, tags: {} });
    expect(second.version).toBe("2");
    await registry.setModelVersionTag("mnist_cnn", "2", "approved_by", "alice");
    await registry.setAlias("mnist_cnn", "champion", "2");
    const champion = await registry.getModelVersionByAlias("mnist_cnn", "champion");
    expect(champion).toMatchObject({ version: "2", aliases: ["champion"], tags: { approved_by: "alice" } });
    expect(await registry.getModelVersionByAlias("mnist_cnn", "nobody")).toBeUndefined();
    expect((await registry.findModelVersionsByRun("mnist_cnn", run.runId)).map((version) => version.version)).toEqual(["1", "2"]);
    await expect(registry.getModelVersion("mnist_cnn", "99")).rejects.toThrow(/HTTP 404 RESOURCE_DOES_NOT_EXIST/);
    const python = await runPythonJson<{ alias: string; tags: Record<string, string> }>(`
import json, mlflow
client = mlflow.MlflowClient("${server.uri}")
version = client.get_model_version_by_alias("mnist_cnn", "champion")
print(json.dumps({"alias": version.version, "tags": version.tags}))`);
    expect(python).toEqual({ alias: "2", tags: { approved_by: "alice" } });
  });
});

describe("loggedModels", () => {
  it("creates a pending logged model of the run, uploads its files, finalizes it and registers it", async () => {
    const run = await newRun();
    const model = await store.loggedModels.create({ experimentId: run.experimentId, name: "model", sourceRunId: run.runId, modelType: "tfjs-layers", tags: { framework: "tfjs" } });
    expect(model).toMatchObject({ name: "model", sourceRunId: run.runId, status: "LOGGED_MODEL_PENDING", tags: { framework: "tfjs" } });
    const local = path.join(scratch, "logged-model");
    await mkdir(local, { recursive: true });
    await writeFile(path.join(local, "MLmodel"), "flavors: {}\n");
    await store.loggedModels.logArtifacts(model, local);
    expect(await store.loggedModels.listArtifacts(model)).toEqual(["MLmodel"]);
    expect((await store.loggedModels.finalize(model.modelId, "READY")).status).toBe("LOGGED_MODEL_READY");
    const version = await store.registry.createModelVersion({ name: "logged_model_test", source: `models:/${model.modelId}`, runId: run.runId, tags: {}, modelId: model.modelId });
    const python = await runPythonJson<{ models: string[]; source: string }>(`
import json, mlflow
client = mlflow.MlflowClient("${server.uri}")
models = client.search_logged_models(experiment_ids=["${run.experimentId}"], filter_string="source_run_id = '${run.runId}'")
print(json.dumps({"models": [m.model_id for m in models], "source": client.get_model_version("logged_model_test", "${version.version}").source}))`);
    expect(python).toEqual({ models: [model.modelId], source: `models:/${model.modelId}` });
  });
});
