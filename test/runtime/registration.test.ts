import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { promoteModelVersion } from "../../src/runtime/promote.js";
import { registerIfGatePasses } from "../../src/runtime/registration.js";
import { loadSpecFile, specPathFor } from "../../src/config/load.js";
import { FileTrackingStore } from "../../src/tracking/file-store.js";

const log = pino({ level: "silent" });

async function setup() {
  const store = new FileTrackingStore(path.join(await mkdtemp(path.join(os.tmpdir(), "podtrain-registry-")), "mlruns"));
  await store.checkAvailable();
  const { spec } = await loadSpecFile(specPathFor("mnist_cnn"));
  const experimentId = await store.getOrCreateExperiment(spec.experiment);
  const newRun = async (accuracy: number) => {
    const run = await store.createRun({ experimentId, runName: `acc-${accuracy}`, startTime: Date.now(), tags: { "data.version": `data-${accuracy}`, "mlflow.source.git.commit": "abc123", "airflow.dag_id": "mnist_cnn_training" } });
    await store.logBatch(run.runId, { metrics: [{ key: "test_accuracy", value: accuracy, step: 0, timestamp: Date.now() }] });
    await store.updateRun(run.runId, { status: "FINISHED", endTime: Date.now() });
    return run;
  };
  const register = (runId: string) => registerIfGatePasses({ store, spec, runId, modelUri: `runs:/${runId}/model`, log });
  return { store, spec, newRun, register };
}

describe("registerIfGatePasses", () => {
  it("registers a passing run once, with lineage tags and the candidate alias, never champion", async () => {
    const { store, newRun, register } = await setup();
    const run = await newRun(0.99);
    const first = await register(run.runId);
    expect(first).toMatchObject({ version: "1", gate: { passed: true } });
    const version = await store.registry.getModelVersion("mnist_cnn", "1");
    expect(version.aliases).toEqual(["candidate"]);
    expect(version.tags).toMatchObject({ "data.version": "data-0.99", "mlflow.source.git.commit": "abc123", "airflow.dag_id": "mnist_cnn_training", "podtrain.gate.metric": "test_accuracy", "podtrain.gate.value": "0.99" });
    // A retried register task finds the version it made instead of creating another.
    expect((await register(run.runId)).version).toBe("1");
    expect(await store.registry.findModelVersionsByRun("mnist_cnn", run.runId)).toHaveLength(1);
    expect(await store.registry.getModelVersionByAlias("mnist_cnn", "champion")).toBeUndefined();
  });

  it("registers nothing below the threshold and records why on the run", async () => {
    const { store, newRun, register } = await setup();
    const run = await newRun(0.9);
    expect(await register(run.runId)).toMatchObject({ gate: { passed: false } });
    expect((await store.getRun(run.runId)).tags["podtrain.gate.reason"]).toBe("test_accuracy=0.9 does not reach the threshold (>= 0.985)");
    expect(await store.registry.findModelVersionsByRun("mnist_cnn", run.runId)).toEqual([]);
  });

  it("compares with the champion once one is promoted", async () => {
    const { store, newRun, register } = await setup();
    await register((await newRun(0.99)).runId);
    await promoteModelVersion({ store, model: "mnist_cnn", version: "1", reason: "first model", alias: "champion", approver: "alice" });
    const worse = await newRun(0.988);
    expect((await register(worse.runId)).gate.reason).toBe("test_accuracy=0.988 does not beat the champion (0.99)");
    expect((await register((await newRun(0.995)).runId)).version).toBe("2");
  });
});

describe("promoteModelVersion", () => {
  it("moves the alias explicitly and leaves an audit trail on both versions", async () => {
    const { store, newRun, register } = await setup();
    await register((await newRun(0.99)).runId);
    await register((await newRun(0.995)).runId);
    await promoteModelVersion({ store, model: "mnist_cnn", version: "1", reason: "baseline", alias: "champion", approver: "alice", now: new Date(1000) });
    const record = await promoteModelVersion({ store, model: "mnist_cnn", version: "2", reason: "better on test", alias: "champion", approver: "bob", now: new Date(2000) });
    expect(record).toEqual({ model: "mnist_cnn", version: "2", alias: "champion", previous_version: "1", approved_by: "bob", reason: "better on test", at: "1970-01-01T00:00:02.000Z" });
    expect(JSON.parse((await store.registry.getModelVersion("mnist_cnn", "1")).tags["podtrain.superseded_by"] ?? "{}")).toEqual({ version: "2", alias: "champion", at: "1970-01-01T00:00:02.000Z", approved_by: "bob" });
    expect((await store.registry.getModelVersionByAlias("mnist_cnn", "champion"))?.version).toBe("2");
    const replaced = await store.registry.getModelVersion("mnist_cnn", "1");
    expect(JSON.parse(replaced.tags["podtrain.promotion.2000"] ?? "{}")).toMatchObject({ replaced_by: "2", approved_by: "bob" });
    expect(JSON.parse(replaced.tags["podtrain.promotion.1000"] ?? "{}")).toMatchObject({ approved_by: "alice", reason: "baseline" });
  });

  it("records the Airflow task that promoted in the audit trail", async () => {
    const { store, newRun, register } = await setup();
    await register((await newRun(0.99)).runId);
    const environment = { AIRFLOW_CTX_DAG_ID: "mnist_cnn_training", AIRFLOW_CTX_DAG_RUN_ID: "manual__1", AIRFLOW_CTX_TASK_ID: "promote", AIRFLOW_CTX_TRY_NUMBER: "1" };
    await promoteModelVersion({ store, model: "mnist_cnn", version: "1", reason: "approved in the DAG", alias: "champion", approver: "carol", environment });
    expect(JSON.parse((await store.registry.getModelVersion("mnist_cnn", "1")).tags["podtrain.promotion.latest"] ?? "{}")).toMatchObject({
      approved_by: "carol",
      reason: "approved in the DAG",
      airflow: { dag_id: "mnist_cnn_training", run_id: "manual__1", task_id: "promote", try_number: "1" },
    });
  });

  it("refuses a version whose run is not FINISHED or whose gate did not pass", async () => {
    const { store, newRun, register } = await setup();
    const run = await newRun(0.99);
    await register(run.runId);
    await store.updateRun(run.runId, { status: "KILLED" });
    await expect(promoteModelVersion({ store, model: "mnist_cnn", version: "1", reason: "ship it", alias: "champion" })).rejects.toThrow(/which is KILLED, not FINISHED/);
    await store.updateRun(run.runId, { status: "FINISHED" });
    await store.logBatch(run.runId, { tags: { "podtrain.gate.passed": "false", "podtrain.gate.reason": "test_accuracy=0.9 does not reach the threshold" } });
    await expect(promoteModelVersion({ store, model: "mnist_cnn", version: "1", reason: "ship it", alias: "champion" })).rejects.toThrow(/did not pass its registration gate \(test_accuracy=0\.9/);
    expect(await store.registry.getModelVersionByAlias("mnist_cnn", "champion")).toBeUndefined();
  });

  it("refuses a promotion without a reason or of a missing version, and leaves a no-op unchanged", async () => {
    const { store, newRun, register } = await setup();
    await register((await newRun(0.99)).runId);
    await expect(promoteModelVersion({ store, model: "mnist_cnn", version: "1", reason: " ", alias: "champion" })).rejects.toThrow(/promotion needs a reason/);
    await expect(promoteModelVersion({ store, model: "mnist_cnn", version: "9", reason: "why not", alias: "champion" })).rejects.toThrow(/model version mnist_cnn 9 not found/);
    await promoteModelVersion({ store, model: "mnist_cnn", version: "1", reason: "first", alias: "champion" });
    // A retried promote task: nothing changes, no second audit entry.
    const tagsBefore = (await store.registry.getModelVersion("mnist_cnn", "1")).tags;
    expect(await promoteModelVersion({ store, model: "mnist_cnn", version: "1", reason: "again", alias: "champion" })).toMatchObject({ unchanged: true, previous_version: null });
    expect((await store.registry.getModelVersion("mnist_cnn", "1")).tags).toEqual(tagsBefore);
  });
});
