import { DataType, makeVector, type Data, type Table, type Vector } from "apache-arrow";
import { DataError } from "../../core/errors.js";
import { REQUIRED_TRADE_COLUMNS, TRADE_COLUMN_SIDE } from "./formats.js";
import { SymbolInterner } from "./symbol-interner.js";

// Every reader ends here: whatever the file's physical types (Utf8 or dictionary symbols, int or
// float sizes, Int64 or Timestamp[ns] times), the pipeline sees one column-oriented shape made
// of flat typed arrays, so the hot loops never touch Arrow vectors or JavaScript objects.

export interface TradeColumns {
  rowCount: number;
  /** Nanoseconds since the Unix epoch (UTC). */
  timestampNanos: BigInt64Array;
  /** Index into `symbolNames` for each row. */
  symbolCodes: Int32Array;
  symbolNames: string[];
  price: Float64Array;
  size: Float64Array;
  /** +1 buyer-initiated, -1 seller-initiated, 0 unknown; null when the file has no side column. */
  side: Int8Array | null;
  /** 1 where a required field is null; null when no row has a null. */
  missing: Uint8Array | null;
}

function describeType(type: DataType): string {
  return String(type);
}

function chunksOf(table: Table, name: string, file: string): Data[] {
  const vector = table.getChild(name) as Vector | null;
  if (!vector) {
    const present = table.schema.fields.map((field) => field.name).join(", ");
    throw new DataError(`${file}: missing column "${name}" (columns present: ${present || "none"})`);
  }
  return vector.data as Data[];
}

function markNulls(chunks: Data[], missing: { rows: Uint8Array | null; rowCount: number }): void {
  let start = 0;
  for (const chunk of chunks) {
    if (chunk.nullCount > 0) {
      missing.rows ??= new Uint8Array(missing.rowCount);
      for (let index = 0; index < chunk.length; index += 1) if (!chunk.getValid(index)) missing.rows[start + index] = 1;
    }
    start += chunk.length;
  }
}

function readTimestamps(chunks: Data[], rowCount: number, file: string): BigInt64Array {
  const type = chunks[0]?.type;
  const isInt64 = type !== undefined && DataType.isInt(type) && type.bitWidth === 64 && type.isSigned;
  const isNanosTimestamp = type !== undefined && DataType.isTimestamp(type) && type.unit === 3;
  if (type && !isInt64 && !isNanosTimestamp) {
    throw new DataError(`${file}: column "timestamp" has type ${describeType(type)}; expected Int64 or Timestamp[ns] nanoseconds since the epoch`);
  }
  const output = new BigInt64Array(rowCount);
  let start = 0;
  for (const chunk of chunks) {
    output.set((chunk.values as BigInt64Array).subarray(0, chunk.length), start);
    start += chunk.length;
  }
  return output;
}

function readNumbers(chunks: Data[], rowCount: number, name: string, allowIntegers: boolean, file: string): Float64Array {
  const output = new Float64Array(rowCount);
  let start = 0;
  for (const chunk of chunks) {
    const type = chunk.type;
    const values = chunk.values as ArrayLike<number | bigint>;
    if (DataType.isFloat(type) && type.precision >= 1) {
      output.set((values as Float64Array | Float32Array).subarray(0, chunk.length), start);
    } else if (allowIntegers && DataType.isInt(type)) {
      if (type.bitWidth === 64) for (let index = 0; index < chunk.length; index += 1) output[start + index] = Number(values[index]);
      else output.set((values as Int32Array).subarray(0, chunk.length), start);
    } else {
      throw new DataError(`${file}: column "${name}" has type ${describeType(type)}; expected ${allowIntegers ? "a float or integer" : "Float64 or Float32"}`);
    }
    start += chunk.length;
  }
  return output;
}

function dictionaryStrings(chunk: Data): string[] {
  const dictionary = chunk.dictionary as Vector | undefined;
  return dictionary ? (dictionary.toArray() as Array<string | null>).map((value) => value ?? "") : [];
}

function readSymbols(chunks: Data[], rowCount: number, file: string): { codes: Int32Array; names: string[] } {
  const interner = new SymbolInterner();
  const codes = new Int32Array(rowCount);
  let start = 0;
  for (const chunk of chunks) {
    const type = chunk.type;
    if (DataType.isUtf8(type)) {
      interner.internUtf8Column(chunk.valueOffsets as Int32Array, chunk.values as Uint8Array, chunk.length, codes, start);
    } else if (DataType.isDictionary(type) && DataType.isUtf8(type.dictionary)) {
      const remap = Int32Array.from(dictionaryStrings(chunk), (name) => interner.intern(name));
      const indices = chunk.values as Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array;
      for (let index = 0; index < chunk.length; index += 1) codes[start + index] = remap[indices[index] as number] as number;
    } else {
      throw new DataError(`${file}: column "symbol" has type ${describeType(type)}; expected Utf8 or Dictionary<Utf8>`);
    }
    start += chunk.length;
  }
  return { codes, names: interner.names };
}

const SIDE_WORDS: Record<string, number> = { B: 1, BUY: 1, S: -1, SELL: -1 };

function readSide(chunks: Data[], rowCount: number, file: string): Int8Array {
  const output = new Int8Array(rowCount);
  let start = 0;
  for (const chunk of chunks) {
    const type = chunk.type;
    if (DataType.isInt(type)) {
      const values = chunk.values as ArrayLike<number | bigint>;
      for (let index = 0; index < chunk.length; index += 1) output[start + index] = Math.sign(Number(values[index]));
    } else if (DataType.isUtf8(type) || (DataType.isDictionary(type) && DataType.isUtf8(type.dictionary))) {
      // Text sides are rare and small-alphabet: the per-row Vector access is fine here.
      const vector = makeVector(chunk);
      for (let index = 0; index < chunk.length; index += 1) {
        output[start + index] = SIDE_WORDS[String(vector.get(index) ?? "").toUpperCase()] ?? 0;
      }
    } else {
      throw new DataError(`${file}: column "side" has type ${describeType(type)}; expected an integer (+1 buy, -1 sell) or "B"/"S"`);
    }
    start += chunk.length;
  }
  return output;
}

/** Converts an Arrow table of trades to flat typed arrays, checking names and types. */
export function tableToTradeColumns(table: Table, file: string): TradeColumns {
  const rowCount = table.numRows;
  const chunksByName = Object.fromEntries(REQUIRED_TRADE_COLUMNS.map((name) => [name, chunksOf(table, name, file)])) as Record<
    (typeof REQUIRED_TRADE_COLUMNS)[number],
    Data[]
  >;
  const missing = { rows: null as Uint8Array | null, rowCount };
  for (const chunks of Object.values(chunksByName)) markNulls(chunks, missing);
  const symbols = readSymbols(chunksByName.symbol, rowCount, file);
  const sideVector = table.getChild(TRADE_COLUMN_SIDE) as Vector | null;
  return {
    rowCount,
    timestampNanos: readTimestamps(chunksByName.timestamp, rowCount, file),
    symbolCodes: symbols.codes,
    symbolNames: symbols.names,
    price: readNumbers(chunksByName.price, rowCount, "price", false, file),
    size: readNumbers(chunksByName.size, rowCount, "size", true, file),
    side: sideVector ? readSide(sideVector.data as Data[], rowCount, file) : null,
    missing: missing.rows,
  };
}
