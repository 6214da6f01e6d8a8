import { DataError } from "../../core/errors.js";
import { REQUIRED_TRADE_COLUMNS, TRADE_COLUMN_SIDE } from "./formats.js";
import {
  DEFAULT_READ_CONTRACT,
  missingColumnError,
  NANOS_PER_UNIT,
  parseIsoTimestampNanos,
  resolveColumnName,
  timestampUnitHint,
  type TradeInputColumn,
  type TradeReadContract,
} from "./input-contract.js";
import { SymbolInterner } from "./symbol-interner.js";
import type { TradeColumns } from "./trade-columns.js";

// CSV trades: a header naming at least timestamp,symbol,price,size (any order, any case, or
// mapped in params.input.columns; optional side), comma-separated, no quoting (tickers and
// numbers never need it). Timestamps are integers since the epoch in params.input.timestamp_unit
// (nanoseconds by default) or ISO 8601 text (Spark's CSV writer). A column the file lacks may
// come from a Hive partition folder (`symbol=AAPL/`). An empty field is a missing value
// (quarantined); an unparsable one is a DataError naming the line, because a file with garbage
// numbers is corrupt, not merely dirty.

const SIDE_WORDS: Record<string, number> = { B: 1, BUY: 1, "1": 1, "+1": 1, S: -1, SELL: -1, "-1": -1 };

function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
}

/** A column's position in the header, or the constant from its Hive partition folder. */
type CsvSource = { at: number } | { constant: string | null };

export function parseTradesCsv(bytes: Uint8Array, file: string, contract: TradeReadContract = DEFAULT_READ_CONTRACT): TradeColumns {
  const lines = splitLines(new TextDecoder("utf-8", { fatal: false }).decode(bytes));
  const header = (lines[0] ?? "").split(",").map((name) => name.trim());
  const { settings } = contract;
  const sourceOf = (column: TradeInputColumn): CsvSource | undefined => {
    const name = resolveColumnName(header, column, settings, file);
    if (name !== undefined) return { at: header.indexOf(name) };
    const fromPath = contract.pathValues.get((settings.columns[column] ?? column).toLowerCase());
    return fromPath === undefined ? undefined : { constant: fromPath };
  };
  const sources = REQUIRED_TRADE_COLUMNS.map((name) => {
    const source = sourceOf(name);
    if (!source) throw missingColumnError(file, name, settings, header);
    return source;
  }) as [CsvSource, CsvSource, CsvSource, CsvSource];
  const sideSource = sourceOf(TRADE_COLUMN_SIDE);
  const tradeIdName = settings.trade_id === null ? undefined : resolveColumnName(header, "trade_id", settings, file);
  if (settings.trade_id !== null && tradeIdName === undefined) throw missingColumnError(file, "trade_id", settings, header);
  const tradeIdAt = tradeIdName === undefined ? undefined : header.indexOf(tradeIdName);
  const rowCount = lines.length - 1;
  const field = (fields: string[], source: CsvSource): string | null => ("at" in source ? (fields[source.at] as string) : source.constant);
  const [timestampSource, symbolSource, priceSource, sizeSource] = sources;
  const unit = settings.timestamp_unit;
  const factor = NANOS_PER_UNIT[unit];
  let sawIntegerTimestamp = false;
  const trades: TradeColumns = {
    rowCount,
    timestampNanos: new BigInt64Array(rowCount),
    symbolCodes: new Int32Array(rowCount),
    symbolNames: [],
    price: new Float64Array(rowCount),
    size: new Float64Array(rowCount),
    side: sideSource === undefined ? null : new Int8Array(rowCount),
    missing: null,
    tradeIds: tradeIdAt === undefined ? null : new Array<string>(rowCount),
  };
  const interner = new SymbolInterner();
  const markMissing = (row: number) => {
    trades.missing ??= new Uint8Array(rowCount);
    trades.missing[row] = 1;
  };
  const number = (text: string | null, row: number, name: string): number => {
    if (text === null || text === "") {
      markMissing(row);
      return Number.NaN;
    }
    const value = Number(text);
    if (Number.isNaN(value)) throw new DataError(`${file}:${row + 2}: column "${name}" is not a number: "${text}"`);
    return value;
  };
  for (let row = 0; row < rowCount; row += 1) {
    const fields = (lines[row + 1] as string).split(",");
    if (fields.length !== header.length) {
      throw new DataError(`${file}:${row + 2}: expected ${header.length} fields, found ${fields.length}`);
    }
    const timestampText = field(fields, timestampSource) ?? "";
    if (timestampText === "") markMissing(row);
    else if (/^-?\d+$/.test(timestampText)) {
      const raw = BigInt(timestampText);
      if (raw * factor > 9_223_372_036_854_775_807n || raw * factor < -9_223_372_036_854_775_807n) {
        throw new DataError(`${file}:${row + 2}: column "timestamp" value ${raw} overflows as ${unit}: ${timestampUnitHint(raw, unit)}`);
      }
      trades.timestampNanos[row] = raw * factor;
      sawIntegerTimestamp = true;
    } else {
      const nanos = parseIsoTimestampNanos(timestampText);
      if (nanos === undefined) throw new DataError(`${file}:${row + 2}: column "timestamp" is neither an integer since the epoch nor ISO 8601: "${timestampText}"`);
      trades.timestampNanos[row] = nanos;
    }
    const symbol = field(fields, symbolSource);
    if (symbol === null || symbol === "") markMissing(row);
    trades.symbolCodes[row] = interner.intern(symbol ?? "");
    trades.price[row] = number(field(fields, priceSource), row, "price");
    trades.size[row] = number(field(fields, sizeSource), row, "size");
    if (trades.side && sideSource !== undefined) trades.side[row] = SIDE_WORDS[(field(fields, sideSource) ?? "").toUpperCase()] ?? 0;
    if (trades.tradeIds && tradeIdAt !== undefined) trades.tradeIds[row] = fields[tradeIdAt] as string;
  }
  trades.symbolNames = interner.names;
  trades.integerTimestampUnit = sawIntegerTimestamp ? unit : null;
  return trades;
}
