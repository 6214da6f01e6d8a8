import { tableFromIPC, type Table } from "apache-arrow";
import { readParquet } from "parquet-wasm";
import { DataError } from "../../core/errors.js";
import { detectTradeFileFormat, type TradeFileFormat } from "./formats.js";
import { DEFAULT_READ_CONTRACT, type TradeReadContract } from "./input-contract.js";
import { parseTradesCsv } from "./read-csv.js";
import { tableToTradeColumns, type TradeColumns } from "./trade-columns.js";
import { readFileOr } from "../../core/files.js";

// Parquet goes through parquet-wasm (the Rust parquet crate in WebAssembly) into an Arrow IPC
// stream, then apache-arrow; Arrow IPC is read by apache-arrow directly; CSV by our own parser.

/** Large batches: parquet-wasm's default of 1,024 rows makes thousands of tiny JS chunks. */
const PARQUET_BATCH_ROWS = 1 << 20;

export interface ReadTrades {
  format: TradeFileFormat;
  trades: TradeColumns;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function parquetToTable(bytes: Uint8Array, file: string): Table {
  try {
    const wasmTable = readParquet(bytes, { batchSize: PARQUET_BATCH_ROWS });
    return tableFromIPC(wasmTable.intoIPCStream());
  } catch (error) {
    throw new DataError(`${file}: cannot decode Parquet: ${reason(error)}`, { cause: error });
  }
}

function arrowToTable(bytes: Uint8Array, file: string): Table {
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (error) {
    throw new DataError(`${file}: cannot decode Arrow IPC: ${reason(error)}`, { cause: error });
  }
  if (table.schema.fields.length === 0) throw new DataError(`${file}: Arrow IPC data has no schema or columns`);
  return table;
}

/** Decodes trade file bytes already in memory (the caller hashes the same buffer). */
export function decodeTrades(bytes: Uint8Array, file: string, contract: TradeReadContract = DEFAULT_READ_CONTRACT): ReadTrades {
  const format = detectTradeFileFormat(bytes, file);
  if (format === "csv") return { format, trades: parseTradesCsv(bytes, file, contract) };
  const table = format === "parquet" ? parquetToTable(bytes, file) : arrowToTable(bytes, file);
  return { format, trades: tableToTradeColumns(table, file, contract) };
}

/** Reads one trade file in Parquet, Arrow IPC (file or stream) or CSV. */
export async function readTradesFile(file: string, contract: TradeReadContract = DEFAULT_READ_CONTRACT): Promise<ReadTrades> {
  const bytes = await readFileOr(file, (why, cause) => new DataError(`cannot read trade file ${file}: ${why}`, { cause }));
  return decodeTrades(bytes, file, contract);
}
