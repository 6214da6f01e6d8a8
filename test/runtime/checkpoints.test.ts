import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifactCheckpoints, directoryCheckpoints, KEPT_CHECKPOINTS, type CheckpointStore } from "../../src/runtime/checkpoints.js";
import { FileTrackingStore } from "../../src/tracking/file-store.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), "podtrain-checkpoints-"));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

function recordingLog() {
  const warnings: Array<Record<string, unknown>> = [];
  const log = pino({ level: "warn" }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, warnings };
}

const bytes = (value: number, length = 64) => new Uint8Array(length).fill(value);

describe.each([
  ["a checkpoint folder", async (log: pino.Logger) => ({
    store: directoryCheckpoints(path.join(directory, "volume"), "a".repeat(32), log),
    names: async () => (await readdir(path.join(directory, "volume", "a".repeat(32))).catch(() => [] as string[])).sort(),
  })],
  ["the run's artifacts", async (log: pino.Logger) => {
    const store = new FileTrackingStore(path.join(directory, "mlruns"));
    const run = await store.createRun({ experimentId: await store.getOrCreateExperiment("checkpoints"), runName: "r", startTime: Date.now(), tags: {} });
    return {
      store: artifactCheckpoints(store, run.runId, await mkdtemp(path.join(directory, "scratch-")), log),
      names: async () => [...new Set((await store.listArtifacts(run.runId, "checkpoints")).map((file) => file.split("/")[1]!))].sort(),
    };
  }],
] as const)("checkpoints in %s", (_where, open) => {
  let store: CheckpointStore;
  let names: () => Promise<string[]>;
  let warnings: Array<Record<string, unknown>>;
  beforeAll(async () => {
    const recording = recordingLog();
    warnings = recording.warnings;
    ({ store, names } = await open(recording.log));
  });

  it("reads back the newest, keeps only the last two, and removes them all on clear", async () => {
    expect(await store.loadNewest()).toBeUndefined();
    for (const step of [5, 10, 15]) await store.save(step, { step }, bytes(step));
    const newest = await store.loadNewest();
    expect(newest).toMatchObject({ name: "ckpt-0000000015", state: { step: 15 } });
    expect([...newest!.data]).toEqual([...bytes(15)]);
    expect(KEPT_CHECKPOINTS).toBe(2);
    expect(await names()).toEqual(["ckpt-0000000010", "ckpt-0000000015"]);
    // Resumed from step 10 (say 15 was damaged): the next save drops 15, a step of an abandoned attempt.
    await store.save(12, { step: 12 }, bytes(12));
    expect(await names()).toEqual(["ckpt-0000000010", "ckpt-0000000012"]);
    expect(warnings).toEqual([]);
    await store.clear();
    expect(await names()).toEqual([]);
    expect(await store.loadNewest()).toBeUndefined();
  });
});

describe("damaged checkpoints in a folder", () => {
  it("skips a manifest-less (half-written) or corrupted checkpoint with a warning and falls back to the older one", async () => {
    const { log, warnings } = recordingLog();
    const root = path.join(directory, "damaged");
    const runId = "b".repeat(32);
    const store = directoryCheckpoints(root, runId, log);
    await store.save(1, { step: 1 }, bytes(1));
    await store.save(2, { step: 2 }, bytes(2));
    expect((await readdir(path.join(root, runId))).sort()).toEqual(["ckpt-0000000001", "ckpt-0000000002"]);
    await writeFile(path.join(root, runId, "ckpt-0000000002", "data.bin"), bytes(9));
    expect((await store.loadNewest())?.state).toEqual({ step: 1 });
    expect(warnings.map((warning) => warning.reason)).toEqual(["data.bin does not match the manifest's SHA-256 (corrupted)"]);
    await writeFile(path.join(root, runId, "ckpt-0000000001", "manifest.json"), '{"format": "podtr');
    expect(await store.loadNewest()).toBeUndefined();
    expect(warnings.map((warning) => warning.reason)).toContain("manifest.json is not valid JSON (half-written?)");
  });
});
