import path from "node:path";
import { describe, expect, it } from "vitest";
import { listPartitionFiles } from "../../../src/data/tick/partitions.js";
import { writeSyntheticTicks } from "../../../src/data/tick/synthetic.js";
import type { DayBars } from "../../../src/workflows/tick/bars.js";
import { computeFeatures, type FeatureColumns } from "../../../src/workflows/tick/features.js";
import { prepareDay, readPartitionInput } from "../../../src/workflows/tick/partition-input.js";
import { featureParams, temporaryDirectory } from "./fixtures.js";

const GRID = ["open", "high", "low", "close", "volume", "notional", "signedVolume", "tradeCount"] as const;

/** Both days' grids side by side as one long "day", so every window sees plain history. */
function concatenate(first: DayBars, second: DayBars): DayBars {
  const names = second.symbolNames;
  const per = first.barsPerDay;
  const joined = { ...second, date: first.date, barsPerDay: per * 2, symbolNames: names } as DayBars;
  for (const column of GRID) {
    const target = new (first[column].constructor as new (length: number) => Float64Array | Int32Array)(names.length * per * 2);
    names.forEach((name, id) => {
      const firstId = first.symbolNames.indexOf(name);
      if (firstId >= 0) target.set(first[column].subarray(firstId * per, (firstId + 1) * per), id * per * 2);
      target.set(second[column].subarray(id * per, (id + 1) * per), id * per * 2 + per);
    });
    (joined as unknown as Record<string, Float64Array | Int32Array>)[column] = target;
  }
  return joined;
}

function rowsOf(columns: FeatureColumns, symbol: string, barStartFrom: bigint, count: number) {
  const rows: number[][] = [];
  for (let row = 0; row < columns.rowCount && rows.length < count; row += 1) {
    if (columns.symbol[row] !== symbol || (columns.barStartNanos[row] as bigint) < barStartFrom) continue;
    rows.push([
      ...columns.returns.map((values) => values[row] as number),
      columns.realizedVolatility[row] as number, columns.volumeZscore[row] as number,
      columns.tradeSignImbalance[row] as number, columns.vwapDeviation[row] as number,
    ]);
  }
  return rows;
}

describe("computeFeatures", () => {
  it("reads the lookback from the previous partition: day 2's first bars equal the concatenated computation", async () => {
    const inputRoot = path.join(temporaryDirectory(), "input");
    // Without side the tick rule is used, so its state across the boundary is checked as well.
    await writeSyntheticTicks({ outputRoot: inputRoot, format: "arrow", from: "2026-01-05", to: "2026-01-06", symbols: 2, tradesPerDay: 3000, seed: 3, withSide: false });
    expect(await listPartitionFiles(inputRoot, "2026-01-06")).toHaveLength(1);
    const params = featureParams();
    const day1 = prepareDay("2026-01-05", await readPartitionInput(inputRoot, "2026-01-05"), params);
    const day2 = prepareDay("2026-01-06", await readPartitionInput(inputRoot, "2026-01-06"), params, day1.bars.exitTickState);
    const withLookback = computeFeatures(day2.bars, day1.bars, params);
    const concatenated = computeFeatures(concatenate(day1.bars, day2.bars), null, params);
    const dayTwoStart = BigInt(Date.parse("2026-01-06T00:00:00Z")) * 1_000_000n;
    for (const symbol of ["AAPL", "MSFT"]) {
      const expected = rowsOf(concatenated, symbol, dayTwoStart, 40);
      const actual = rowsOf(withLookback, symbol, dayTwoStart, 40);
      expect(actual).toHaveLength(40);
      expect(actual).toEqual(expected);
      // The very first bar of day 2 already has every rolling feature.
      expect(actual[0]?.every((value) => Number.isFinite(value))).toBe(true);
    }
    const withoutLookback = computeFeatures(day2.bars, null, params);
    expect(rowsOf(withoutLookback, "AAPL", dayTwoStart, 1)[0]?.[0]).toBeNaN();
  });

  it("labels the forward return with a dead band: -1 / 0 / +1, null without a forward window", () => {
    const closes = [100, 100.03, 100.04, 100.01, 100.0, 100.0];
    const barsPerDay = 1440;
    const grid = (values: number[]) => {
      const array = new Float64Array(barsPerDay);
      values.forEach((value, index) => (array[600 + index] = value));
      return array;
    };
    const bars: DayBars = {
      date: "2026-01-05", barNanos: 60e9, barsPerDay, symbolNames: ["AAPL"],
      open: grid(closes), high: grid(closes), low: grid(closes), close: grid(closes),
      volume: grid(closes.map(() => 10)), notional: grid(closes.map((close) => close * 10)), signedVolume: grid(closes.map(() => 0)),
      tradeCount: Int32Array.from(grid(closes.map(() => 1))), exitTickState: new Map(),
    };
    const features = computeFeatures(bars, null, featureParams({ label_horizon_bars: 1, dead_band_bps: 2 }));
    // +3 bps up, +1 bp (inside the band), -3 bps, -1 bp, 0, then no next bar.
    expect([...features.label]).toEqual([1, 0, -1, 0, 0, 0]);
    expect([...features.labelValid]).toEqual([1, 1, 1, 1, 1, 0]);
    expect(features.forwardReturn[0]).toBeCloseTo(Math.log(100.03 / 100), 12);
  });
});
