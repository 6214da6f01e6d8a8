import { DataType, Dictionary, Int32, makeData, makeVector, Utf8, vectorFromArray, type Data, type Table, type Vector } from "apache-arrow";
import { DataError } from "../../core/errors.js";
import { REQUIRED_TRADE_COLUMNS, TRADE_COLUMN_SIDE } from "./formats.js";
import {
  ARROW_TIME_UNITS,
  DEFAULT_READ_CONTRACT,
  missingColumnError,
  NANOS_PER_UNIT,
  parseIsoTimestampNanos,
  resolveColumnName,
  timestampUnitHint,
  type TimestampUnit,
  type TradeInputColumn,
  type TradeReadContract,
} from "./input-contract.js";
import { SymbolInterner } from "./symbol-interner.js";

// Every reader ends here: whatever the file's physical types (Utf8 or dictionary symbols, int,
// float or decimal prices and sizes, integer times in any unit or Arrow timestamps of any unit,
// with or without a zone), the pipeline sees one column-oriented shape made of flat typed
// arrays, so the hot loops never touch Arrow vectors or JavaScript objects.

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
  /** The configured trade-id column's values as text; absent when none is configured. */
  tradeIds?: string[] | null;
  /** The unit integer timestamps were read in (for the hint when they fall outside the date); absent for typed timestamps. */
  integerTimestampUnit?: TimestampUnit | null;
}

function describeType(type: DataType): string {
  return String(type);
}

/** A file's column for a trade column, or a column of the constant from its Hive partition folder. */
function chunksOf(table: Table, column: TradeInputColumn, file: string, contract: TradeReadContract): Data[] | undefined {
  const present = table.schema.fields.map((field) => field.name);
  const name = resolveColumnName(present, column, contract.settings, file);
  if (name !== undefined) return (table.getChild(name) as Vector).data as Data[];
  const fromPath = contract.pathValues.get((contract.settings.columns[column] ?? column).toLowerCase());
  if (fromPath !== undefined) return [constantUtf8(fromPath, table.numRows)];
  return undefined;
}

/** A dictionary-encoded Utf8 column holding one value (null for Hive's null partition) on every row. */
function constantUtf8(value: string | null, rowCount: number): Data {
  const dictionary = vectorFromArray([value ?? ""], new Utf8());
  const type = new Dictionary(new Utf8(), new Int32());
  const nullBitmap = value === null ? new Uint8Array(Math.ceil(rowCount / 8)) : undefined;
  return makeData({ type, length: rowCount, nullCount: value === null ? rowCount : 0, nullBitmap, data: new Int32Array(rowCount), dictionary });
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

/** Integer times since the epoch in `unit`, scaled to nanoseconds; an overflow names the likely unit. */
function scaleIntegers(values: ArrayLike<number | bigint>, length: number, unit: TimestampUnit, output: BigInt64Array, start: number, file: string): void {
  const factor = NANOS_PER_UNIT[unit];
  const limit = 9_223_372_036_854_775_807n / factor;
  for (let index = 0; index < length; index += 1) {
    const raw = BigInt(values[index] as number | bigint);
    if (raw > limit || raw < -limit) throw new DataError(`${file}: column "timestamp" value ${raw} overflows as ${unit}: ${timestampUnitHint(raw, unit)}`);
    output[start + index] = raw * factor;
  }
}

/** The one chunk's values as they lie in the file's bytes, when no conversion is needed: no copy. */
function isNanosInt64(type: DataType, unit: TimestampUnit): boolean {
  if (DataType.isInt(type)) return unit === "ns" && type.bitWidth === 64 && type.isSigned;
  return DataType.isTimestamp(type) && ARROW_TIME_UNITS[type.unit] === "ns";
}

function readTimestamps(chunks: Data[], rowCount: number, file: string, contract: TradeReadContract): { nanos: BigInt64Array; integerUnit: TimestampUnit | null } {
  const only = chunks.length === 1 ? chunks[0] : undefined;
  if (only && only.length === rowCount && isNanosInt64(only.type, contract.settings.timestamp_unit)) {
    const integerUnit = DataType.isInt(only.type) ? contract.settings.timestamp_unit : null;
    return { nanos: (only.values as BigInt64Array).subarray(0, rowCount), integerUnit };
  }
  const output = new BigInt64Array(rowCount);
  let integerUnit: TimestampUnit | null = null;
  let start = 0;
  for (const chunk of chunks) {
    const type = chunk.type;
    if (DataType.isInt(type)) {
      integerUnit = contract.settings.timestamp_unit;
      if (integerUnit === "ns" && type.bitWidth === 64 && type.isSigned) output.set((chunk.values as BigInt64Array).subarray(0, chunk.length), start);
      else scaleIntegers(chunk.values as ArrayLike<number | bigint>, chunk.length, integerUnit, output, start, file);
    } else if (DataType.isTimestamp(type)) {
      // With a zone or without (Spark's TimestampNTZ): the stored number counts from the epoch in UTC either way.
      const unit = ARROW_TIME_UNITS[type.unit] as TimestampUnit;
      if (unit === "ns") output.set((chunk.values as BigInt64Array).subarray(0, chunk.length), start);
      else scaleIntegers(chunk.values as BigInt64Array, chunk.length, unit, output, start, file);
    } else if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) {
      const vector = makeVector(chunk);
      for (let index = 0; index < chunk.length; index += 1) {
        const text = vector.get(index) as string | null;
        if (text === null) continue;
        const nanos = parseIsoTimestampNanos(text.trim());
        if (nanos === undefined) throw new DataError(`${file}: column "timestamp" holds "${text}", not an ISO 8601 timestamp such as 2026-01-05T14:30:00.123456Z`);
        output[start + index] = nanos;
      }
    } else {
      throw new DataError(`${file}: column "timestamp" has type ${describeType(type)}; expected integer time since the epoch (unit: params.input.timestamp_unit), an Arrow/Parquet timestamp or ISO 8601 text`);
    }
    start += chunk.length;
  }
  return { nanos: output, integerUnit };
}

const TWO_TO_32 = 4_294_967_296;

/** Decimal128 values (four little-endian 32-bit words each, two's complement) as doubles. */
function readDecimals(chunk: Data, scale: number, output: Float64Array, start: number): void {
  const words = chunk.values as Uint32Array;
  const stride = (chunk.type as { bitWidth?: number }).bitWidth === 256 ? 8 : 4;
  const divisor = 10 ** scale;
  for (let index = 0; index < chunk.length; index += 1) {
    const at = index * stride;
    const low = words[at] as number;
    const high = words[at + 1] as number;
    let upperAllSign = true;
    const sign = (high | 0) < 0 ? 0xffffffff : 0;
    for (let word = 2; word < stride; word += 1) if (words[at + word] !== sign) upperAllSign = false;
    // Exact when the unscaled value fits 53 bits; the division then rounds once, as parsing the digits would.
    const small = upperAllSign && Math.abs((high | 0) * TWO_TO_32 + low) <= Number.MAX_SAFE_INTEGER;
    let unscaled: number;
    if (small) unscaled = (high | 0) * TWO_TO_32 + low;
    else {
      let big = 0n;
      for (let word = stride - 1; word >= 0; word -= 1) big = (big << 32n) | BigInt(words[at + word] as number);
      unscaled = Number(BigInt.asIntN(stride * 32, big));
    }
    output[start + index] = scale >= 0 ? unscaled / divisor : unscaled * 10 ** -scale;
  }
}

function readNumbers(chunks: Data[], rowCount: number, name: string, file: string): Float64Array {
  const only = chunks.length === 1 ? chunks[0] : undefined;
  if (only && only.length === rowCount && DataType.isFloat(only.type) && only.values instanceof Float64Array) return only.values.subarray(0, rowCount);
  const output = new Float64Array(rowCount);
  let start = 0;
  for (const chunk of chunks) {
    const type = chunk.type;
    const values = chunk.values as ArrayLike<number | bigint>;
    if (DataType.isFloat(type) && type.precision >= 1) {
      output.set((values as Float64Array | Float32Array).subarray(0, chunk.length), start);
    } else if (DataType.isInt(type)) {
      if (type.bitWidth === 64) for (let index = 0; index < chunk.length; index += 1) output[start + index] = Number(values[index]);
      else output.set((values as Int32Array).subarray(0, chunk.length), start);
    } else if (DataType.isDecimal(type)) {
      readDecimals(chunk, type.scale, output, start);
    } else {
      throw new DataError(`${file}: column "${name}" has type ${describeType(type)}; expected a float, integer or decimal`);
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
    } else if (DataType.isLargeUtf8(type)) {
      // polars and pyarrow's large_string: 64-bit offsets, narrowed (a symbol column never nears 2 GiB).
      const offsets = Int32Array.from(chunk.valueOffsets as unknown as BigInt64Array, (offset) => Number(offset));
      interner.internUtf8Column(offsets, chunk.values as Uint8Array, chunk.length, codes, start);
    } else if (DataType.isDictionary(type) && DataType.isUtf8(type.dictionary)) {
      const remap = Int32Array.from(dictionaryStrings(chunk), (name) => interner.intern(name));
      const indices = chunk.values as Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array;
      for (let index = 0; index < chunk.length; index += 1) codes[start + index] = remap[indices[index] as number] as number;
    } else {
      throw new DataError(`${file}: column "symbol" has type ${describeType(type)}; expected Utf8, LargeUtf8 or Dictionary<Utf8>`);
    }
    start += chunk.length;
  }
  return { codes, names: interner.names };
}

type SmallIntegers = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;

/**
 * The sign of each value without a branch: sides are +1 and -1 at random, so a conditional
 * mispredicted on every other row. (v >> 31) | (-v >>> 31) is -1, 0 or 1 for any 32-bit signed
 * value; unsigned 32-bit values (only 0 or positive) take the plain comparison.
 */
function signsOf(values: SmallIntegers, length: number, output: Int8Array, start: number): void {
  if (values instanceof Uint32Array) {
    for (let index = 0; index < length; index += 1) output[start + index] = values[index] === 0 ? 0 : 1;
    return;
  }
  if (values instanceof Int8Array) {
    for (let index = 0; index < length; index += 1) {
      const value = values[index] as number;
      output[start + index] = (value >> 31) | (-value >>> 31);
    }
    return;
  }
  for (let index = 0; index < length; index += 1) {
    const value = values[index] as number;
    output[start + index] = (value >> 31) | (-value >>> 31);
  }
}

const SIDE_WORDS: Record<string, number> = { B: 1, BUY: 1, S: -1, SELL: -1 };

function readSide(chunks: Data[], rowCount: number, file: string): Int8Array {
  const output = new Int8Array(rowCount);
  let start = 0;
  for (const chunk of chunks) {
    const type = chunk.type;
    if (DataType.isInt(type) && type.bitWidth <= 32) {
      // One monomorphic loop per array type: the generic Number(values[i]) loop cost 5 ns a row.
      signsOf(chunk.values as SmallIntegers, chunk.length, output, start);
    } else if (DataType.isInt(type)) {
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

/** The configured trade-id column as text per row (integers or strings). */
function readTradeIds(chunks: Data[]): string[] {
  const ids: string[] = [];
  for (const chunk of chunks) {
    const vector = makeVector(chunk);
    for (let index = 0; index < chunk.length; index += 1) ids.push(String(vector.get(index) ?? ""));
  }
  return ids;
}

/** Converts an Arrow table of trades to flat typed arrays, checking names and types. */
export function tableToTradeColumns(table: Table, file: string, contract: TradeReadContract = DEFAULT_READ_CONTRACT): TradeColumns {
  const rowCount = table.numRows;
  const present = table.schema.fields.map((field) => field.name);
  const chunksByName = Object.fromEntries(
    REQUIRED_TRADE_COLUMNS.map((name) => {
      const chunks = chunksOf(table, name, file, contract);
      if (!chunks) throw missingColumnError(file, name, contract.settings, present);
      return [name, chunks];
    }),
  ) as Record<(typeof REQUIRED_TRADE_COLUMNS)[number], Data[]>;
  const missing = { rows: null as Uint8Array | null, rowCount };
  for (const chunks of Object.values(chunksByName)) markNulls(chunks, missing);
  const symbols = readSymbols(chunksByName.symbol, rowCount, file);
  const sideChunks = chunksOf(table, TRADE_COLUMN_SIDE, file, contract);
  let tradeIds: string[] | null = null;
  if (contract.settings.trade_id !== null) {
    const name = resolveColumnName(present, "trade_id", contract.settings, file);
    if (name === undefined) throw missingColumnError(file, "trade_id", contract.settings, present);
    tradeIds = readTradeIds((table.getChild(name) as Vector).data as Data[]);
  }
  const timestamps = readTimestamps(chunksByName.timestamp, rowCount, file, contract);
  return {
    rowCount,
    timestampNanos: timestamps.nanos,
    symbolCodes: symbols.codes,
    symbolNames: symbols.names,
    price: readNumbers(chunksByName.price, rowCount, "price", file),
    size: readNumbers(chunksByName.size, rowCount, "size", file),
    side: sideChunks ? readSide(sideChunks, rowCount, file) : null,
    missing: missing.rows,
    tradeIds,
    integerTimestampUnit: timestamps.integerUnit,
  };
}
