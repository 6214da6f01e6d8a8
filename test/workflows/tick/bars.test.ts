import { describe, expect, it } from "vitest";
import { orderTrades } from "../../../src/data/tick/time-order.js";
import { createValidationState, validateTrades } from "../../../src/data/tick/validate.js";
import { BarAccumulator, type DayBars, type TickRuleState } from "../../../src/workflows/tick/bars.js";
import { at, tradesOf, type TradeRow } from "./fixtures.js";

// Bars from files that carry every trade's side skip the per-row tick rule and settle its end
// state with a backward scan (bars.ts). That state is what the next day signs its first trades
// with, so it must equal what the per-row rule leaves, in every corner: a symbol that never
// changes price (today, or only against yesterday's last price), one trade only, rejected rows.

const DATE = "2026-01-07";
const MINUTE = 60_000_000_000;

/** A day of trades: cent prices with many zero ticks, sides ±1, a few corrupt rows; seeded. */
function randomDay(seed: number, rows: number): TradeRow[] {
  let state = seed >>> 0;
  const random = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const symbols = ["AAA", "BBB", "CCC", "FLAT", "ONCE"];
  const prices = new Map([["AAA", 100], ["BBB", 50], ["CCC", 20], ["FLAT", 10], ["ONCE", 5]]);
  const out: TradeRow[] = [];
  let once = false;
  for (let row = 0; row < rows; row += 1) {
    let symbol = symbols[Math.floor(random() * 4)] as string;
    if (!once && row === rows >> 1) {
      symbol = "ONCE";
      once = true;
    }
    const step = symbol === "FLAT" ? 0 : [-1, 0, 0, 1][Math.floor(random() * 4)] as number;
    const price = Math.round(((prices.get(symbol) as number) + step * 0.01) * 100) / 100;
    prices.set(symbol, price);
    const corrupt = random() < 0.02;
    out.push({ timestamp: at(DATE, "09:30:00", BigInt(row) * 7_000_000n), symbol, price: corrupt ? -1 : price, size: 100 * (1 + Math.floor(random() * 5)), side: random() < 0.5 ? 1 : -1 });
  }
  return out;
}

function bars(rows: TradeRow[], withSide: boolean, entry: ReadonlyMap<string, TickRuleState>): DayBars {
  const ordered = orderTrades([tradesOf(rows, withSide)]);
  const state = createValidationState();
  const validated = validateTrades(ordered.trades, { date: DATE }, state);
  const accumulator = new BarAccumulator(DATE, MINUTE, entry);
  accumulator.add(ordered.trades, validated, state.symbolNames);
  return accumulator.finish();
}

describe("bars from trades that all carry a side", () => {
  const entries: Array<[string, Map<string, TickRuleState>]> = [
    ["no previous day", new Map()],
    ["a previous day", new Map([["AAA", { lastPrice: 100.02, lastSign: -1 }], ["FLAT", { lastPrice: 9.99, lastSign: 1 }], ["ONCE", { lastPrice: 5, lastSign: -1 }]])],
    ["a previous day at today's prices", new Map([["FLAT", { lastPrice: 10, lastSign: -1 }], ["ONCE", { lastPrice: 4.99, lastSign: 0 }]])],
  ];

  it.each(entries)("leave the tick-rule state the per-row rule leaves, after %s", (_, entry) => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rows = randomDay(seed, 3000);
      const signed = bars(rows, true, entry);
      const ruled = bars(rows, false, entry);
      expect(signed.exitTickState).toEqual(ruled.exitTickState);
      for (const column of ["open", "high", "low", "close", "volume", "notional"] as const) expect(signed[column]).toEqual(ruled[column]);
      expect(signed.tradeCount).toEqual(ruled.tradeCount);
    }
  });

  it("sum each bar's signed volume from the file's sides, one settled state per traded symbol", () => {
    const rows = randomDay(9, 2000);
    const result = bars(rows, true, new Map());
    const expected = new Map<string, number>();
    for (const row of rows) {
      if (row.price <= 0) continue;
      const bar = Math.floor(Number(row.timestamp - at(DATE, "00:00:00")) / MINUTE);
      const key = `${row.symbol}:${bar}`;
      expected.set(key, (expected.get(key) ?? 0) + (row.side as number) * row.size);
    }
    for (const [key, value] of expected) {
      const [symbol, bar] = key.split(":");
      const cell = result.symbolNames.indexOf(symbol as string) * result.barsPerDay + Number(bar);
      expect(result.signedVolume[cell]).toBe(value);
    }
    expect([...result.exitTickState.keys()].sort()).toEqual(["AAA", "BBB", "CCC", "FLAT", "ONCE"]);
    expect(result.exitTickState.get("FLAT")).toEqual({ lastPrice: 10, lastSign: 0 });
    expect(result.exitTickState.get("ONCE")?.lastSign).toBe(0);
  });
});
