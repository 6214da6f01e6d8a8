import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { writeSyntheticTicks } from "../../../src/data/tick/synthetic.js";
import { RangeScheduler } from "../../../src/workflows/tick/range-scheduler.js";
import { errorLines, runTrain } from "../../support/cli.js";
import { REPOSITORY_ROOT } from "../../support/python.js";
import { temporaryDirectory } from "./fixtures.js";

// `train tick features --from/--to --workers N` through the compiled CLI (worker threads load
// dist/): the same bytes as the in-process run, the same typed error line, and a clean stop.

const FROM = "2026-01-05";
const TO = "2026-01-16";

/** Every file under `root`, relative path -> SHA-256. */
function tree(root: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    files[path.relative(root, file)] = createHash("sha256").update(readFileSync(file)).digest("hex");
  }
  return files;
}

/** No temporary file anywhere, and every manifest names features whose hash it records. */
function expectOnlyCommittedPartitions(root: string): number {
  const files = tree(root);
  expect(Object.keys(files).filter((name) => name.includes(".tmp-"))).toEqual([]);
  const manifests = Object.keys(files).filter((name) => name.endsWith("manifest.json"));
  for (const name of manifests) {
    const manifest = JSON.parse(readFileSync(path.join(root, name), "utf8")) as { output: { file: string; sha256: string } };
    expect(files[path.join(path.dirname(name), manifest.output.file)]).toBe(manifest.output.sha256);
  }
  return manifests.length;
}

const features = (input: string, output: string, workers: number, extra: string[] = []) =>
  ["tick", "features", "--from", FROM, "--to", TO, "--input", input, "--out-dir", output, "--workers", String(workers), ...extra];

/** Claims for `runner` until it gets nothing. */
function drain(scheduler: RangeScheduler, runner: number): string[] {
  const taken: string[] = [];
  for (let date = scheduler.claim(runner); date !== undefined; date = scheduler.claim(runner)) taken.push(date);
  return taken;
}

describe("RangeScheduler", () => {
  const days = ["d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9", "d10"];

  it("starts each runner on its own run of consecutive dates, and never more runs than dates", () => {
    const scheduler = new RangeScheduler(days.slice(0, 5), 2);
    expect([scheduler.claim(0), scheduler.claim(1), scheduler.claim(0), scheduler.claim(1)]).toEqual(["d1", "d3", "d2", "d4"]);
    const small = new RangeScheduler(["d1", "d2"], 4);
    expect([small.claim(0), small.claim(1), small.claim(2), small.claim(3)]).toEqual(["d1", "d2", undefined, undefined]);
  });

  it("lets a runner that is done take the back half of the largest run left, each date handed out once", () => {
    const scheduler = new RangeScheduler(days, 2);
    // Runner 1 starts late (a worker thread loading its modules): runner 0 is through d1..d5 first.
    expect(scheduler.claim(1)).toBe("d6");
    const taken = ["d6"];
    for (let claim = 0; claim < 5; claim += 1) taken.push(scheduler.claim(0) as string);
    expect(taken.slice(1)).toEqual(["d1", "d2", "d3", "d4", "d5"]);
    // d7..d10 are left to runner 1: runner 0 takes the back half and goes on in date order.
    expect(scheduler.claim(0)).toBe("d9");
    expect([scheduler.claim(1), scheduler.claim(1), scheduler.claim(1)]).toEqual(["d7", "d8", undefined]);
    expect([scheduler.claim(0), scheduler.claim(0)]).toEqual(["d10", undefined]);
    expect([...taken, "d9", "d7", "d8", "d10"].sort()).toEqual([...days].sort());
  });

  it("leaves a last single date to its owner (a steal would cost more than it saves)", () => {
    const scheduler = new RangeScheduler(["d1", "d2", "d3"], 2);
    expect(scheduler.claim(1)).toBe("d2");
    expect(scheduler.claim(0)).toBe("d1");
    expect(scheduler.claim(0)).toBeUndefined();
    expect(scheduler.claim(1)).toBe("d3");
  });

  it("hands out nothing at or after the earliest failing date", () => {
    const scheduler = new RangeScheduler(days, 2);
    expect(scheduler.claim(0)).toBe("d1");
    expect(scheduler.claim(1)).toBe("d6");
    scheduler.stopAt("d4");
    expect(scheduler.wanted("d3")).toBe(true);
    expect(scheduler.wanted("d4")).toBe(false);
    expect(scheduler.wanted("d6")).toBe(false);
    // Runner 1's own dates are all after the failure: it takes the back half of d2, d3.
    expect(scheduler.claim(1)).toBe("d3");
    expect([scheduler.claim(0), scheduler.claim(0), scheduler.claim(1)]).toEqual(["d2", undefined, undefined]);
  });
});

describe("train tick features with worker threads", () => {
  let input = "";
  beforeAll(async () => {
    input = path.join(temporaryDirectory(), "input");
    // 10 weekdays with a few corrupted rows, so every partition has a quarantine file too.
    await writeSyntheticTicks({ outputRoot: input, format: "arrow", from: FROM, to: TO, symbols: 2, tradesPerDay: 4000, seed: 7, corruptFraction: 0.001 });
  });

  it("writes byte-identical features, manifests and quarantine at 1, 2 and 4 workers, reported in date order", async () => {
    const root = temporaryDirectory();
    const runs = [];
    for (const workers of [1, 2, 4]) {
      const output = path.join(root, `out-${workers}`);
      const result = await runTrain(features(input, output, workers));
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      runs.push({ stdout: result.stdout, files: tree(output) });
    }
    const [one, ...others] = runs;
    expect(Object.keys(one?.files ?? {}).filter((name) => name.endsWith("quarantine.csv"))).toHaveLength(10);
    expect(Object.keys(one?.files ?? {})).toHaveLength(30);
    for (const other of others) {
      expect(other.files).toEqual(one?.files);
      expect(other.stdout).toBe(one?.stdout);
    }
    expect(one?.stdout.split("\n").filter(Boolean).map((line) => line.slice(0, 10))).toEqual([
      "2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09", "2026-01-10", "2026-01-11", "2026-01-12", "2026-01-13", "2026-01-14", "2026-01-15", "2026-01-16",
    ]);
    // A second parallel run finds every partition up to date.
    const again = await runTrain(features(input, path.join(root, "out-2"), 2));
    expect(again.stdout.match(/ skipped /g)).toHaveLength(10);
    expect(tree(path.join(root, "out-2"))).toEqual(one?.files);
  });

  it("runs a range with one date on the main thread alone, with the in-process bytes", async () => {
    const root = temporaryDirectory();
    const one = ["tick", "features", "--from", "2026-01-07", "--to", "2026-01-07", "--input", input];
    const inProcess = await runTrain([...one, "--out-dir", path.join(root, "out-1"), "--workers", "1"]);
    const threaded = await runTrain([...one, "--out-dir", path.join(root, "out-2"), "--workers", "2"]);
    expect([inProcess.exitCode, threaded.exitCode]).toEqual([0, 0]);
    expect(threaded.stdout).toBe(inProcess.stdout);
    expect(tree(path.join(root, "out-2"))).toEqual(tree(path.join(root, "out-1")));
    expect(Object.keys(tree(path.join(root, "out-2")))).toHaveLength(3);
  });

  it("ends with the earliest failing date's error line and exit 65, as in process, leaving no partial partition", async () => {
    const root = temporaryDirectory();
    const broken = path.join(root, "input");
    await writeSyntheticTicks({ outputRoot: broken, format: "arrow", from: FROM, to: TO, symbols: 2, tradesPerDay: 4000, seed: 7 });
    // Two workers get 01-05..01-09 and 01-12..01-16: the second fails at once, on a later date
    // than the first will; the error must still be 01-08's, the one the in-process run stops at.
    writeFileSync(path.join(broken, "date=2026-01-08", "trades.arrow"), "not arrow at all");
    writeFileSync(path.join(broken, "date=2026-01-12", "trades.arrow"), "not arrow either");
    const inProcess = await runTrain(features(broken, path.join(root, "out-1"), 1));
    const parallel = await runTrain(features(broken, path.join(root, "out-2"), 2));
    expect(inProcess.exitCode).toBe(65);
    expect(parallel.exitCode).toBe(65);
    expect(errorLines(parallel.stderr)).toHaveLength(1);
    expect(errorLines(parallel.stderr)).toEqual(errorLines(inProcess.stderr));
    expect(parallel.stderr).toMatch(/^train: error: date=2026-01-08\/trades\.arrow: not an Arrow IPC file/);
    expect(parallel.stdout).toBe(inProcess.stdout);
    expect(parallel.stdout.split("\n").filter(Boolean).map((line) => line.slice(0, 10))).toEqual(["2026-01-05", "2026-01-06", "2026-01-07"]);
    expectOnlyCommittedPartitions(path.join(root, "out-2"));
    const committed = readdirSync(path.join(root, "out-2"), { recursive: true }).map(String).filter((name) => name.endsWith("manifest.json"));
    expect(committed.some((name) => name.startsWith("date=2026-01-08") || name.startsWith("date=2026-01-12"))).toBe(false);
  });

  it("still computes every date before a failure in a worker's run, at 2 and 4 threads, as in process", async () => {
    const root = temporaryDirectory();
    const broken = path.join(root, "input");
    await writeSyntheticTicks({ outputRoot: broken, format: "arrow", from: FROM, to: TO, symbols: 2, tradesPerDay: 4000, seed: 11, corruptFraction: 0.001 });
    // 01-14 is in a worker's run: every date before it is wanted, wherever it was scheduled.
    writeFileSync(path.join(broken, "date=2026-01-14", "trades.arrow"), "not arrow at all");
    const inProcess = await runTrain(features(broken, path.join(root, "out-1"), 1));
    expect(inProcess.exitCode).toBe(65);
    const expected = tree(path.join(root, "out-1"));
    for (const workers of [2, 4]) {
      const output = path.join(root, `out-${workers}`);
      const parallel = await runTrain(features(broken, output, workers));
      expect(parallel.exitCode).toBe(65);
      expect(errorLines(parallel.stderr)).toEqual(errorLines(inProcess.stderr));
      expect(parallel.stdout).toBe(inProcess.stdout);
      expectOnlyCommittedPartitions(output);
      // Every date before the failure is committed with the in-process bytes, the failing date is
      // not; a later date may be complete too when a runner finished it before the failure was known.
      const files = tree(output);
      const before = (all: Record<string, string>) => Object.fromEntries(Object.entries(all).filter(([name]) => name.slice(5, 15) < "2026-01-14"));
      expect(before(files)).toEqual(expected);
      expect(Object.keys(files).some((name) => name.startsWith("date=2026-01-14") && name.endsWith("manifest.json"))).toBe(false);
    }
  });

  it.each([["SIGTERM", 143], ["SIGINT", 130]] as const)("stops every worker on %s, exits %i and leaves only committed partitions", async (signal, exitCode) => {
    const root = temporaryDirectory();
    const big = path.join(root, "input");
    await writeSyntheticTicks({ outputRoot: big, format: "arrow", from: FROM, to: TO, symbols: 4, tradesPerDay: 60_000, seed: 3 });
    const output = path.join(root, "out");
    const child = spawn(process.execPath, [path.join(REPOSITORY_ROOT, "bin/train.js"), ...features(big, output, 2)], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    // Signalled once the first partition is reported: the workers are then mid-range.
    const firstLine = new Promise<void>((resolve) => child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("\n")) resolve();
    }));
    await firstLine;
    child.kill(signal);
    const code = await new Promise<number | null>((resolve) => child.on("close", (exit) => resolve(exit)));
    expect(code).toBe(exitCode);
    expect(errorLines(stderr)).toEqual([`train: error: interrupted by ${signal}`]);
    const committed = expectOnlyCommittedPartitions(output);
    expect(committed).toBeGreaterThanOrEqual(1);
    expect(committed).toBeLessThan(10);
  });
});
