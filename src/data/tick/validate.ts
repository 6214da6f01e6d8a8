import { endianness } from "node:os";
import { dayStartNanos } from "./partitions.js";
import type { TradeColumns } from "./trade-columns.js";

// Row-level validation. Nothing is dropped silently: each row gets a reason code (0 = accepted),
// the counts go to the manifest and the rows to the quarantine file. Checks run in the order of
// REJECT_REASONS and a row is charged to the first one it fails, so counts add up to the total.
//
// Rows arrive in time order per symbol (time-order.ts sorts each date), so order is never a
// reject: several trades in one nanosecond are normal in a busy feed and keep their file order.
// A repeated trade id (when params.input.trade_id names the column) is a duplicate delivery,
// the same trade twice, and is rejected.

export const REJECT_REASONS = [
  "missing_value",
  "unknown_symbol",
  "outside_partition_date",
  "non_positive_price",
  "negative_size",
  "duplicate_trade_id",
  "non_finite_value",
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];
export type RejectCounts = Record<RejectReason, number>;

export const ACCEPTED = 0;
const MISSING = 1;
const UNKNOWN_SYMBOL = 2;
const OUTSIDE_DATE = 3;
const NON_POSITIVE_PRICE = 4;
const NEGATIVE_SIZE = 5;
const DUPLICATE_TRADE_ID = 6;
/** +Inf price (passes `> 0`) or size: a parser artefact, never a trade; bars would turn infinite. */
const NON_FINITE = 7;

export const NANOS_PER_DAY_NUMBER = 86_400_000_000_000;
const TWO_TO_32 = 4_294_967_296;

export function reasonName(code: number): RejectReason {
  return REJECT_REASONS[code - 1] as RejectReason;
}

export function emptyRejectCounts(): RejectCounts {
  return Object.fromEntries(REJECT_REASONS.map((reason) => [reason, 0])) as RejectCounts;
}

/** State of one partition's validation: symbol ids and the trade ids accepted so far. */
export interface ValidationState {
  symbolNames: string[];
  symbolIdByName: Map<string, number>;
  /** Accepted trade ids per symbol id (only filled when the trades carry trade ids). */
  tradeIdsSeen: Array<Set<string>>;
}

export function createValidationState(): ValidationState {
  return { symbolNames: [], symbolIdByName: new Map(), tradeIdsSeen: [] };
}

export interface ValidationOptions {
  /** The partition's date, YYYY-MM-DD (UTC). */
  date: string;
  /** Allowed symbols; null or undefined accepts every symbol. */
  universe?: ReadonlySet<string> | null;
}

export interface ValidatedTrades {
  /** Reason code per row: 0 accepted, else 1 + index into REJECT_REASONS. */
  reasons: Uint8Array;
  /** Partition-wide symbol id per row (-1 for unknown symbols). */
  symbolIds: Int32Array;
  /** Nanoseconds since the partition's midnight; exact for rows inside the day. */
  nanosOfDay: Float64Array;
  rejectCounts: RejectCounts;
  acceptedCount: number;
}

function symbolIdsFor(trades: TradeColumns, options: ValidationOptions, state: ValidationState): Int32Array {
  return Int32Array.from(trades.symbolNames, (name) => {
    if (options.universe && !options.universe.has(name)) return -1;
    let id = state.symbolIdByName.get(name);
    if (id === undefined) {
      id = state.symbolNames.length;
      state.symbolNames.push(name);
      state.symbolIdByName.set(name, id);
      state.tradeIdsSeen.push(new Set());
    }
    return id;
  });
}

/**
 * Arrays that validateTrades reuses from call to call instead of allocating 13 bytes a row per
 * date (the garbage collector ran after every few dates for them). Only for a caller whose
 * ValidatedTrades is dead before its next call: each call overwrites the previous one's.
 */
export class ValidationScratch {
  private reasons = new Uint8Array(0);
  private symbolIds = new Int32Array(0);
  private nanosOfDay = new Float64Array(0);

  take(rowCount: number): Pick<ValidatedTrades, "reasons" | "symbolIds" | "nanosOfDay"> {
    if (this.reasons.length < rowCount) {
      this.reasons = new Uint8Array(rowCount);
      this.symbolIds = new Int32Array(rowCount);
      this.nanosOfDay = new Float64Array(rowCount);
    }
    return { reasons: this.reasons.subarray(0, rowCount), symbolIds: this.symbolIds.subarray(0, rowCount), nanosOfDay: this.nanosOfDay.subarray(0, rowCount) };
  }
}

/** Classifies every row of a partition's trades (in time order per symbol); `state` carries symbol ids and trade ids. */
export function validateTrades(
  trades: TradeColumns,
  options: ValidationOptions,
  state: ValidationState = createValidationState(),
  scratch?: ValidationScratch,
): ValidatedTrades {
  if (endianness() !== "LE") throw new Error("the tick pipeline reads int64 timestamps as little-endian words");
  const { rowCount, price, size, missing, symbolCodes } = trades;
  const idByCode = symbolIdsFor(trades, options, state);
  const tradeIds = trades.tradeIds ?? null;
  // int64 nanoseconds do not fit a double; the day offset does. Subtract word by word.
  const words = new Int32Array(trades.timestampNanos.buffer, trades.timestampNanos.byteOffset, rowCount * 2);
  const start = dayStartNanos(options.date);
  const startHigh = Number(start >> 32n);
  const startLow = Number(start & 0xffffffffn);
  // Every row of the three arrays is written below, so reused ones need no clearing.
  const { reasons, symbolIds, nanosOfDay } = scratch ? scratch.take(rowCount) : { reasons: new Uint8Array(rowCount), symbolIds: new Int32Array(rowCount), nanosOfDay: new Float64Array(rowCount) };
  const counts = new Int32Array(REJECT_REASONS.length + 1);
  for (let row = 0; row < rowCount; row += 1) {
    const id = idByCode[symbolCodes[row] as number] as number;
    const nanos = ((words[2 * row + 1] as number) - startHigh) * TWO_TO_32 + ((words[2 * row] as number) >>> 0) - startLow;
    symbolIds[row] = id;
    nanosOfDay[row] = nanos;
    let reason = ACCEPTED;
    if (missing !== null && missing[row] === 1) reason = MISSING;
    else if (id < 0) reason = UNKNOWN_SYMBOL;
    else if (!(nanos >= 0 && nanos < NANOS_PER_DAY_NUMBER)) reason = OUTSIDE_DATE;
    else if (!((price[row] as number) > 0)) reason = NON_POSITIVE_PRICE;
    else if (!((size[row] as number) >= 0)) reason = NEGATIVE_SIZE;
    else if (tradeIds !== null && (state.tradeIdsSeen[id] as Set<string>).has(tradeIds[row] as string)) reason = DUPLICATE_TRADE_ID;
    else if (!Number.isFinite(price[row] as number) || !Number.isFinite(size[row] as number)) reason = NON_FINITE;
    else if (tradeIds !== null) (state.tradeIdsSeen[id] as Set<string>).add(tradeIds[row] as string);
    reasons[row] = reason;
    counts[reason] = (counts[reason] as number) + 1;
  }
  const rejectCounts = emptyRejectCounts();
  REJECT_REASONS.forEach((name, index) => (rejectCounts[name] = counts[index + 1] as number));
  return { reasons, symbolIds, nanosOfDay, rejectCounts, acceptedCount: counts[ACCEPTED] as number };
}
