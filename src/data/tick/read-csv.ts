import { DataError } from "../../core/errors.js";
import { REQUIRED_TRADE_COLUMNS, TRADE_COLUMN_SIDE } from "./formats.js";
import { SymbolInterner } from "./symbol-interner.js";
import type { TradeColumns } from "./trade-columns.js";

// CSV trades: a header naming at least timestamp,symbol,price,size (any order, optional side),
// comma-separated, no quoting (tickers and numbers never need it). Timestamps are integer
// nanoseconds. An empty field is a missing value (quarantined); an unparsable one is a DataError
// naming the line, because a file with garbage numbers is corrupt, not merely dirty.

const SIDE_WORDS: Record<string, number> = { B: 1, BUY: 1, "1": 1, "+1": 1, S: -1, SELL: -1, "-1": -1 };

function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
}

export function parseTradesCsv(bytes: Uint8Array, file: string): TradeColumns {
  const lines = splitLines(new TextDecoder("utf-8", { fatal: false }).decode(bytes));
  const header = (lines[0] ?? "").split(",").map((name) => name.trim());
  const position = new Map(header.map((name, index) => [name, index]));
  for (const name of REQUIRED_TRADE_COLUMNS) {
    if (!position.has(name)) throw new DataError(`${file}: CSV header lacks column "${name}" (header: ${header.join(",") || "empty"})`);
  }
  const rowCount = lines.length - 1;
  const column = (name: string) => position.get(name) as number;
  const [timestampAt, symbolAt, priceAt, sizeAt] = REQUIRED_TRADE_COLUMNS.map(column) as [number, number, number, number];
  const sideAt = position.get(TRADE_COLUMN_SIDE);
  const trades: TradeColumns = {
    rowCount,
    timestampNanos: new BigInt64Array(rowCount),
    symbolCodes: new Int32Array(rowCount),
    symbolNames: [],
    price: new Float64Array(rowCount),
    size: new Float64Array(rowCount),
    side: sideAt === undefined ? null : new Int8Array(rowCount),
    missing: null,
  };
  const interner = new SymbolInterner();
  const markMissing = (row: number) => {
    trades.missing ??= new Uint8Array(rowCount);
    trades.missing[row] = 1;
  };
  const number = (text: string | undefined, row: number, name: string): number => {
    if (text === undefined || text === "") {
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
    const timestampText = fields[timestampAt] as string;
    if (timestampText === "") markMissing(row);
    else if (!/^-?\d+$/.test(timestampText)) throw new DataError(`${file}:${row + 2}: column "timestamp" is not integer nanoseconds: "${timestampText}"`);
    else trades.timestampNanos[row] = BigInt(timestampText);
    const symbol = fields[symbolAt] as string;
    if (symbol === "") markMissing(row);
    trades.symbolCodes[row] = interner.intern(symbol);
    trades.price[row] = number(fields[priceAt], row, "price");
    trades.size[row] = number(fields[sizeAt], row, "size");
    if (trades.side && sideAt !== undefined) trades.side[row] = SIDE_WORDS[(fields[sideAt] ?? "").toUpperCase()] ?? 0;
  }
  trades.symbolNames = interner.names;
  return trades;
}
