import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/core/errors.js";
import { FileTrackingStore } from "../../src/tracking/file-store.js";
import { writeFixture } from "../workflows/cifar10/fixtures.js";
import { errorLines } from "../support/cli.js";
import { REPOSITORY_ROOT } from "../support/python.js";
import { logLines, runTrainWithSignals, type SignalledRun } from "../support/signals.js";

// Preemption as Kubernetes does it, on the real CLI in separate processes: SIGTERM in the middle
// of an epoch (then SIGKILL if the pod outlives its grace period), kill -9, a retry that continues
// the same run from its newest checkpoint. Data stays tiny (a few hundred images) so each run
// takes seconds; several steps per epoch so the signals land inside one.

/** Seconds from SIGTERM to exit allowed here: far below Kubernetes' default 30 s grace period. */
const EXIT_BOUND_MS = 10_000;

let directory: string;
let lowGateSpec: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), "podtrain-preempt-"));
  // A gate a few hundred images can pass, so "one registered version" is checked for real.
  lowGateSpec = path.join(directory, "mnist_cnn.yaml");
  await writeFile(lowGateSpec, (await readFile(path.join(REPOSITORY_ROOT, "models/mnist_cnn.yaml"), "utf8")).replace("threshold: 0.985", "threshold: 0.5"));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

interface SeenRun {
  runId: string;
  status: string;
  tags: Record<string, string>;
  params: Record<string, string>;
  /** step → value, per metric, in logged order. */
  history: (key: string) => Promise<Array<[number, number]>>;
  runDirectory: string;
}

async function runsIn(store: string): Promise<SeenRun[]> {
  const tracking = new FileTrackingStore(store);
  const runs: SeenRun[] = [];
  for (const experiment of await readdir(store).catch(() => [] as string[])) {
    if (experiment === "models" || experiment === "0" || experiment.startsWith(".")) continue;
    for (const runId of await readdir(path.join(store, experiment)).catch(() => [] as string[])) {
      if (!/^[0-9a-f]{32}$/.test(runId)) continue;
      const run = await tracking.getRun(runId);
      const runDirectory = path.join(store, experiment, runId);
      runs.push({
        runId,
        status: run.info.status,
        tags: run.tags,
        params: run.params,
        runDirectory,
        history: async (key) =>
          (await readFile(path.join(runDirectory, "metrics", key), "utf8").catch(() => ""))
            .split("\n")
            .filter(Boolean)
            .map((line) => line.split(" "))
            .map(([, value, step]) => [Number(step), Number(value)] as [number, number]),
      });
    }
  }
  return runs;
}

async function versionsIn(store: string): Promise<string[]> {
  return (await readdir(path.join(store, "models", "mnist_cnn")).catch(() => [] as string[])).filter((entry) => entry.startsWith("version-"));
}

async function finalWeights(run: SeenRun): Promise<Float32Array> {
  const bytes = await readFile(path.join(run.runDirectory, "artifacts", "model", "weights.bin"));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

function largestDifference(left: Float32Array, right: Float32Array): number {
  expect(left.length).toBe(right.length);
  let largest = 0;
  for (let index = 0; index < left.length; index += 1) largest = Math.max(largest, Math.abs(left[index]! - right[index]!));
  return largest;
}

/**
 * The JSON progress line after step 11 of 34 in epoch 2: the signal lands inside epoch 2 however
 * fast or slow the machine is (it is handled within one step).
 */
const MNIST_MID_EPOCH_2 = /"msg":"epoch 2\/3 11\/34"/;
const checkpointLines = (result: SignalledRun) => logLines(result.stderr).filter((line) => line.msg === "wrote checkpoint");
const TRAINING_METRICS = ["train_loss", "train_accuracy", "val_loss", "val_accuracy"];

async function expectSameHistory(resumed: SeenRun, uninterrupted: SeenRun, epochs: number): Promise<void> {
  for (const key of TRAINING_METRICS) {
    const [got, want] = [await resumed.history(key), await uninterrupted.history(key)];
    expect(got.map(([step]) => step), key).toEqual(Array.from({ length: epochs }, (_, epoch) => epoch));
    got.forEach(([, value], index) => expect(Math.abs(value - want[index]![1]), `${key} step ${index}`).toBeLessThan(1e-5));
  }
}

describe("train mnist: preemption and resume", () => {
  const mnist = (store: string, ...extra: string[]) => [
    "mnist", "--spec", lowGateSpec, "--train-limit", "1200", "--test-limit", "200", "--batch-size", "32", "--epochs", "3",
    "--tracking-uri", store, "--log-format", "json", ...extra,
  ];
  let uninterrupted: SeenRun;

  beforeAll(async () => {
    const store = path.join(directory, "mnist-uninterrupted");
    const result = await runTrainWithSignals(mnist(store, "--run-key", "reference"));
    expect(result.exitCode, result.stderr).toBe(0);
    uninterrupted = (await runsIn(store))[0]!;
  }, 120_000);

  it("SIGTERM mid-epoch: exits 143 within the bound, run KILLED with a checkpoint; the retry resumes it to the uninterrupted weights and registers once", async () => {
    const store = path.join(directory, "mnist-sigterm");
    const stopped = await runTrainWithSignals(mnist(store, "--run-key", "dag/run-1"), { after: MNIST_MID_EPOCH_2, signals: ["SIGTERM"] });
    expect(stopped.exitCode).toBe(EXIT_CODES.TERMINATED);
    expect(stopped.msToExit!).toBeLessThan(EXIT_BOUND_MS);
    console.info(`mnist: SIGTERM → exit in ${Math.round(stopped.msToExit!)} ms`);
    expect(errorLines(stopped.stderr)).toEqual(["train: error: interrupted by SIGTERM"]);
    const [killed] = await runsIn(store);
    expect(killed!.status).toBe("KILLED");
    expect(killed!.tags["podtrain.error"]).toBe("interrupted by SIGTERM");
    const last = checkpointLines(stopped).at(-1)!;
    expect(last.epoch).toBe(1);
    expect(last.batch as number).toBeGreaterThan(0);
    expect(await readdir(path.join(killed!.runDirectory, "artifacts", "checkpoints"))).toContain(last.checkpoint);
    expect(await versionsIn(store)).toEqual([]);

    const resumed = await runTrainWithSignals(mnist(store, "--run-key", "dag/run-1"));
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ reused: true });
    expect(logLines(resumed.stderr).find((line) => line.msg === "resuming from checkpoint")).toMatchObject({ epoch: 1, batch: last.batch, step: last.step });
    // Epochs 2 and 3 only: epoch 1 is not trained or logged again.
    expect(logLines(resumed.stderr).filter((line) => String(line.msg).endsWith("/3 done")).map((line) => line.epoch)).toEqual([2, 3]);
    const runs = await runsIn(store);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.status).toBe("FINISHED");
    expect(JSON.parse(runs[0]!.tags["podtrain.resumed_from"]!)).toMatchObject({ epoch: 1, batch: last.batch, step: last.step, checkpoint: `checkpoints/${String(last.checkpoint)}` });
    await expectSameHistory(runs[0]!, uninterrupted, 3);
    const difference = largestDifference(await finalWeights(runs[0]!), await finalWeights(uninterrupted));
    console.info(`mnist: largest weight difference resumed vs uninterrupted: ${difference}`);
    expect(difference).toBeLessThanOrEqual(1e-6);
    expect(await versionsIn(store)).toEqual(["version-1"]);
    // The fitted model is logged: its checkpoints are no longer needed.
    expect(existsSync(path.join(runs[0]!.runDirectory, "artifacts", "checkpoints"))).toBe(false);
  }, 180_000);

  it("kill -9 mid-epoch: the retry takes over the RUNNING run and resumes from the last complete checkpoint", async () => {
    const store = path.join(directory, "mnist-kill9");
    const killedRun = await runTrainWithSignals(mnist(store, "--run-key", "dag/run-9"), { after: MNIST_MID_EPOCH_2, signals: ["SIGKILL"] });
    expect(killedRun.exitSignal).toBe("SIGKILL");
    expect((await runsIn(store)).map((run) => run.status)).toEqual(["RUNNING"]);
    // The killed attempt's lease must expire before a retry may take its run over (Airflow's
    // retry delay does that in production; here the lease is 1 s).
    await sleep(1_500);
    const resumed = await runTrainWithSignals(mnist(store, "--run-key", "dag/run-9"), undefined, { PODTRAIN_LEASE_SECONDS: "1" });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(logLines(resumed.stderr).find((line) => line.msg === "resuming from checkpoint")).toMatchObject({ epoch: 1, batch: 0 });
    const runs = await runsIn(store);
    expect(runs.map((run) => run.status)).toEqual(["FINISHED"]);
    await expectSameHistory(runs[0]!, uninterrupted, 3);
    expect(largestDifference(await finalWeights(runs[0]!), await finalWeights(uninterrupted))).toBeLessThanOrEqual(1e-6);
  }, 180_000);

  it("a corrupted newest checkpoint is skipped for the older one, a truncated last one for a clean restart (--checkpoint-dir)", async () => {
    const store = path.join(directory, "mnist-corrupt");
    const checkpoints = path.join(directory, "mnist-corrupt-volume");
    const args = mnist(store, "--run-key", "dag/run-c", "--checkpoint-dir", checkpoints);
    const stopped = await runTrainWithSignals(args, { after: MNIST_MID_EPOCH_2, signals: ["SIGTERM"] });
    expect(stopped.exitCode).toBe(EXIT_CODES.TERMINATED);
    const [run] = await runsIn(store);
    const folder = path.join(checkpoints, run!.runId);
    const names = (await readdir(folder)).sort();
    expect(names).toHaveLength(2);
    // Flip bytes in the newest checkpoint's data: its checksum no longer matches.
    const data = path.join(folder, names[1]!, "data.bin");
    const bytes = await readFile(data);
    bytes.fill(7, 1000, 2000);
    await writeFile(data, bytes);
    // Cut the older one short by hand, then stop the retry too, before it writes another checkpoint.
    const retry = await runTrainWithSignals(args, { after: /"msg":"resuming from checkpoint"/, signals: ["SIGTERM"] });
    const warnings = logLines(retry.stderr).filter((line) => line.msg === "skipping a damaged checkpoint");
    expect(warnings.map((line) => String(line.reason))).toEqual([expect.stringMatching(/SHA-256 \(corrupted\)/)]);
    expect(logLines(retry.stderr).find((line) => line.msg === "resuming from checkpoint")).toMatchObject({ epoch: 1, batch: 0 });
    expect(retry.exitCode).toBe(EXIT_CODES.TERMINATED);
    for (const name of await readdir(folder)) await truncate(path.join(folder, name, "data.bin"), 100);
    const fresh = await runTrainWithSignals(args);
    expect(fresh.exitCode, fresh.stderr).toBe(0);
    expect(logLines(fresh.stderr).filter((line) => line.msg === "skipping a damaged checkpoint").map((line) => String(line.reason))).toEqual([
      expect.stringMatching(/truncated/),
      expect.stringMatching(/truncated/),
    ]);
    expect(logLines(fresh.stderr).some((line) => line.msg === "resuming from checkpoint")).toBe(false);
    const runs = await runsIn(store);
    expect(runs.map((seen) => seen.status)).toEqual(["FINISHED"]);
    // Trained from the start, same seed: the same weights all the same.
    expect(largestDifference(await finalWeights(runs[0]!), await finalWeights(uninterrupted))).toBeLessThanOrEqual(1e-6);
    expect(existsSync(folder)).toBe(false);
  }, 240_000);

  it("two SIGTERMs: the run is KILLED, not left RUNNING; resuming with other hyper-parameters is refused (exit 64)", async () => {
    const store = path.join(directory, "mnist-double");
    const stopped = await runTrainWithSignals(mnist(store, "--run-key", "dag/run-2"), { after: MNIST_MID_EPOCH_2, signals: ["SIGTERM", "SIGTERM"], gapMs: 20 });
    expect(stopped.exitCode).toBe(EXIT_CODES.TERMINATED);
    expect(stopped.msToExit!).toBeLessThan(EXIT_BOUND_MS);
    expect(errorLines(stopped.stderr)).toHaveLength(1);
    expect((await runsIn(store)).map((run) => run.status)).toEqual(["KILLED"]);
    const changed = await runTrainWithSignals(mnist(store, "--run-key", "dag/run-2", "--learning-rate", "0.002"));
    expect(changed.exitCode).toBe(EXIT_CODES.USAGE);
    expect(errorLines(changed.stderr)).toEqual([expect.stringMatching(/^train: error: run [0-9a-f]{32} was trained with other parameters than this attempt asks for: learning_rate=0\.002 \(run has 0\.001\); use a new --run-key/)]);
    expect((await runsIn(store)).map((run) => run.status)).not.toContain("RUNNING");
  }, 120_000);

  it("SIGINT (Ctrl-C) stops the same way with exit 130", async () => {
    const store = path.join(directory, "mnist-sigint");
    const stopped = await runTrainWithSignals(mnist(store, "--run-key", "dag/run-i"), { after: MNIST_MID_EPOCH_2, signals: ["SIGINT"] });
    expect(stopped.exitCode).toBe(EXIT_CODES.INTERRUPTED);
    expect(errorLines(stopped.stderr)).toEqual(["train: error: interrupted by SIGINT"]);
    expect(checkpointLines(stopped).at(-1)).toMatchObject({ epoch: 1 });
    expect((await runsIn(store)).map((run) => run.status)).toEqual(["KILLED"]);
  }, 120_000);

  it("a checkpoint that cannot be written on SIGTERM, or a grace period that runs out, still ends with the run KILLED and exit 143", async () => {
    // A file where the checkpoint folder should be: the write on the signal fails.
    const blocked = path.join(directory, "not-a-folder");
    await writeFile(blocked, "");
    const store = path.join(directory, "mnist-unwritable");
    const unwritable = await runTrainWithSignals(mnist(store, "--run-key", "dag/run-u", "--checkpoint-dir", blocked, "--checkpoint-every-epochs", "100"), { after: MNIST_MID_EPOCH_2, signals: ["SIGTERM"] });
    expect(unwritable.exitCode).toBe(EXIT_CODES.TERMINATED);
    expect(logLines(unwritable.stderr).some((line) => line.msg === "could not write the checkpoint on the way out")).toBe(true);
    expect((await runsIn(store)).map((run) => run.status)).toEqual(["KILLED"]);
    // A grace period too short for the checkpoint: the process goes anyway, the run marked KILLED.
    const graceStore = path.join(directory, "mnist-grace");
    const short = await runTrainWithSignals(mnist(graceStore, "--run-key", "dag/run-g", "--grace-period", "0.001"), { after: MNIST_MID_EPOCH_2, signals: ["SIGTERM"] });
    expect(short.exitCode).toBe(EXIT_CODES.TERMINATED);
    expect(short.msToExit!).toBeLessThan(EXIT_BOUND_MS);
    expect(errorLines(short.stderr)).toEqual(["train: error: interrupted by SIGTERM (grace period of 0.001 s ran out)"]);
    const [run] = await runsIn(graceStore);
    expect(run!.status).toBe("KILLED");
    expect(run!.tags["podtrain.error"]).toBe("interrupted by SIGTERM (grace period of 0.001 s ran out)");
  }, 120_000);
});

describe("train cifar10: preemption and resume", () => {
  let fixtureRoot: string;
  const cifar = (store: string, ...extra: string[]) => [
    "cifar10", "--data-dir", fixtureRoot, "--allow-partial-batches", "--train-limit", "320", "--test-limit", "50", "--epochs", "2", "--batch-size", "32",
    "--learning-rate", "0.01", "--validation-split", "0.1", "--seed", "3", "--backend", "tensorflow", "--no-register", "--tracking-uri", store, "--log-format", "json", ...extra,
  ];
  beforeAll(async () => {
    fixtureRoot = (await writeFixture(path.join(directory, "cifar-data"), 64, 50, 2)).root;
  });

  it("SIGTERM mid-epoch: exit 143 within the bound, KILLED with a checkpoint; the retry resumes to the uninterrupted weights, augmentation included", async () => {
    const reference = path.join(directory, "cifar-reference");
    const plain = await runTrainWithSignals(cifar(reference, "--run-key", "reference"));
    expect(plain.exitCode, plain.stderr).toBe(0);
    const store = path.join(directory, "cifar-sigterm");
    await mkdir(store, { recursive: true });
    // 9 steps per epoch: the signal comes after step 3 of epoch 2.
    const stopped = await runTrainWithSignals(cifar(store, "--run-key", "dag/c-1"), { after: /"msg":"epoch 2\/2 3\/9"/, signals: ["SIGTERM"] });
    expect(stopped.exitCode).toBe(EXIT_CODES.TERMINATED);
    expect(stopped.msToExit!).toBeLessThan(EXIT_BOUND_MS);
    console.info(`cifar10: SIGTERM → exit in ${Math.round(stopped.msToExit!)} ms`);
    expect((await runsIn(store)).map((run) => run.status)).toEqual(["KILLED"]);
    const last = checkpointLines(stopped).at(-1)!;
    expect(last.epoch).toBe(1);
    expect(last.batch as number).toBeGreaterThan(0);
    const resumed = await runTrainWithSignals(cifar(store, "--run-key", "dag/c-1"));
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(logLines(resumed.stderr).find((line) => line.msg === "resuming from checkpoint")).toMatchObject({ epoch: 1, batch: last.batch });
    const [run] = await runsIn(store);
    const [uninterrupted] = await runsIn(reference);
    expect(run!.status).toBe("FINISHED");
    await expectSameHistory(run!, uninterrupted!, 2);
    expect(await run!.history("learning_rate")).toEqual(await uninterrupted!.history("learning_rate"));
    const difference = largestDifference(await finalWeights(run!), await finalWeights(uninterrupted!));
    console.info(`cifar10: largest weight difference resumed vs uninterrupted: ${difference}`);
    expect(difference).toBeLessThanOrEqual(1e-6);
  }, 300_000);
});
