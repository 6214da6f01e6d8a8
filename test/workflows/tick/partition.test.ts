import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { partitionDirectory } from "../../../src/data/tick/partitions.js";
import { writeSyntheticTicks } from "../../../src/data/tick/synthetic.js";
import { writeTradesFile } from "../../../src/data/tick/write-trades.js";
import { DataError } from "../../../src/core/errors.js";
import { computeFeaturePartition } from "../../../src/workflows/tick/compute-partition.js";
import { formatPlan, planFeatureRange, runFeatureRange } from "../../../src/workflows/tick/feature-range.js";
import { readPartitionInput, releaseInput } from "../../../src/workflows/tick/partition-input.js";
import { at, featureParams, temporaryDirectory, tradesOf } from "./fixtures.js";

async function syntheticInput(format: "parquet" | "arrow" | "csv" = "arrow") {
  const root = temporaryDirectory();
  const inputRoot = path.join(root, "input");
  await writeSyntheticTicks({ outputRoot: inputRoot, format, from: "2026-01-02", to: "2026-01-06", symbols: 3, tradesPerDay: 4000, seed: 7 });
  return { inputRoot, outputRoot: path.join(root, "features") };
}

const outputFile = (outputRoot: string, date: string, name: string) => path.join(partitionDirectory(outputRoot, date), name);

// First in the file: the pool is per thread, and later tests hand buffers back to it.
describe("releaseInput", () => {
  it("hands a read buffer back for the next read and empties the released file's bytes", async () => {
    const root = temporaryDirectory();
    const inputRoot = path.join(root, "input");
    await writeSyntheticTicks({ outputRoot: inputRoot, format: "arrow", from: "2026-01-05", to: "2026-01-06", symbols: 3, tradesPerDay: 15000, seed: 6 });
    const [first] = await readPartitionInput(inputRoot, "2026-01-05");
    expect(first?.bytes.byteLength).toBeGreaterThan(1 << 20);
    const buffer = first?.bytes.buffer;
    releaseInput(first ? [first] : []);
    expect(first?.bytes.byteLength).toBe(0);
    const [second] = await readPartitionInput(inputRoot, "2026-01-06");
    expect(second?.bytes.buffer).toBe(buffer);
    expect(createHash("sha256").update(second?.bytes ?? new Uint8Array()).digest("hex")).toBe(second?.sha256);
    expect(Buffer.from(second?.bytes ?? [])).toEqual(await readFile(path.join(inputRoot, "date=2026-01-06", "trades.arrow")));
  });
});

describe("computeFeaturePartition", () => {
  it("re-running a partition writes byte-identical features and manifest", async () => {
    const { inputRoot, outputRoot } = await syntheticInput();
    const params = featureParams();
    const first = await computeFeaturePartition({ inputRoot, outputRoot, date: "2026-01-05", params });
    const featuresBefore = await readFile(outputFile(outputRoot, "2026-01-05", "features.arrow"));
    const manifestBefore = await readFile(outputFile(outputRoot, "2026-01-05", "manifest.json"));
    const second = await computeFeaturePartition({ inputRoot, outputRoot, date: "2026-01-05", params, force: true });
    expect(first.status).toBe("computed");
    expect(second.status).toBe("computed");
    expect(await readFile(outputFile(outputRoot, "2026-01-05", "features.arrow"))).toEqual(featuresBefore);
    expect(await readFile(outputFile(outputRoot, "2026-01-05", "manifest.json"))).toEqual(manifestBefore);
    expect(first.manifest.lookback?.date).toBe("2026-01-02");
    expect(first.manifest.rows).toEqual({ read: 12000, accepted: 12000, rejected: 0 });
  });

  it("skips unchanged input and recomputes when the input or the feature set changes", async () => {
    const { inputRoot, outputRoot } = await syntheticInput();
    const params = featureParams();
    await computeFeaturePartition({ inputRoot, outputRoot, date: "2026-01-06", params });
    expect((await computeFeaturePartition({ inputRoot, outputRoot, date: "2026-01-06", params })).status).toBe("skipped");
    expect((await computeFeaturePartition({ inputRoot, outputRoot, date: "2026-01-06", params: featureParams({ dead_band_bps: 3 }) })).status).toBe("computed");
    // A change to the lookback partition changes day 2's first features: it must recompute too.
    await writeFile(path.join(partitionDirectory(inputRoot, "2026-01-05"), "extra.csv"), "timestamp,symbol,price,size\n");
    expect((await computeFeaturePartition({ inputRoot, outputRoot, date: "2026-01-06", params: featureParams({ dead_band_bps: 3 }) })).status).toBe("computed");
  });

  it("quarantines bad rows with their reason and fails above the reject threshold", async () => {
    const root = temporaryDirectory();
    const inputRoot = path.join(root, "input");
    const outputRoot = path.join(root, "features");
    const date = "2026-01-05";
    const good = Array.from({ length: 96 }, (_, index) => ({ timestamp: at(date, "14:30:00", BigInt(index) * 1_000_000_000n), symbol: "AAPL", price: 100 + index / 100, size: 10 }));
    const bad = [
      { timestamp: at(date, "15:00:00"), symbol: "AAPL", price: -1, size: 10 },
      { timestamp: at(date, "15:00:01"), symbol: "AAPL", price: 100, size: -5 },
      { timestamp: at("2026-01-04", "15:00:00"), symbol: "AAPL", price: 100, size: 5 },
      // Same timestamp as an earlier trade: a valid trade, not a reject.
      { timestamp: at(date, "14:30:10"), symbol: "AAPL", price: 100, size: 5 },
      { timestamp: at(date, "15:00:02"), symbol: "NOPE", price: 100, size: 5 },
    ];
    await writeTradesFile(path.join(partitionDirectory(inputRoot, date), "trades.csv"), tradesOf([...good, ...bad]), "csv");
    const params = featureParams({ universe: ["AAPL"], max_reject_fraction: 0.01 });
    const failure = computeFeaturePartition({ inputRoot, outputRoot, date, params });
    await expect(failure).rejects.toBeInstanceOf(DataError);
    await expect(computeFeaturePartition({ inputRoot, outputRoot, date, params })).rejects.toThrow(
      /partition 2026-01-05: 4 of 101 rows rejected \(3\.96% > max 1\.00%\): unknown_symbol=1, outside_partition_date=1, non_positive_price=1, negative_size=1; integer timestamps \(1767538800000000000\) read as nanoseconds fall on 2026-01-04: are the files under the right date folder\?; see /,
    );
    const quarantine = (await readFile(outputFile(outputRoot, date, "quarantine.csv"), "utf8")).trim().split("\n");
    expect(quarantine[0]).toBe("source_file,row,reason,timestamp,symbol,price,size,side");
    expect(quarantine.slice(1).map((line) => line.split(",").slice(1, 3).join(","))).toEqual([
      "96,non_positive_price", "97,negative_size", "98,outside_partition_date", "100,unknown_symbol",
    ]);
    const passing = await computeFeaturePartition({ inputRoot, outputRoot, date, params: featureParams({ universe: ["AAPL"], max_reject_fraction: 0.05 }) });
    expect(passing.manifest.rejects_by_reason).toMatchObject({ non_positive_price: 1, unknown_symbol: 1, duplicate_trade_id: 0 });
    expect(passing.manifest.quarantine?.rows).toBe(4);
  });
});

describe("planFeatureRange", () => {
  it("lists compute, skip and missing for each date without writing", async () => {
    const { inputRoot, outputRoot } = await syntheticInput();
    const params = featureParams();
    await computeFeaturePartition({ inputRoot, outputRoot, date: "2026-01-02", params });
    const plan = await planFeatureRange({ inputRoot, outputRoot, from: "2026-01-02", to: "2026-01-07", params });
    expect(plan.map((entry) => `${entry.date} ${entry.action}`)).toEqual([
      "2026-01-02 skip", "2026-01-03 missing", "2026-01-04 missing", "2026-01-05 compute", "2026-01-06 compute", "2026-01-07 missing",
    ]);
    expect(formatPlan(plan)).toContain("2026-01-03  missing  0 file(s)  no input partition");
    await expect(readFile(outputFile(outputRoot, "2026-01-05", "manifest.json"))).rejects.toThrow(/ENOENT/);
  });
});

describe("runFeatureRange", () => {
  it("computes a range, reporting missing dates, and gives the same bytes as single-date runs", async () => {
    const { inputRoot, outputRoot } = await syntheticInput("parquet");
    const params = featureParams();
    const results = await runFeatureRange({ inputRoot, outputRoot, from: "2026-01-02", to: "2026-01-06", params });
    expect(results.map((result) => ("status" in result ? result.status : result.action))).toEqual(["computed", "missing", "missing", "computed", "computed"]);
    const fromRange = await readFile(outputFile(outputRoot, "2026-01-06", "features.arrow"));
    const single = await computeFeaturePartition({ inputRoot, outputRoot: `${outputRoot}-single`, date: "2026-01-06", params });
    expect(single.status).toBe("computed");
    expect(await readFile(outputFile(`${outputRoot}-single`, "2026-01-06", "features.arrow"))).toEqual(fromRange);
  });

  it("reuses its read buffers from date to date without changing a byte (files above the pooling size)", async () => {
    const root = temporaryDirectory();
    const inputRoot = path.join(root, "input");
    // About 1.5 MB a file, above the 1 MiB from which read buffers are pooled.
    await writeSyntheticTicks({ outputRoot: inputRoot, format: "arrow", from: "2026-01-05", to: "2026-01-09", symbols: 3, tradesPerDay: 15000, seed: 5, corruptFraction: 0.001 });
    const params = featureParams();
    const ranged = path.join(root, "range");
    const results = await runFeatureRange({ inputRoot, outputRoot: ranged, from: "2026-01-05", to: "2026-01-09", params });
    expect(results.every((result) => "status" in result && result.status === "computed")).toBe(true);
    for (const date of ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09"]) {
      const alone = path.join(root, `alone-${date}`);
      await computeFeaturePartition({ inputRoot, outputRoot: alone, date, params });
      for (const name of ["features.arrow", "manifest.json", "quarantine.csv"]) {
        expect(await readFile(outputFile(ranged, date, name))).toEqual(await readFile(outputFile(alone, date, name)));
      }
    }
  });
});
