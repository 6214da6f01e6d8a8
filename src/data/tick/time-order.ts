import { endianness } from "node:os";
import { DataError } from "../../core/errors.js";
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
// linear check finds that and skips the sort; otherwise a stable radix sort by (symbol,
// timestamp) orders the date in a few linear passes.

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

/**
 * Arrays that orderTrades reuses from call to call for a date in one file (the common case):
 * the renumbered symbol codes, and the source file and row of each row, which for one file are
 * all zeros and 0, 1, 2, …, kept filled and only grown. Only for a caller whose OrderedTrades
 * is dead before its next call (prepareDay), and that never writes into them.
 */
export class OrderScratch {
  private codes = new Int32Array(0);
  private zeros = new Int32Array(0);
  private rows = new Int32Array(0);

  take(rowCount: number): { codes: Int32Array; zeros: Int32Array; rows: Int32Array } {
    if (this.codes.length < rowCount) {
      this.codes = new Int32Array(rowCount);
      this.zeros = new Int32Array(rowCount);
      this.rows = new Int32Array(rowCount);
      for (let row = 0; row < rowCount; row += 1) this.rows[row] = row;
    }
    return { codes: this.codes.subarray(0, rowCount), zeros: this.zeros.subarray(0, rowCount), rows: this.rows.subarray(0, rowCount) };
  }
}

/** One file: its arrays as they are, only the symbols renumbered by name. */
function single(file: TradeColumns, names: string[], rank: Map<string, number>, scratch?: OrderScratch): Merged {
  const remap = Int32Array.from(file.symbolNames, (name) => rank.get(name) as number);
  const reused = scratch?.take(file.rowCount);
  const symbolCodes = reused?.codes ?? new Int32Array(file.rowCount);
  for (let row = 0; row < file.rowCount; row += 1) symbolCodes[row] = remap[file.symbolCodes[row] as number] as number;
  if (reused) return { trades: { ...file, symbolCodes, symbolNames: names }, sourceFile: reused.zeros, sourceRow: reused.rows };
  const sourceRow = new Int32Array(file.rowCount);
  for (let row = 0; row < file.rowCount; row += 1) sourceRow[row] = row;
  return { trades: { ...file, symbolCodes, symbolNames: names }, sourceFile: new Int32Array(file.rowCount), sourceRow };
}

function merge(files: readonly TradeColumns[], scratch?: OrderScratch): Merged {
  const total = files.reduce((sum, file) => sum + file.rowCount, 0);
  const names = [...new Set(files.flatMap((file) => file.symbolNames))].sort();
  const rank = new Map(names.map((name, index) => [name, index]));
  if (files.length === 1) return single(files[0] as TradeColumns, names, rank, scratch);
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

/** Nanoseconds since the epoch of a window [start, end), usually the partition's day. */
export interface TimeWindow {
  start: bigint;
  end: bigint;
}

const TWO_TO_32 = 4_294_967_296;

/**
 * True when each symbol's rows are already in (timestamp, trade id) order. Rows that validation
 * rejects before looking at order (a missing field, a time outside `window`) do not count: where
 * they sit changes nothing, and a stray row of yesterday need not cost a sort.
 */
function inTimeOrderPerSymbol(trades: TradeColumns, words: Int32Array, window: TimeWindow | undefined): boolean {
  const lastHigh = new Float64Array(trades.symbolNames.length).fill(Number.NEGATIVE_INFINITY);
  const lastLow = new Float64Array(trades.symbolNames.length);
  const lastRow = new Int32Array(trades.symbolNames.length);
  const ids = trades.tradeIds ?? null;
  const missing = trades.missing;
  const startHigh = window ? Number(window.start >> 32n) : 0;
  const startLow = window ? Number(window.start & 0xffffffffn) : 0;
  const span = window ? Number(window.end - window.start) : 0;
  for (let row = 0; row < trades.rowCount; row += 1) {
    const code = trades.symbolCodes[row] as number;
    const high = words[2 * row + 1] as number;
    const low = (words[2 * row] as number) >>> 0;
    if (missing !== null && missing[row] === 1) continue;
    if (window) {
      const offset = (high - startHigh) * TWO_TO_32 + low - startLow;
      if (!(offset >= 0 && offset < span)) continue;
    }
    const previousHigh = lastHigh[code] as number;
    if (high < previousHigh || (high === previousHigh && low < (lastLow[code] as number))) return false;
    if (ids !== null && high === previousHigh && low === lastLow[code] && compareTradeIds(ids[lastRow[code] as number] as string, ids[row] as string) > 0) return false;
    lastHigh[code] = high;
    lastLow[code] = low;
    lastRow[code] = row;
  }
  return true;
}

const DIGIT_VALUES = 1 << 16;

/**
 * One stable counting pass of an LSD radix sort on a 16-bit digit of each row; skipped (false)
 * when every row has the same digit, as the high words of one day's timestamps do.
 */
function radixPass(order: Int32Array, next: Int32Array, digits: Uint16Array, counts: Int32Array): boolean {
  const count = order.length;
  counts.fill(0);
  for (let row = 0; row < count; row += 1) counts[digits[row] as number] = (counts[digits[row] as number] as number) + 1;
  if (counts[digits[0] as number] === count) return false;
  let position = 0;
  for (let digit = 0; digit < DIGIT_VALUES; digit += 1) {
    const size = counts[digit] as number;
    counts[digit] = position;
    position += size;
  }
  for (let index = 0; index < count; index += 1) {
    const row = order[index] as number;
    const digit = digits[row] as number;
    next[counts[digit] as number] = row;
    counts[digit] = (counts[digit] as number) + 1;
  }
  return true;
}

/**
 * Row order by (symbol, timestamp), stable, so equal keys keep file-then-row numbering: an LSD
 * radix sort on 16-bit digits (timestamp low word first, symbol last), linear in the rows; then
 * runs of equal (symbol, timestamp) are ordered by trade id when the trades carry one.
 */
function sortedOrder(trades: TradeColumns, words: Int32Array): Int32Array {
  const count = trades.rowCount;
  let order = new Int32Array(count);
  for (let row = 0; row < count; row += 1) order[row] = row;
  let next = new Int32Array(count);
  const digits = new Uint16Array(count);
  const counts = new Int32Array(DIGIT_VALUES);
  const codes = trades.symbolCodes;
  const pass = () => {
    if (radixPass(order, next, digits, counts)) [order, next] = [next, order];
  };
  // Timestamp low word, its high half, high word, its high half (sign bit flipped so that
  // pre-1970 times sort first), then the symbol: least significant digit first.
  for (let row = 0; row < count; row += 1) digits[row] = (words[2 * row] as number) & 0xffff;
  pass();
  for (let row = 0; row < count; row += 1) digits[row] = (words[2 * row] as number) >>> 16;
  pass();
  for (let row = 0; row < count; row += 1) digits[row] = (words[2 * row + 1] as number) & 0xffff;
  pass();
  for (let row = 0; row < count; row += 1) digits[row] = ((words[2 * row + 1] as number) >>> 16) ^ 0x8000;
  pass();
  for (let row = 0; row < count; row += 1) digits[row] = (codes[row] as number) & 0xffff;
  pass();
  for (let row = 0; row < count; row += 1) digits[row] = (codes[row] as number) >>> 16;
  pass();
  const ids = trades.tradeIds ?? null;
  if (ids !== null) orderEqualTimestampsById(order, codes, words, ids);
  return order;
}

function orderEqualTimestampsById(order: Int32Array, codes: Int32Array, words: Int32Array, ids: readonly string[]): void {
  const same = (a: number, b: number) => codes[a] === codes[b] && words[2 * a] === words[2 * b] && words[2 * a + 1] === words[2 * b + 1];
  let from = 0;
  while (from < order.length) {
    let to = from + 1;
    while (to < order.length && same(order[from] as number, order[to] as number)) to += 1;
    if (to - from > 1) {
      // Array.prototype.sort is stable (ES2019): equal ids keep file-then-row order.
      const run = Array.from(order.subarray(from, to)).sort((a, b) => compareTradeIds(ids[a] as string, ids[b] as string));
      order.set(run, from);
    }
    from = to;
  }
}

function pickBig(source: BigInt64Array, order: Int32Array): BigInt64Array {
  const target = new BigInt64Array(order.length);
  for (let index = 0; index < order.length; index += 1) target[index] = source[order[index] as number] as bigint;
  return target;
}

function pickFloat(source: Float64Array, order: Int32Array): Float64Array {
  const target = new Float64Array(order.length);
  for (let index = 0; index < order.length; index += 1) target[index] = source[order[index] as number] as number;
  return target;
}

function pickInt32(source: Int32Array, order: Int32Array): Int32Array {
  const target = new Int32Array(order.length);
  for (let index = 0; index < order.length; index += 1) target[index] = source[order[index] as number] as number;
  return target;
}

function pickInt8(source: Int8Array, order: Int32Array): Int8Array {
  const target = new Int8Array(order.length);
  for (let index = 0; index < order.length; index += 1) target[index] = source[order[index] as number] as number;
  return target;
}

function pickUint8(source: Uint8Array, order: Int32Array): Uint8Array {
  const target = new Uint8Array(order.length);
  for (let index = 0; index < order.length; index += 1) target[index] = source[order[index] as number] as number;
  return target;
}

function permute(merged: Merged, order: Int32Array): Merged {
  const { trades } = merged;
  return {
    trades: {
      ...trades,
      timestampNanos: pickBig(trades.timestampNanos, order),
      symbolCodes: pickInt32(trades.symbolCodes, order),
      price: pickFloat(trades.price, order),
      size: pickFloat(trades.size, order),
      side: trades.side ? pickInt8(trades.side, order) : null,
      missing: trades.missing ? pickUint8(trades.missing, order) : null,
      tradeIds: trades.tradeIds ? Array.from(order, (row) => trades.tradeIds?.[row] as string) : null,
    },
    sourceFile: pickInt32(merged.sourceFile, order),
    sourceRow: pickInt32(merged.sourceRow, order),
  };
}

/**
 * Merges one date's decoded files (in path order) and puts each symbol's trades in time order;
 * `window` (the partition's day) lets rows outside it stay where they are when all else is in order.
 */
export function orderTrades(files: readonly TradeColumns[], window?: TimeWindow, scratch?: OrderScratch): OrderedTrades {
  if (endianness() !== "LE") throw new Error("the tick pipeline reads int64 timestamps as little-endian words");
  const merged = merge(files, scratch);
  const words = new Int32Array(merged.trades.timestampNanos.buffer, merged.trades.timestampNanos.byteOffset, merged.trades.rowCount * 2);
  if (inTimeOrderPerSymbol(merged.trades, words, window)) return { ...merged, reordered: false };
  return { ...permute(merged, sortedOrder(merged.trades, words)), reordered: true };
}
