import path from "node:path";
import { DataError } from "../../core/errors.js";

// The three trade file formats, told apart by their magic bytes first and their extension
// second: a Parquet file renamed to .csv is still read as Parquet, while a file whose magic
// contradicts its extension (a truncated download, say) is refused with a clear message.

export const TRADE_FILE_FORMATS = ["parquet", "arrow", "csv"] as const;
export type TradeFileFormat = (typeof TRADE_FILE_FORMATS)[number];

/** Parquet files start and end with these four bytes. */
export const PARQUET_MAGIC = "PAR1";
/** Arrow IPC files start with these six bytes (then two bytes of padding) and end with them. */
export const ARROW_FILE_MAGIC = "ARROW1";
/** Arrow IPC streams start with the continuation marker 0xFFFFFFFF of their first message. */
export const ARROW_STREAM_CONTINUATION = 0xffffffff;

export const PARQUET_EXTENSIONS = [".parquet", ".pq"] as const;
export const ARROW_EXTENSIONS = [".arrow", ".arrows", ".feather", ".ipc"] as const;
export const CSV_EXTENSIONS = [".csv"] as const;

/** Input column names; `side` is optional (+1 buy, -1 sell; the tick rule is used without it). */
export const TRADE_COLUMN_TIMESTAMP = "timestamp";
export const TRADE_COLUMN_SYMBOL = "symbol";
export const TRADE_COLUMN_PRICE = "price";
export const TRADE_COLUMN_SIZE = "size";
export const TRADE_COLUMN_SIDE = "side";
export const REQUIRED_TRADE_COLUMNS = [TRADE_COLUMN_TIMESTAMP, TRADE_COLUMN_SYMBOL, TRADE_COLUMN_PRICE, TRADE_COLUMN_SIZE] as const;

export function formatFromExtension(file: string): TradeFileFormat | undefined {
  const extension = path.extname(file).toLowerCase();
  if ((PARQUET_EXTENSIONS as readonly string[]).includes(extension)) return "parquet";
  if ((ARROW_EXTENSIONS as readonly string[]).includes(extension)) return "arrow";
  if ((CSV_EXTENSIONS as readonly string[]).includes(extension)) return "csv";
  return undefined;
}

function startsWithText(bytes: Uint8Array, text: string, at = 0): boolean {
  if (bytes.length < at + text.length) return false;
  for (let index = 0; index < text.length; index += 1) {
    if (bytes[at + index] !== text.charCodeAt(index)) return false;
  }
  return true;
}

function isArrowStream(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint32(0, true) === ARROW_STREAM_CONTINUATION;
}

/** Identifies a trade file from its bytes; throws a DataError for anything else. */
export function detectTradeFileFormat(bytes: Uint8Array, file: string): TradeFileFormat {
  const byExtension = formatFromExtension(file);
  if (startsWithText(bytes, PARQUET_MAGIC)) {
    if (!startsWithText(bytes, PARQUET_MAGIC, bytes.length - PARQUET_MAGIC.length)) {
      throw new DataError(`${file}: starts with ${PARQUET_MAGIC} but does not end with it: a truncated or corrupt Parquet file`);
    }
    return "parquet";
  }
  if (startsWithText(bytes, ARROW_FILE_MAGIC)) {
    if (!startsWithText(bytes, ARROW_FILE_MAGIC, bytes.length - ARROW_FILE_MAGIC.length)) {
      throw new DataError(`${file}: starts with ${ARROW_FILE_MAGIC} but does not end with it: a truncated or corrupt Arrow IPC file`);
    }
    return "arrow";
  }
  if (isArrowStream(bytes)) return "arrow";
  const looksLikeCsv = startsWithText(bytes, TRADE_COLUMN_TIMESTAMP);
  // CSV text under a binary format's name is an export gone wrong: say so rather than guess.
  if (looksLikeCsv && (byExtension === "parquet" || byExtension === "arrow")) {
    throw new DataError(`${file}: named .${path.extname(file).slice(1)} but holds CSV text (a "${TRADE_COLUMN_TIMESTAMP},…" header): rename it to .csv or export it as ${byExtension === "parquet" ? "Parquet" : "Arrow IPC"}`);
  }
  if (byExtension === "csv" || looksLikeCsv) return "csv";
  if (byExtension === "parquet") throw new DataError(`${file}: not a Parquet file (no ${PARQUET_MAGIC} magic bytes)`);
  if (byExtension === "arrow") throw new DataError(`${file}: not an Arrow IPC file or stream (no ${ARROW_FILE_MAGIC} magic bytes or stream marker)`);
  throw new DataError(`${file}: unknown trade file format (expected Parquet, Arrow IPC or CSV with a "${TRADE_COLUMN_TIMESTAMP},…" header)`);
}
