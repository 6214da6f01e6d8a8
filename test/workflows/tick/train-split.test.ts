import { describe, expect, it } from "vitest";
import { seededRandomSfc32 as seededRandom } from "../../../src/data/random.js";
import { walkForwardSplit, type WalkForwardSplit } from "../../../src/workflows/tick/walk-forward-split.js";

const MINUTE = 60_000;

/** Three symbols over several "days" of minutes, each skipping bars at random (quiet minutes). */
function barRows(seed: number) {
  const random = seededRandom(seed);
  const barTimes: number[] = [];
  const symbolIds: number[] = [];
  for (let day = 0; day < 4; day += 1) {
    for (let minute = 0; minute < 120; minute += 1) {
      for (let symbol = 0; symbol < 3; symbol += 1) {
        if (random() < 0.2 * symbol) continue; // symbol 0 never skips, symbol 2 skips 40 %
        barTimes.push(day * 86_400_000 + minute * MINUTE);
        symbolIds.push(symbol);
      }
    }
  }
  // Shuffle the row order: the split must not depend on the input being sorted.
  const order = barTimes.map((_, index) => index).sort(() => random() - 0.5);
  return { barTimes: order.map((index) => barTimes[index] as number), symbolIds: order.map((index) => symbolIds[index] as number) };
}

type Rows = ReturnType<typeof barRows>;

function periodOf(split: WalkForwardSplit, rowCount: number): Array<"train" | "validation" | "test" | "purged"> {
  const periods = new Array<"train" | "validation" | "test" | "purged">(rowCount).fill("purged");
  for (const name of ["train", "validation", "test"] as const) for (const row of split[name]) periods[row] = name;
  return periods;
}

/** For each row, the rows of the same symbol that follow it, nearest first. */
function followers(rows: Rows): Map<number, number[]> {
  const bySymbol = new Map<number, number[]>();
  rows.barTimes.forEach((_, row) => bySymbol.set(rows.symbolIds[row] as number, [...(bySymbol.get(rows.symbolIds[row] as number) ?? []), row]));
  const result = new Map<number, number[]>();
  for (const sequence of bySymbol.values()) {
    sequence.sort((a, b) => (rows.barTimes[a] as number) - (rows.barTimes[b] as number));
    sequence.forEach((row, position) => result.set(row, sequence.slice(position + 1)));
  }
  return result;
}

describe("walkForwardSplit", () => {
  const rows = barRows(7);
  const options = { validationFraction: 0.15, testFraction: 0.15, purgeGapBars: 5 };
  const split = walkForwardSplit(rows, options);
  const times = (indices: Int32Array) => Array.from(indices, (row) => rows.barTimes[row] as number);

  it("orders the periods in time: every train time < every validation time < every test time", () => {
    expect(Math.max(...times(split.train))).toBeLessThan(Math.min(...times(split.validation)));
    expect(Math.max(...times(split.validation))).toBeLessThan(Math.min(...times(split.test)));
    expect(Math.max(...times(split.train))).toBeLessThan(Math.min(...times(split.test)));
    expect(Math.min(...times(split.validation))).toBeGreaterThanOrEqual(split.validationStart);
    expect(Math.min(...times(split.test))).toBeGreaterThanOrEqual(split.testStart);
  });

  it("leaks no label: no training row has a validation or test row within the purge gap of its symbol", () => {
    const periods = periodOf(split, rows.barTimes.length);
    const next = followers(rows);
    let checked = 0;
    for (const [name, later] of [["train", ["validation", "test"]], ["validation", ["test"]]] as const) {
      for (const row of split[name]) {
        // The label of `row` is made of the next purgeGapBars bars of its symbol: none may be later-period rows.
        const window = (next.get(row) ?? []).slice(0, options.purgeGapBars);
        for (const follower of window) expect(later).not.toContain(periods[follower]);
        checked += window.length;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it("purges exactly the last purge_gap_bars bars of each symbol before each boundary", () => {
    const periods = periodOf(split, rows.barTimes.length);
    const symbols = new Set(rows.symbolIds);
    expect(split.purgedRows).toBe(2 * options.purgeGapBars * symbols.size);
    expect(split.train.length + split.validation.length + split.test.length + split.purgedRows).toBe(rows.barTimes.length);
    const next = followers(rows);
    for (let row = 0; row < rows.barTimes.length; row += 1) {
      if (periods[row] !== "purged") continue;
      const time = rows.barTimes[row] as number;
      expect(time < split.testStart).toBe(true);
      const boundary = time < split.validationStart ? split.validationStart : split.testStart;
      const within = (next.get(row) ?? []).slice(0, options.purgeGapBars);
      expect(within.some((follower) => (rows.barTimes[follower] as number) >= boundary)).toBe(true);
    }
  });

  it("splits by bar time near the asked fractions, in time order, and is deterministic", () => {
    const distinct = new Set(rows.barTimes).size;
    const testTimes = new Set(times(split.test)).size;
    expect(testTimes / distinct).toBeCloseTo(0.15, 1);
    const ordered = times(split.train);
    expect(ordered).toEqual([...ordered].sort((a, b) => a - b));
    expect(walkForwardSplit(rows, options)).toEqual(split);
  });

  it("with a zero gap drops nothing; refuses too few bar times and impossible fractions", () => {
    const noGap = walkForwardSplit(rows, { ...options, purgeGapBars: 0 });
    expect(noGap.purgedRows).toBe(0);
    expect(() => walkForwardSplit({ barTimes: [1, 2], symbolIds: [0, 0] }, options)).toThrow(/too few/);
    expect(() => walkForwardSplit(rows, { ...options, validationFraction: 0.6, testFraction: 0.5 })).toThrow(RangeError);
  });
});
