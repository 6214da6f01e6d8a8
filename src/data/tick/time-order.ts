import { endianness } from "node:os";
import { DataError } from "../../runtime/errors.js";
import type { TradeColumns } from "./trade-columns.js";

// Time order comes from the data, not from the files: producers such as Spark guarantee no row
// order across (or within) part files, and two append jobs into one date leave files whose name
// order is a UUID's. So one date's files are merged and each symbol's trades ordered by
// (timestamp, trade id when params.input.trade_id names one, file path, row in file) with a
// stable sort before validation. Equal timestamps are valid trades and keep their trade-id,
// then file and row order: without a trade id, two different trades of one symbol at the same
// timestamp in different files are ordered by file path, the one order left to go by. Symbols
// are renumbered by name, so nothing downstream depends on the order in which the files
// introduced them.
//
// Most inputs are already in time order per symbol (a sorted export, a streaming roll-up): one
// linear check finds that and skips the sort; otherwise a stable counting sort by symbol is
// followed by a stable sort by timestamp of each symbol's rows that are out of order.

/** Side value of rows from files without a `side` column: their sign comes from the tick rule. */
export const SIDE_FROM_TICK_RULE = 2;

export interface OrderedTrades {
  /** One date's trades from all its files, symbols numbered in name order. */
  trades: TradeColumns;
  /** Index (into the file list) of the file each row came from. */
  sourceFile: Int32Array;
  /** Row number of each row inside its file. */
  sourceRow: Int32Array;
  /** False when every symbol's rows were already in time order and nothing moved. */
  reordered: boolean;
}

interface Merged {
  trades: TradeColumns;
  sourceFile: Int32Array;
  sourceRow: Int32Array;
}

function merge(files: readonly TradeColumns[]): Merged {
  const total = files.reduce((sum, file) => sum + file.rowCount, 0);
  const names = [...new Set(files.flatMap((file) => file.symbolNames))].sort();
  const rank = new Map(names.map((name, index) => [name, index]));
  const anySide = files.some((file) => file.side !== null);
  const anyMissing = files.some((file) => file.missing !== null);
  const anyTradeIds = files.some((file) => file.tradeIds);
  const trades: TradeColumns = {
    rowCount: total,
    timestampNanos: new BigInt64Array(total),
    symbolCodes: new Int32Array(total),
    symbolNames: names,
    price: new Float64Array(total),
    size: new Float64Array(total),
    side: anySide ? new Int8Array(total) : null,
    missing: anyMissing ? new Uint8Array(total) : null,
    tradeIds: anyTradeIds ? new Array<string>(total) : null,
    integerTimestampUnit: files.find((file) => file.integerTimestampUnit)?.integerTimestampUnit ?? null,
  };
  const sourceFile = new Int32Array(total);
  const sourceRow = new Int32Array(total);
  let start = 0;
  files.forEach((file, fileIndex) => {
    const remap = Int32Array.from(file.symbolNames, (name) => rank.get(name) as number);
    const count = file.rowCount;
    trades.timestampNanos.set(file.timestampNanos.subarray(0, count), start);
    trades.price.set(file.price.subarray(0, count), start);
    trades.size.set(file.size.subarray(0, count), start);
    if (trades.side) {
      if (file.side) trades.side.set(file.side.subarray(0, count), start);
      else trades.side.fill(SIDE_FROM_TICK_RULE, start, start + count);
    }
    if (trades.missing && file.missing) trades.missing.set(file.missing.subarray(0, count), start);
    if (trades.tradeIds) {
      if (!file.tradeIds) throw new DataError("internal: trade ids read for some files of a date but not all");
      for (let row = 0; row < count; row += 1) trades.tradeIds[start + row] = file.tradeIds[row] as string;
    }
    for (let row = 0; row < count; row += 1) {
      trades.symbolCodes[start + row] = remap[file.symbolCodes[row] as number] as number;
      sourceRow[start + row] = row;
    }
    sourceFile.fill(fileIndex, start, start + count);
    start += count;
  });
  return { trades, sourceFile, sourceRow };
}

const DIGITS = /^\d+$/;

/** Trade ids in their natural order: integers by value (as text, of any length), else by code unit. */
export function compareTradeIds(a: string, b: string): number {
  if (a === b) return 0;
  if (DIGITS.test(a) && DIGITS.test(b)) {
    const left = a.replace(/^0+(?=\d)/, "");
    const right = b.replace(/^0+(?=\d)/, "");
    if (left.length !== right.length) return left.length - right.length;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when each symbol's rows are already in (timestamp, trade id) order. */
function inTimeOrderPerSymbol(trades: TradeColumns, words: Int32Array): boolean {
  const lastHigh = new Float64Array(trades.symbolNames.length).fill(Number.NEGATIVE_INFINITY);
  const lastLow = new Float64Array(trades.symbolNames.length);
  const lastRow = new Int32Array(trades.symbolNames.length);
  const ids = trades.tradeIds ?? null;
  for (let row = 0; row < trades.rowCount; row += 1) {
    const code = trades.symbolCodes[row] as number;
    const high = words[2 * row + 1] as number;
    const low = (words[2 * row] as number) >>> 0;
    const previousHigh = lastHigh[code] as number;
    if (high < previousHigh || (high === previousHigh && low < (lastLow[code] as number))) return false;
    if (ids !== null && high === previousHigh && low === lastLow[code] && compareTradeIds(ids[lastRow[code] as number] as string, ids[row] as string) > 0) return false;
    lastHigh[code] = high;
    lastLow[code] = low;
    lastRow[code] = row;
  }
  return true;
}

/** Row order: stable by symbol, then stable by timestamp within each symbol's rows. */
function sortedOrder(trades: TradeColumns, words: Int32Array): Int32Array {
  const symbolCount = trades.symbolNames.length;
  const starts = new Int32Array(symbolCount + 1);
  for (let row = 0; row < trades.rowCount; row += 1) {
    const slot = (trades.symbolCodes[row] as number) + 1;
    starts[slot] = (starts[slot] as number) + 1;
  }
  for (let code = 0; code < symbolCount; code += 1) starts[code + 1] = (starts[code + 1] as number) + (starts[code] as number);
  const order = new Int32Array(trades.rowCount);
  const next = starts.slice(0, symbolCount);
  for (let row = 0; row < trades.rowCount; row += 1) {
    const code = trades.symbolCodes[row] as number;
    order[next[code] as number] = row;
    next[code] = (next[code] as number) + 1;
  }
  const ids = trades.tradeIds ?? null;
  const compare = (a: number, b: number): number => {
    const highA = words[2 * a + 1] as number;
    const highB = words[2 * b + 1] as number;
    if (highA !== highB) return highA - highB;
    const low = ((words[2 * a] as number) >>> 0) - ((words[2 * b] as number) >>> 0);
    // Rows are file-then-row numbered, so a stable sort keeps that order for what is still equal.
    return low !== 0 || ids === null ? low : compareTradeIds(ids[a] as string, ids[b] as string);
  };
  for (let code = 0; code < symbolCount; code += 1) {
    const from = starts[code] as number;
    const to = starts[code + 1] as number;
    let ordered = true;
    for (let index = from + 1; index < to && ordered; index += 1) if (compare(order[index - 1] as number, order[index] as number) > 0) ordered = false;
    if (ordered) continue;
    // Array.prototype.sort is stable (ES2019); typed-array sorts are not required to be.
    const segment = Array.from(order.subarray(from, to)).sort(compare);
    order.set(segment, from);
  }
  return order;
}

function permute(merged: Merged, order: Int32Array): Merged {
  const { trades } = merged;
  const count = trades.rowCount;
  const pick = <T extends BigInt64Array | Int32Array | Float64Array | Int8Array | Uint8Array>(source: T): T => {
    const target = new (source.constructor as new (length: number) => T)(count);
    for (let index = 0; index < count; index += 1) target[index] = source[order[index] as number] as never;
    return target;
  };
  return {
    trades: {
      ...trades,
      timestampNanos: pick(trades.timestampNanos),
      symbolCodes: pick(trades.symbolCodes),
      price: pick(trades.price),
      size: pick(trades.size),
      side: trades.side ? pick(trades.side) : null,
      missing: trades.missing ? pick(trades.missing) : null,
      tradeIds: trades.tradeIds ? Array.from(order, (row) => trades.tradeIds?.[row] as string) : null,
    },
    sourceFile: pick(merged.sourceFile),
    sourceRow: pick(merged.sourceRow),
  };
}

/** Merges one date's decoded files (in path order) and puts each symbol's trades in time order. */
export function orderTrades(files: readonly TradeColumns[]): OrderedTrades {
  if (endianness() !== "LE") throw new Error("the tick pipeline reads int64 timestamps as little-endian words");
  const merged = merge(files);
  const words = new Int32Array(merged.trades.timestampNanos.buffer, merged.trades.timestampNanos.byteOffset, merged.trades.rowCount * 2);
  if (inTimeOrderPerSymbol(merged.trades, words)) return { ...merged, reordered: false };
  return { ...permute(merged, sortedOrder(merged.trades, words)), reordered: true };
}
