// `train bench`: order statistics, the table, MLflow tracking through the local store, and the
// real CLI measuring a few steps on the wasm backend (always available) with --json and --track.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { rowOf, markdownTable, textTable } from "../../src/bench/report.js";
import { median, quantile } from "../../src/bench/statistics.js";
import { BENCH_TARGETS, benchTarget } from "../../src/bench/targets.js";
import { FileTrackingStore } from "../../src/tracking/file-store.js";

const execFileAsync = promisify(execFile);
const repositoryRoot = path.resolve(import.meta.dirname, "../..");

describe("bench statistics and tables", () => {
  it("computes medians and interpolated quantiles", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantile([0, 10], 0.1)).toBeCloseTo(1);
    expect(median([])).toBeNaN();
  });

  it("renders rows with the ratio column", () => {
    const row = { ...rowOf("ours", { imagesPerSecond: 900, msPerStep: { median: 142.2, p10: 140, p90: 150 }, cpuMsPerStep: 200, epochSeconds: 60, peakRssBytes: 512 * 2 ** 20 }), ratio: 1.05, cpuRatio: 0.8 };
    expect(textTable([row])).toMatch(/ours\s+900\s+142\.2\s+200\.0\s+60\.0\s+512\s+1\.05×\s+0\.80×/);
    expect(markdownTable([row]).split("\n")).toHaveLength(3);
  });

  it("has a target per workflow built from the workflow's model factory", () => {
    expect(Object.keys(BENCH_TARGETS)).toEqual(["mnist", "cifar10"]);
    expect(() => benchTarget("nope")).toThrow(/expected one of/);
  });
});

describe("train bench (CLI)", () => {
  it("measures mnist on wasm, prints JSON and tracks a run in <experiment>-bench", async () => {
    const trackingDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "podtrain-bench-"));
    try {
      const { stdout } = await execFileAsync(process.execPath, [
        path.join(repositoryRoot, "bin", "train.js"), "bench", "mnist", "--backend", "wasm",
        "--batch-size", "16", "--steps", "2", "--warmup", "1", "--json", "--track", "--tracking-uri", trackingDirectory,
      ], { cwd: repositoryRoot, timeout: 300_000 });
      const result = JSON.parse(stdout) as { backend: string; execution: string; executionFallback?: string; steps: number; imagesPerSecond: number; peakRssBytes: number; tracked: { runId: string; experimentId: string } };
      expect(result.backend).toBe("wasm");
      // Graph execution needs native TensorFlow: the wasm backend steps op by op and says why.
      expect(result.execution).toBe("eager");
      expect(result.executionFallback).toMatch(/^the wasm backend runs ops one at a time/);
      expect(result.steps).toBe(2);
      expect(result.imagesPerSecond).toBeGreaterThan(0);
      expect(result.peakRssBytes).toBeGreaterThan(0);
      const store = new FileTrackingStore(trackingDirectory);
      expect(await store.getOrCreateExperiment("mnist-cnn-bench")).toBe(result.tracked.experimentId);
      const run = await store.getRun(result.tracked.runId);
      expect(run.info.status).toBe("FINISHED");
      expect(run.params.backend).toBe("wasm");
      expect(run.params.execution).toBe("eager");
      expect(run.metrics.images_per_second).toBeCloseTo(result.imagesPerSecond);
    } finally {
      fs.rmSync(trackingDirectory, { recursive: true, force: true });
    }
  });

  it("measures the cifar10 model as one graph function per step on native TensorFlow", async () => {
    const { stdout } = await execFileAsync(process.execPath, [
      path.join(repositoryRoot, "bin", "train.js"), "bench", "cifar10", "--backend", "tensorflow", "--batch-size", "8", "--steps", "2", "--warmup", "1", "--json",
    ], { cwd: repositoryRoot, timeout: 300_000 });
    const result = JSON.parse(stdout) as { workflow: string; backend: string; execution: string; steps: number; imagesPerSecond: number };
    expect(result).toMatchObject({ workflow: "cifar10", backend: "tensorflow", execution: "graph", steps: 2 });
    expect(result.imagesPerSecond).toBeGreaterThan(0);
  });

  it("prints a table by default", async () => {
    const { stdout } = await execFileAsync(process.execPath, [
      path.join(repositoryRoot, "bin", "train.js"), "bench", "mnist", "--backend", "wasm", "--batch-size", "8", "--steps", "1", "--warmup", "0",
    ], { cwd: repositoryRoot, timeout: 300_000 });
    expect(stdout).toMatch(/images\/s/);
    expect(stdout).toMatch(/device\s+CPU \(WebAssembly, XNNPACK\)/);
  });
});
