import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSyntheticPowerFile } from "../../src/data/power/synthetic-file.js";
import { pino } from "pino";
import { EXIT_CODES } from "../../src/core/errors.js";
import { registerIfGatePasses } from "../../src/runtime/registration.js";
import { loadSpecFile, specPathFor } from "../../src/config/load.js";
import { LEASE_HEARTBEAT_TAG, LEASE_OWNER_TAG, RUN_KEY_TAG } from "../../src/tracking/tags.js";
import { FileTrackingStore } from "../../src/tracking/file-store.js";
import { RestTrackingStore } from "../../src/tracking/rest/rest-store.js";
import type { TrackingStore } from "../../src/tracking/store.js";
import { errorLines, runTrain, type CliResult } from "../support/cli.js";
import { startMlflowServer, type MlflowServer } from "../support/mlflow-server.js";
import { temporaryDirectory } from "../workflows/power/fixtures.js";

// Racing attempts of one Airflow task (a zombie pod and its retry) with one run key, on the real
// MLflow server and on the local store: exactly one run and at most one model version each time.

const ATTEMPTS = 3;
const REPETITIONS = 5;
const EXPERIMENT = "power-forecast";
const MODEL = "power_lgbm";

let directory: string;
let dataFile: string;
let server: MlflowServer;

beforeAll(async () => {
  directory = await temporaryDirectory("podtrain-once-");
  dataFile = path.join(directory, "household_power_consumption.txt");
  // 40 days keeps one attempt at about a second: the race, not the training, is under test.
  await writeSyntheticPowerFile(dataFile, { days: 40, seed: 3 });
  server = await startMlflowServer();
});

afterAll(async () => {
  await server?.stop();
});

function train(trackingUri: string, runKey: string, extra: string[] = [], env: Record<string, string> = {}): Promise<CliResult> {
  return runTrain(["power", "--data-file", dataFile, "--tracking-uri", trackingUri, "--run-key", runKey, "--test-weeks", "1", "--validation-weeks", "1", "--log-format", "json", ...extra], { cwd: directory, env });
}

async function countFor(store: TrackingStore, runKey: string): Promise<{ runs: number; versions: number }> {
  const experimentId = await store.getOrCreateExperiment(EXPERIMENT);
  const runs = await store.findRunsByTag(experimentId, RUN_KEY_TAG, runKey);
  let versions = 0;
  for (const run of runs) versions += (await store.registry.findModelVersionsByRun(MODEL, run.runId)).length;
  return { runs: runs.length, versions };
}

async function race(trackingUri: string, store: TrackingStore, label: string): Promise<Array<{ codes: number[]; runs: number; versions: number; duplicatesDeleted: number }>> {
  const outcomes = [];
  for (let repetition = 0; repetition < REPETITIONS; repetition++) {
    const runKey = `${label}-race-${repetition}`;
    const results = await Promise.all(Array.from({ length: ATTEMPTS }, () => train(trackingUri, runKey)));
    for (const result of results) {
      // A loser exits 75 with one line naming the owner; nobody fails any other way.
      if (result.exitCode !== 0) {
        expect(result.exitCode, result.stderr).toBe(EXIT_CODES.TEMPORARY);
        expect(errorLines(result.stderr)).toHaveLength(1);
        expect(errorLines(result.stderr)[0]).toMatch(/^train: error: run [0-9a-f]{32} .*(is owned by attempt|was taken over by attempt) [0-9a-f]{8} pid=\d+ host=/);
      }
    }
    // How often the race was lost after creating a run (create-then-reconcile deleted a duplicate).
    const duplicatesDeleted = results.filter((result) => /duplicate run [0-9a-f]{32} was deleted/.test(result.stderr)).length;
    outcomes.push({ codes: results.map((result) => result.exitCode), ...(await countFor(store, runKey)), duplicatesDeleted });
  }
  return outcomes;
}

describe("exactly one run and one model version per run key under racing attempts", () => {
  it(`on the real MLflow server: ${ATTEMPTS} concurrent attempts × ${REPETITIONS}`, async () => {
    const outcomes = await race(server.uri, new RestTrackingStore(server.uri), "rest");
    console.log(`rest race outcomes: ${JSON.stringify(outcomes)}`);
    for (const outcome of outcomes) {
      expect(outcome.runs).toBe(1);
      expect(outcome.versions).toBeLessThanOrEqual(1);
      expect(outcome.codes).toContain(0);
    }
  }, 600_000);

  it(`on the local store: ${ATTEMPTS} concurrent attempts × ${REPETITIONS}`, async () => {
    const root = path.join(directory, "mlruns");
    const outcomes = await race(root, new FileTrackingStore(root), "local");
    // The first attempts also raced to create the experiment: one folder for the name.
    const names = await Promise.all((await readdir(root)).map((entry) => readFile(path.join(root, entry, "meta.yaml"), "utf8").then((text) => /^name: (.*)$/m.exec(text)?.[1], () => undefined)));
    expect(names.filter((name) => name === EXPERIMENT)).toHaveLength(1);
    console.log(`local race outcomes: ${JSON.stringify(outcomes)}`);
    for (const outcome of outcomes) {
      expect(outcome.runs).toBe(1);
      expect(outcome.versions).toBeLessThanOrEqual(1);
      expect(outcome.codes).toContain(0);
    }
  }, 600_000);

  for (const kind of ["rest", "local"] as const) {
    it(`two registrations of one run at once leave one version (${kind} store)`, async () => {
      const store: TrackingStore = kind === "rest" ? new RestTrackingStore(server.uri) : new FileTrackingStore(path.join(directory, "mlruns-register"));
      await store.checkAvailable();
      const loaded = await loadSpecFile(specPathFor("power_lgbm"));
      const experimentId = await store.getOrCreateExperiment(loaded.spec.experiment);
      const log = pino({ level: "silent" });
      for (let repetition = 0; repetition < REPETITIONS; repetition++) {
        const run = await store.createRun({ experimentId, runName: `register-race-${repetition}`, startTime: Date.now(), tags: {} });
        await store.logBatch(run.runId, { metrics: [{ key: loaded.spec.gate.metric, value: 0.5, step: 0, timestamp: Date.now() }] });
        const register = () => registerIfGatePasses({ store, spec: loaded.spec, runId: run.runId, modelUri: `${run.artifactUri}/model`, log });
        const results = await Promise.all(Array.from({ length: ATTEMPTS }, register));
        const versions = await store.registry.findModelVersionsByRun(MODEL, run.runId);
        expect(versions).toHaveLength(1);
        expect(new Set(results.map((result) => result.version))).toEqual(new Set([versions[0]!.version]));
      }
    }, 120_000);
  }

  for (const kind of ["local", "rest"] as const) {
    it(`a retry refuses a run whose owner is alive (exit 75) and takes over one whose lease expired (${kind} store)`, async () => {
      const root = kind === "rest" ? server.uri : path.join(directory, "mlruns-lease");
      const store: TrackingStore = kind === "rest" ? new RestTrackingStore(server.uri) : new FileTrackingStore(root);
      await store.checkAvailable();
      const experimentId = await store.getOrCreateExperiment(EXPERIMENT);
      // What a zombie pod leaves: a RUNNING run with its lease, and a stale error and try number.
      const zombie = await store.createRun({
        experimentId,
        runName: "zombie",
        startTime: Date.now(),
        tags: { [RUN_KEY_TAG]: "lease-key", [LEASE_OWNER_TAG]: "0badc0de pid=1 host=other-pod try=1", [LEASE_HEARTBEAT_TAG]: String(Date.now()), "podtrain.error": "old failure", "airflow.try_number": "1" },
      });
      const alive = await train(root, "lease-key", [], { PODTRAIN_LEASE_SECONDS: "30" });
      expect(alive.exitCode, alive.stderr).toBe(EXIT_CODES.TEMPORARY);
      expect(errorLines(alive.stderr)).toEqual([expect.stringMatching(new RegExp(`^train: error: run ${zombie.runId} is owned by attempt 0badc0de pid=1 host=other-pod try=1, alive \\d+ s ago \\(lease 30 s\\)`))]);
      expect((await store.getRun(zombie.runId)).info.status).toBe("RUNNING");

      // The owner died: its heartbeat is older than the lease, so the retry continues the run.
      await store.logBatch(zombie.runId, { tags: { [LEASE_HEARTBEAT_TAG]: String(Date.now() - 5_000) } });
      const retry = await train(root, "lease-key", [], { PODTRAIN_LEASE_SECONDS: "2", AIRFLOW_CTX_DAG_ID: "power", AIRFLOW_CTX_DAG_RUN_ID: "manual", AIRFLOW_CTX_TASK_ID: "fit", AIRFLOW_CTX_TRY_NUMBER: "2" });
      expect(retry.exitCode, retry.stderr).toBe(0);
      expect(JSON.parse(retry.stdout)).toMatchObject({ run_id: zombie.runId, stage: "all", reused: true });
      const after = await store.getRun(zombie.runId);
      expect(after.info.status).toBe("FINISHED");
      // The continued run carries this try's ids and no stale error.
      expect(after.tags["podtrain.error"]).toBeUndefined();
      expect(after.tags["airflow.try_number"]).toBe("2");
      expect(after.tags[LEASE_OWNER_TAG]).toMatch(/^[0-9a-f]{8} pid=\d+ host=\S+ try=2$/);
      expect(await countFor(store, "lease-key")).toEqual({ runs: 1, versions: 1 });
    }, 120_000);
  }

  it("the winner deletes a duplicate that a dead loser could not delete (server)", async () => {
    const store = new RestTrackingStore(server.uri);
    const experimentId = await store.getOrCreateExperiment(EXPERIMENT);
    const stale = String(Date.now() - 60_000);
    const dead = (name: string, startTime: number) =>
      store.createRun({ experimentId, runName: name, startTime, tags: { [RUN_KEY_TAG]: "dead-duplicate", [LEASE_OWNER_TAG]: `${name} pid=1 host=gone`, [LEASE_HEARTBEAT_TAG]: stale } });
    const canonical = await dead("0000aaaa", Date.now() - 2_000);
    await dead("0000bbbb", Date.now() - 1_000);
    const retry = await train(server.uri, "dead-duplicate", [], { PODTRAIN_LEASE_SECONDS: "5" });
    expect(retry.exitCode, retry.stderr).toBe(0);
    expect(JSON.parse(retry.stdout)).toMatchObject({ run_id: canonical.runId, stage: "all", reused: true });
    expect(retry.stderr).toContain("deleted a duplicate run of this run key left by a dead attempt");
    expect((await store.findRunsByTag(experimentId, RUN_KEY_TAG, "dead-duplicate")).map((run) => run.runId)).toEqual([canonical.runId]);
  }, 120_000);

  it("continuing a run with other hyper-parameters is refused instead of re-registering the old model", async () => {
    const root = path.join(directory, "mlruns-params");
    expect((await train(root, "params-key")).exitCode).toBe(0);
    const changed = await train(root, "params-key", ["--num-leaves", "15"]);
    expect(changed.exitCode).toBe(EXIT_CODES.USAGE);
    expect(errorLines(changed.stderr)).toEqual([expect.stringMatching(/^train: error: run [0-9a-f]{32} was trained with other parameters than this attempt asks for: num_leaves=15 \(run has 31\)/)]);
  }, 120_000);
});
