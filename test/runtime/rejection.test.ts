import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { promoteModelVersion } from "../../src/runtime/promote.js";
import { registerIfGatePasses } from "../../src/runtime/registration.js";
import { rejectModelVersion, type OnReject } from "../../src/runtime/reject.js";
import { loadSpecFile, specPathFor } from "../../src/config/load.js";
import { FileTrackingStore } from "../../src/tracking/file-store.js";
import { errorLines, runTrain } from "../support/cli.js";

const log = pino({ level: "silent" });

async function registeredCandidate() {
  const folder = path.join(await mkdtemp(path.join(os.tmpdir(), "podtrain-reject-")), "mlruns");
  const store = new FileTrackingStore(folder);
  await store.checkAvailable();
  const { spec } = await loadSpecFile(specPathFor("mnist_cnn"));
  const experimentId = await store.getOrCreateExperiment(spec.experiment);
  const newVersion = async (accuracy: number) => {
    const run = await store.createRun({ experimentId, runName: `acc-${accuracy}`, startTime: Date.now(), tags: {} });
    await store.logBatch(run.runId, { metrics: [{ key: "test_accuracy", value: accuracy, step: 0, timestamp: Date.now() }] });
    await store.updateRun(run.runId, { status: "FINISHED", endTime: Date.now() });
    const registered = await registerIfGatePasses({ store, spec: { ...spec, gate: { ...spec.gate, compare_to_champion: false } }, runId: run.runId, modelUri: `runs:/${run.runId}/model`, log });
    return registered.version as string;
  };
  const reject = (version: string, onReject: OnReject, extra: { environment?: NodeJS.ProcessEnv; reason?: string } = {}) =>
    rejectModelVersion({ store, model: "mnist_cnn", version, reason: extra.reason ?? "loss curve looks wrong", rejectedBy: "dana", candidateAlias: "candidate", championAlias: "champion", onReject, now: new Date(5000), ...(extra.environment ? { environment: extra.environment } : {}) });
  return { store, folder, newVersion, reject };
}

describe("rejectModelVersion", () => {
  it("tags the version with who, why, when and the Airflow task, and clears its candidate alias", async () => {
    const { store, newVersion, reject } = await registeredCandidate();
    const version = await newVersion(0.99);
    expect((await store.registry.getModelVersion("mnist_cnn", version)).aliases).toEqual(["candidate"]);
    const environment = { AIRFLOW_CTX_DAG_ID: "mnist_cnn_training", AIRFLOW_CTX_DAG_RUN_ID: "manual__2", AIRFLOW_CTX_TASK_ID: "reject", AIRFLOW_CTX_TRY_NUMBER: "1" };
    const record = await reject(version, "clear_candidate", { environment });
    expect(record).toEqual({ model: "mnist_cnn", version, rejected_by: "dana", reason: "loss curve looks wrong", at: "1970-01-01T00:00:05.000Z", candidate_cleared: true });
    const tagged = await store.registry.getModelVersion("mnist_cnn", version);
    expect(tagged.aliases).toEqual([]);
    expect(tagged.tags).toMatchObject({
      "podtrain.rejected_by": "dana",
      "podtrain.rejection_reason": "loss curve looks wrong",
      "podtrain.rejected_at": "1970-01-01T00:00:05.000Z",
      "podtrain.rejection.airflow": JSON.stringify({ dag_id: "mnist_cnn_training", run_id: "manual__2", task_id: "reject", try_number: "1" }),
    });
    expect(await store.registry.getModelVersionByAlias("mnist_cnn", "candidate")).toBeUndefined();
  });

  it("keeps the candidate alias when the spec says keep_candidate, and leaves a newer candidate's alias alone", async () => {
    const { store, newVersion, reject } = await registeredCandidate();
    const first = await newVersion(0.99);
    expect((await reject(first, "keep_candidate")).candidate_cleared).toBe(false);
    expect((await store.registry.getModelVersionByAlias("mnist_cnn", "candidate"))?.version).toBe(first);
    const second = await newVersion(0.991);
    const third = await newVersion(0.992);
    // The alias moved on to the third version: rejecting the second must not take it away.
    expect((await reject(second, "clear_candidate")).candidate_cleared).toBe(false);
    expect((await store.registry.getModelVersionByAlias("mnist_cnn", "candidate"))?.version).toBe(third);
  });

  it("is idempotent for a retried task and refuses the champion or an empty reason", async () => {
    const { store, newVersion, reject } = await registeredCandidate();
    const version = await newVersion(0.99);
    await reject(version, "clear_candidate");
    const again = await rejectModelVersion({ store, model: "mnist_cnn", version, reason: "second thoughts", rejectedBy: "eve", candidateAlias: "candidate", championAlias: "champion", onReject: "clear_candidate" });
    expect(again).toMatchObject({ unchanged: true, rejected_by: "dana", reason: "loss curve looks wrong" });
    expect((await store.registry.getModelVersion("mnist_cnn", version)).tags["podtrain.rejected_by"]).toBe("dana");

    const champion = await newVersion(0.995);
    await promoteModelVersion({ store, model: "mnist_cnn", version: champion, reason: "best so far", alias: "champion", approver: "alice" });
    await expect(reject(champion, "clear_candidate")).rejects.toThrow(/is the current champion: promote another version instead/);
    await expect(reject(await newVersion(0.996), "clear_candidate", { reason: " " })).rejects.toThrow(/a rejection needs a reason/);
    await expect(reject("42", "clear_candidate")).rejects.toThrow(/model version mnist_cnn 42 not found/);
  });
});

describe("promoting a rejected version", () => {
  it("is refused with who rejected it and why, unless the rejection is overridden on purpose, which the audit records", async () => {
    const { store, newVersion, reject } = await registeredCandidate();
    const version = await newVersion(0.99);
    await reject(version, "keep_candidate");
    await expect(promoteModelVersion({ store, model: "mnist_cnn", version, reason: "ship it", alias: "champion", approver: "alice" })).rejects.toThrow(
      `mnist_cnn version ${version} was rejected by dana at 1970-01-01T00:00:05.000Z ("loss curve looks wrong"): promote another version, or pass --override-rejection to promote it anyway (recorded)`,
    );
    expect(await store.registry.getModelVersionByAlias("mnist_cnn", "champion")).toBeUndefined();
    const record = await promoteModelVersion({ store, model: "mnist_cnn", version, reason: "the curve was a logging bug", alias: "champion", approver: "alice", overrideRejection: true });
    expect(record.overrode_rejection).toEqual({ rejected_by: "dana", reason: "loss curve looks wrong", at: "1970-01-01T00:00:05.000Z" });
    expect((await store.registry.getModelVersionByAlias("mnist_cnn", "champion"))?.version).toBe(version);
    expect(JSON.parse((await store.registry.getModelVersion("mnist_cnn", version)).tags["podtrain.promotion.latest"]!)).toMatchObject({ approved_by: "alice", overrode_rejection: { rejected_by: "dana" } });
  });
});

describe("train reject", () => {
  it("records the rejection from the command line, is idempotent, and refuses bad input with one error line and exit 64", { timeout: 60_000 }, async () => {
    const { store, folder: trackingUri, newVersion } = await registeredCandidate();
    const version = await newVersion(0.99);
    const first = await runTrain(["reject", "mnist_cnn", version, "--reason", "worse on the holdout", "--rejected-by", "dana", "--tracking-uri", trackingUri]);
    expect(first).toMatchObject({ exitCode: 0, stdout: `mnist_cnn version ${version} rejected by dana: worse on the holdout; candidate alias cleared\n` });
    expect((await store.registry.getModelVersion("mnist_cnn", version)).tags).toMatchObject({ "podtrain.rejected_by": "dana", "podtrain.rejection_reason": "worse on the holdout" });
    const again = await runTrain(["reject", "mnist_cnn", version, "--reason", "again", "--rejected-by", "eve", "--tracking-uri", trackingUri]);
    expect(again).toMatchObject({ exitCode: 0, stdout: `mnist_cnn version ${version} was already rejected by dana: nothing changed\n` });
    const bad = await runTrain(["reject", "mnist_cnn", version, "--reason", "why not", "--on-reject", "maybe", "--tracking-uri", trackingUri]);
    expect(bad.exitCode).toBe(64);
    expect(errorLines(bad.stderr)).toEqual(['train: error: --on-reject: expected one of keep_candidate, clear_candidate, got "maybe"']);
    const noReason = await runTrain(["reject", "mnist_cnn", version, "--reason", "", "--tracking-uri", trackingUri]);
    expect(noReason.exitCode).toBe(64);
    expect(errorLines(noReason.stderr)).toHaveLength(1);
  });
});
