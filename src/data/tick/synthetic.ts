import path from "node:path";
import { dayStartNanos, datesBetween, partitionDirectory } from "./partitions.js";
import type { TradeFileFormat } from "./formats.js";
import type { TradeColumns } from "./trade-columns.js";
import { encodeTrades } from "./write-trades.js";
import { writeFileAtomic } from "../../core/fs-atomic.js";
import { seededRandomSfc32 } from "../random.js";

// Synthetic trades with the stylised facts the features are meant to catch: GARCH(1,1) volatility
// clustering per minute, a U-shaped intraday volume profile, autocorrelated trade signs (a
// Markov chain) that push the price, cent-rounded prices (so zero ticks exist), several symbols
// interleaved in time order. Weekdays only, 13:30-20:00 UTC. Deterministic for a given seed
// and start date: days are generated in order because prices carry over between days.

export interface SyntheticTickOptions {
  from: string;
  to: string;
  symbols: number;
  /** Trades per symbol per day. */
  tradesPerDay: number;
  seed: number;
  /** Write the `side` column (else readers fall back to the tick rule). */
  withSide?: boolean;
  /** Fraction of rows deliberately corrupted (bad price, size, symbol, time) to exercise quarantine. */
  corruptFraction?: number;
}

const SESSION_START_MINUTE = 13 * 60 + 30;
const SESSION_MINUTES = 390;
const NANOS_PER_MINUTE = 60_000_000_000;
const TICKERS = ["AAPL", "MSFT", "AMZN", "GOOG", "META", "NVDA", "TSLA", "JPM", "XOM", "WMT"];
const SIGN_PERSISTENCE = 0.7;
// Correlated signs inflate a minute's variance by up to (1+0.4)/(1-0.4); alpha is small enough that
// the effective persistence stays below 1 (an explosive GARCH sends prices to 0 or Infinity), and
// the variance is capped as a second guard.
const GARCH = { alpha: 0.05, beta: 0.9, minuteVolatility: 0.0008, maxVarianceMultiple: 25 };
const SIGN_WEIGHT = 0.3;
// Order-flow pressure: an AR(1) per symbol and minute (think of a large order worked over ten
// minutes or so) that tilts the sign chain's flips so that its mean sign is the pressure. The
// per-trade chain alone decorrelates within a few trades, which leaves minute bars with ~0.2 bp
// of predictable drift against ~19 bp of 5-minute noise: no direction signal at bar scale.
// The pressure gives bars a persistent, partly observable drift (trade sign imbalance, recent
// returns), as order flow does in real markets. Pressure 0 is the plain chain.
const FLOW = { persistence: 0.9, deviation: 0.08 };

export function syntheticSymbols(count: number): string[] {
  return Array.from({ length: count }, (_, index) => TICKERS[index] ?? `SYM${index}`);
}

function isWeekday(date: string): boolean {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day !== 0 && day !== 6;
}

interface SymbolState { logPrice: number; variance: number; shock: number; sign: number; flow: number }

/** One day of trades for every symbol, merged in time order. */
function generateDay(date: string, names: string[], states: SymbolState[], options: SyntheticTickOptions, random: () => number): TradeColumns {
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const weights = Array.from({ length: SESSION_MINUTES }, (_, minute) => 1 + 2 * ((minute / (SESSION_MINUTES - 1)) * 2 - 1) ** 2);
  const weightSum = weights.reduce((sum, weight) => sum + weight, 0);
  const counts = weights.map((weight) => Math.floor((options.tradesPerDay * weight) / weightSum));
  counts[0] = (counts[0] as number) + options.tradesPerDay - counts.reduce((sum, count) => sum + count, 0);
  const total = options.tradesPerDay * names.length;
  const trades: TradeColumns = {
    rowCount: total, timestampNanos: new BigInt64Array(total), symbolCodes: new Int32Array(total), symbolNames: names,
    price: new Float64Array(total), size: new Float64Array(total), side: options.withSide === false ? null : new Int8Array(total), missing: null,
  };
  const start = dayStartNanos(date);
  const omega = GARCH.minuteVolatility ** 2 * (1 - GARCH.alpha - GARCH.beta);
  let row = 0;
  for (let minute = 0; minute < SESSION_MINUTES; minute += 1) {
    const count = counts[minute] as number;
    const minuteStart = (SESSION_START_MINUTE + minute) * NANOS_PER_MINUTE;
    const batch: Array<{ offset: number; symbol: number; price: number; size: number; sign: number }> = [];
    states.forEach((state, symbol) => {
      state.variance = Math.min(omega + GARCH.alpha * state.shock ** 2 + GARCH.beta * state.variance, GARCH.maxVarianceMultiple * GARCH.minuteVolatility ** 2);
      const offsets = Array.from({ length: count }, () => Math.floor(random() * NANOS_PER_MINUTE)).sort((x, y) => x - y);
      const step = Math.sqrt(state.variance / Math.max(count, 1));
      const before = state.logPrice;
      state.flow = Math.max(-1, Math.min(1, FLOW.persistence * state.flow + Math.sqrt(1 - FLOW.persistence ** 2) * FLOW.deviation * normal()));
      // Flip rates (1-p)(1-flow) from + and (1-p)(1+flow) from -: mean sign = flow, lag-1 correlation unchanged.
      const flipFromPlus = (1 - SIGN_PERSISTENCE) * (1 - state.flow);
      const flipFromMinus = (1 - SIGN_PERSISTENCE) * (1 + state.flow);
      for (let index = 0; index < count; index += 1) {
        if (index > 0 && (offsets[index] as number) <= (offsets[index - 1] as number)) offsets[index] = (offsets[index - 1] as number) + 1;
        if (random() < (state.sign > 0 ? flipFromPlus : flipFromMinus)) state.sign = -state.sign;
        state.logPrice += step * (Math.sqrt(1 - SIGN_WEIGHT ** 2) * normal() + SIGN_WEIGHT * state.sign);
        const price = Math.max(0.01, Math.round(Math.exp(state.logPrice) * 100) / 100);
        batch.push({ offset: offsets[index] as number, symbol, price, size: 100 * (1 + Math.floor(-Math.log(1 - random()) * 3)), sign: state.sign });
      }
      state.shock = state.logPrice - before;
    });
    batch.sort((x, y) => x.offset - y.offset || x.symbol - y.symbol);
    for (const trade of batch) {
      trades.timestampNanos[row] = start + BigInt(minuteStart + trade.offset);
      trades.symbolCodes[row] = trade.symbol;
      trades.price[row] = trade.price;
      trades.size[row] = trade.size;
      if (trades.side) trades.side[row] = trade.sign;
      row += 1;
    }
  }
  corrupt(trades, options.corruptFraction ?? 0, random, start);
  return trades;
}

/** Damages a deterministic sample of rows, one reject reason after another. */
function corrupt(trades: TradeColumns, fraction: number, random: () => number, dayStart: bigint): void {
  const damaged = Math.round(trades.rowCount * fraction);
  if (damaged === 0) return;
  const unknown = trades.symbolNames.length;
  trades.symbolNames = [...trades.symbolNames, "ZZZZ"];
  for (let index = 0; index < damaged; index += 1) {
    const row = Math.floor(random() * trades.rowCount);
    switch (index % 4) {
      case 0: trades.price[row] = -(trades.price[row] as number); break;
      case 1: trades.size[row] = -1; break;
      case 2: trades.symbolCodes[row] = unknown; break;
      default: trades.timestampNanos[row] = dayStart - 1n;
    }
  }
}

/** Generates the weekdays of [from, to]; yields each day's trades in time order. */
export function* generateSyntheticTicks(options: SyntheticTickOptions): Generator<{ date: string; trades: TradeColumns }> {
  const random = seededRandomSfc32(options.seed);
  const names = syntheticSymbols(options.symbols);
  const states = names.map(() => ({ logPrice: Math.log(20 + 180 * random()), variance: GARCH.minuteVolatility ** 2, shock: 0, sign: 1, flow: 0 }));
  for (const date of datesBetween(options.from, options.to)) {
    if (isWeekday(date)) yield { date, trades: generateDay(date, names, states, options, random) };
  }
}

export interface WriteSyntheticOptions extends SyntheticTickOptions {
  outputRoot: string;
  format: TradeFileFormat;
}

const EXTENSION: Record<TradeFileFormat, string> = { parquet: "parquet", arrow: "arrow", csv: "csv" };

/** Writes one file per weekday as <outputRoot>/date=YYYY-MM-DD/trades.<ext>. */
export async function writeSyntheticTicks(options: WriteSyntheticOptions): Promise<{ dates: string[]; rows: number }> {
  const dates: string[] = [];
  let rows = 0;
  for (const { date, trades } of generateSyntheticTicks(options)) {
    const file = path.join(partitionDirectory(options.outputRoot, date), `trades.${EXTENSION[options.format]}`);
    await writeFileAtomic(file, encodeTrades(trades, options.format));
    dates.push(date);
    rows += trades.rowCount;
  }
  return { dates, rows };
}
