import { Field, Int64, Int8, makeData, RecordBatch, Schema, Struct, Table, tableToIPC, Utf8, Float64, vectorFromArray, type Data } from "apache-arrow";
import { Compression, Table as WasmTable, writeParquet, WriterPropertiesBuilder } from "parquet-wasm";
import { writeFileAtomic } from "../../core/fs-atomic.js";
import type { TradeFileFormat } from "./formats.js";
import type { TradeColumns } from "./trade-columns.js";

// Writes trades in any of the three input formats (the synthetic generator and the tests use it).
// Symbols are written as plain Utf8, the most common physical type in real trade files.

export function tradesTable(trades: TradeColumns): Table {
  const length = trades.rowCount;
  const symbols = Array.from(trades.symbolCodes, (code) => trades.symbolNames[code] as string);
  const entries: Array<[string, Data]> = [
    ["timestamp", makeData({ type: new Int64(), length, data: trades.timestampNanos })],
    ["symbol", vectorFromArray(symbols, new Utf8()).data[0] as Data],
    ["price", makeData({ type: new Float64(), length, data: trades.price })],
    ["size", makeData({ type: new Float64(), length, data: trades.size })],
  ];
  if (trades.side) entries.push(["side", makeData({ type: new Int8(), length, data: trades.side })]);
  const fields = entries.map(([name, data]) => new Field(name, data.type, false));
  const schema = new Schema(fields);
  const children = entries.map(([, data]) => data);
  return new Table(schema, [new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children }))]);
}

export function tradesCsv(trades: TradeColumns): string {
  const header = trades.side ? "timestamp,symbol,price,size,side" : "timestamp,symbol,price,size";
  const lines = [header];
  for (let row = 0; row < trades.rowCount; row += 1) {
    const fields = [String(trades.timestampNanos[row]), trades.symbolNames[trades.symbolCodes[row] as number], String(trades.price[row]), String(trades.size[row])];
    if (trades.side) fields.push(String(trades.side[row]));
    lines.push(fields.join(","));
  }
  return `${lines.join("\n")}\n`;
}

export function encodeTrades(trades: TradeColumns, format: TradeFileFormat): Uint8Array {
  if (format === "csv") return new TextEncoder().encode(tradesCsv(trades));
  const table = tradesTable(trades);
  if (format === "arrow") return tableToIPC(table, "file");
  const properties = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).build();
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(table, "stream")), properties);
}

export async function writeTradesFile(file: string, trades: TradeColumns, format: TradeFileFormat): Promise<void> {
  await writeFileAtomic(file, encodeTrades(trades, format));
}
