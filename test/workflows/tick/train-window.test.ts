import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { partitionDirectory } from "../../../src/data/tick/partitions.js";
import { writeSyntheticTicks } from "../../../src/data/tick/synthetic.js";
import { DataError } from "../../../src/core/errors.js";
import { createReporter } from "../../../src/runtime/reporter.js";
import { loadDesignMatrix, NON_FEATURE_COLUMNS } from "../../../src/workflows/tick/design-matrix.js";
import { runFeatureRange } from "../../../src/workflows/tick/feature-range.js";
import { tickParamsSchema } from "../../../src/workflows/tick/params.js";
import { resolveTrainingWindow } from "../../../src/workflows/tick/training-window.js";
import { featureParams, temporaryDirectory } from "./fixtures.js";

// 2026-01-05 is a Monday: the range holds two full weeks of weekday partitions.
const FROM = "2026-01-05";
const TO = "2026-01-16";

describe("resolveTrainingWindow and loadDesignMatrix", () => {
  let featuresRoot: string;
  const paramsFor = (root: string, overrides: Record<string, unknown> = {}) => tickParamsSchema.parse({ features_dir: root, as_of: TO, window: "12d", ...overrides });

  beforeAll(async () => {
    const root = temporaryDirectory("tick-window-");
    const inputRoot = path.join(root, "trades");
    featuresRoot = path.join(root, "features");
    await writeSyntheticTicks({ outputRoot: inputRoot, format: "arrow", from: FROM, to: TO, symbols: 2, tradesPerDay: 1500, seed: 5 });
    await runFeatureRange({ inputRoot, outputRoot: featuresRoot, from: FROM, to: TO, params: featureParams() });
  });

  it("takes the weekday partitions of (as_of - window, as_of] and hashes their manifests into the data version", async () => {
    const window = await resolveTrainingWindow(paramsFor(featuresRoot));
    expect(window.from).toBe(FROM);
    expect(window.partitions.map((partition) => partition.date)).toEqual([
      "2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09", "2026-01-12", "2026-01-13", "2026-01-14", "2026-01-15", "2026-01-16",
    ]);
    expect(window.dataVersion).toMatch(/^[0-9a-f]{64}$/);
    expect((await resolveTrainingWindow(paramsFor(featuresRoot))).dataVersion).toBe(window.dataVersion);
    const shorter = await resolveTrainingWindow(paramsFor(featuresRoot, { window: "3d" }));
    expect(shorter.partitions.map((partition) => partition.date)).toEqual(["2026-01-14", "2026-01-15", "2026-01-16"]);
    expect(shorter.dataVersion).not.toBe(window.dataVersion);
    // No as_of: the latest partition.
    expect((await resolveTrainingWindow(paramsFor(featuresRoot, { as_of: null, window: "1d" }))).asOf).toBe(TO);
  });

  it("builds a matrix of the feature columns only, with NaN where history is short and every row's label state", async () => {
    const matrix = await loadDesignMatrix(await resolveTrainingWindow(paramsFor(featuresRoot, { window: "5d" })));
    expect(matrix.featureNames).toEqual(["return_1", "return_5", "return_15", "realized_volatility", "vwap_deviation", "trade_sign_imbalance", "high_low_range", "volume_zscore"]);
    expect(matrix.featureNames.some((name) => NON_FEATURE_COLUMNS.has(name))).toBe(false);
    expect(matrix.values.length).toBe(matrix.rowCount * matrix.featureNames.length);
    expect(matrix.symbols).toEqual(["AAPL", "MSFT"]);
    const unlabelled = matrix.labelValid.filter((valid) => valid === 0).length;
    // The last label_horizon_bars (5) bars of each symbol and day have no forward window.
    expect(unlabelled).toBe(5 * 2 * 5);
    expect(new Set(matrix.label)).toEqual(new Set([-1, 0, 1]));
    expect(matrix.barTimes[0]).toBe(Date.parse("2026-01-12T13:30:00Z"));
  });

  it("keeps rows whose features are NaN (short history at the start of the data): LightGBM treats them as missing", async () => {
    const window = await resolveTrainingWindow(paramsFor(featuresRoot));
    const matrix = await loadDesignMatrix(window);
    expect(matrix.rowCount).toBe(window.partitions.reduce((sum, partition) => sum + partition.manifest.output.rows, 0));
    const width = matrix.featureNames.length;
    const returnFifteen = matrix.featureNames.indexOf("return_15");
    // 2026-01-05 has no previous partition: its first 15 bars of each symbol have no return_15.
    expect(Number.isNaN(matrix.values[returnFifteen] as number)).toBe(true);
    expect(Number.isNaN(matrix.values[20 * width + returnFifteen] as number)).toBe(false);
  });

  it("validate (the DAG's validate step) reads and splits the window without training, returning the data identity", async () => {
    const { tickWorkflow } = await import("../../../src/workflows/tick/workflow.js");
    const identity = await tickWorkflow.validate?.(paramsFor(featuresRoot), createReporter("json"));
    expect(identity?.["data.version"]).toBe((await resolveTrainingWindow(paramsFor(featuresRoot))).dataVersion);
    expect(identity?.["data.partitions"]).toBe("10");
    expect(Number(identity?.["data.rows_test"])).toBeGreaterThan(0);
    expect(identity?.["data.rows_purged"]).toBe(String(2 * 5 * 2));
  });

  it("fails clearly when a weekday partition is missing or incomplete, unless it is a listed closed date", async () => {
    const root = temporaryDirectory("tick-window-missing-");
    cpSync(featuresRoot, root, { recursive: true });
    rmSync(partitionDirectory(root, "2026-01-07"), { recursive: true });
    rmSync(path.join(partitionDirectory(root, "2026-01-13"), "manifest.json"));
    const attempt = resolveTrainingWindow(paramsFor(root));
    await expect(attempt).rejects.toThrow(DataError);
    await expect(attempt).rejects.toThrow(/missing feature partitions for 2 date\(s\) of the window 2026-01-05\.\.2026-01-16 under .*: 2026-01-07, 2026-01-13\. Compute them with `train tick features --input TRADES_DIR --out-dir .* --from 2026-01-07 --to 2026-01-13`/);
    const window = await resolveTrainingWindow(paramsFor(root, { closed_dates: ["2026-01-07", "2026-01-13"] }));
    expect(window.partitions).toHaveLength(8);
  });

  it("fails when the manifests disagree on the feature-set hash, or differ from the spec's feature params", async () => {
    const root = temporaryDirectory("tick-window-hash-");
    cpSync(featuresRoot, root, { recursive: true });
    const manifestFile = path.join(partitionDirectory(root, "2026-01-09"), "manifest.json");
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as { feature_set: { hash: string } };
    manifest.feature_set.hash = "f".repeat(64);
    writeFileSync(manifestFile, JSON.stringify(manifest));
    await expect(resolveTrainingWindow(paramsFor(root))).rejects.toThrow(/disagree on the feature-set hash \([0-9a-f]{12} on 9 dates 2026-01-05, .*, 2026-01-16; ffffffffffff on 2026-01-09\)/);
    await expect(resolveTrainingWindow(paramsFor(featuresRoot, { label_horizon_bars: 10 }))).rejects.toThrow(/computed with feature set .*, but the spec's feature params give/);
  });

  it("refuses a features file that no longer matches its manifest", async () => {
    const root = temporaryDirectory("tick-window-tamper-");
    cpSync(featuresRoot, root, { recursive: true });
    const file = path.join(partitionDirectory(root, "2026-01-16"), "features.arrow");
    const bytes = readFileSync(file);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] as number) ^ 0xff;
    writeFileSync(file, bytes);
    await expect(loadDesignMatrix(await resolveTrainingWindow(paramsFor(root, { window: "1d" })))).rejects.toThrow(/does not match its manifest's sha256/);
  });
});
