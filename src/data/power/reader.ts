import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { DataError } from "../../core/errors.js";
import { COLUMN_COUNT, isoMinute, MINUTE_MS, parseDate, parseTime, parseValue, POWER_HEADER, VALUE_BOUNDS, VALUE_COLUMNS, type ValueColumn } from "./format.js";
import { sha256Hex } from "../../core/hash.js";

const MINIMUM = Float64Array.from(VALUE_COLUMNS, (column) => VALUE_BOUNDS[column].min);
const MAXIMUM = Float64Array.from(VALUE_COLUMNS, (column) => VALUE_BOUNDS[column].max);

// Streaming reader: the real file is 127 MB / 2,075,259 rows, so rows are parsed chunk by chunk
// and handed to a callback, never held in memory, and the SHA-256 of the bytes is computed in
// the same pass. Measured on a 2.08M-row synthetic file (2 shared cores, benchmarks/power-reader.mjs):
// node:readline alone, only splitting lines, ran at 0.8-1.5M lines/s; a chunked reader with
// split(";") + Number() at 0.14M rows/s; this chunked scanner (no per-field substrings) at
// 0.6-1.5M rows/s, i.e. the real file in 1.5-3.5 s.

export type PowerSource = { file: string } | { directory: string };

export interface PowerFileSummary {
  path: string;
  sha256: string;
  rows: number;
}

export interface PowerReadSummary {
  files: PowerFileSummary[];
  rows: number;
  /** Missing (`?` or empty) values per column: counted, never turned into zeros. */
  missingByColumn: Record<ValueColumn, number>;
  /** Values outside the column's physical range (VALUE_BOUNDS): treated as missing, counted here. */
  rejectedByColumn: Record<ValueColumn, number>;
  /** Rows where every measurement is missing (the real file's outage rows). */
  fullyMissingRows: number;
  /** Minutes absent from the file altogether between consecutive rows. */
  absentMinutes: number;
  firstTimestamp: number;
  lastTimestamp: number;
  /** SHA-256 of the file, or of the sorted "name:sha256" list for a directory. */
  dataVersion: string;
}

/** Called once per data row. `values` is reused between calls: copy what you keep. */
export type RowHandler = (timestamp: number, values: Float64Array) => void;

const DATA_FILE = /\.(txt|csv)$/i;

export async function listPowerFiles(source: PowerSource): Promise<string[]> {
  if ("file" in source) {
    if (!(await stat(source.file).then((info) => info.isFile(), () => false))) {
      throw new DataError(`power data file ${source.file} not found (get it with \`train data fetch power\` or make one with \`train power generate\`)`);
    }
    return [path.resolve(source.file)];
  }
  const directory = path.resolve(source.directory);
  const entries = await readdir(directory).catch(() => {
    throw new DataError(`power data directory ${directory} not found`);
  });
  const files = entries.filter((name) => DATA_FILE.test(name)).map((name) => path.join(directory, name));
  if (files.length === 0) throw new DataError(`${directory} holds no .txt or .csv files in the household power format`);
  // Daily files are ordered by the date they hold, not by name: "1/2/2007.txt" style names do not sort.
  const keyed = await Promise.all(files.map(async (file) => ({ file, first: await firstTimestamp(file) })));
  return keyed.sort((left, right) => left.first - right.first || left.file.localeCompare(right.file)).map(({ file }) => file);
}

async function firstTimestamp(file: string): Promise<number> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const lines = buffer.subarray(0, bytesRead).toString("latin1").split("\n");
    const row = lines[1]?.replace(/\r$/, "");
    if (!row) return Number.POSITIVE_INFINITY;
    const [date = "", time = ""] = row.split(";");
    return parseDate(date, `${file}:2`) + parseTime(time, `${file}:2`);
  } finally {
    await handle.close();
  }
}

export async function readPowerData(source: PowerSource, onRow: RowHandler): Promise<PowerReadSummary> {
  const files = await listPowerFiles(source);
  const state: ReaderState = {
    missing: new Float64Array(VALUE_COLUMNS.length),
    rejected: new Float64Array(VALUE_COLUMNS.length),
    values: new Float64Array(VALUE_COLUMNS.length),
    previous: Number.NEGATIVE_INFINITY,
    first: Number.NaN,
    fullyMissingRows: 0,
    absentMinutes: 0,
    dateCache: { text: "", time: 0 },
  };
  const summaries: PowerFileSummary[] = [];
  for (const file of files) summaries.push(await readOneFile(file, state, onRow));
  const rows = summaries.reduce((total, file) => total + file.rows, 0);
  if (rows === 0) throw new DataError(`${files.join(", ")}: no data rows after the header`);
  // The forecast target: without one usable reading there is nothing to learn, whatever the span.
  const target = VALUE_COLUMNS.indexOf("global_active_power");
  if (state.missing[target]! + state.rejected[target]! >= rows) {
    const bounds = VALUE_BOUNDS.global_active_power;
    throw new DataError(
      `${files.join(", ")}: none of the ${rows} rows has a usable Global_active_power (${state.missing[target]} missing "?", ${state.rejected[target]} outside ${bounds.min}-${bounds.max} ${bounds.unit}): check the file or its export`,
    );
  }
  const dataVersion = summaries.length === 1
    ? summaries[0]!.sha256
    : sha256Hex(summaries.map((file) => `${path.basename(file.path)}:${file.sha256}`).sort().join("\n"));
  return {
    files: summaries,
    rows,
    missingByColumn: Object.fromEntries(VALUE_COLUMNS.map((column, index) => [column, state.missing[index]!])) as Record<ValueColumn, number>,
    rejectedByColumn: Object.fromEntries(VALUE_COLUMNS.map((column, index) => [column, state.rejected[index]!])) as Record<ValueColumn, number>,
    fullyMissingRows: state.fullyMissingRows,
    absentMinutes: state.absentMinutes,
    firstTimestamp: state.first,
    lastTimestamp: state.previous,
    dataVersion,
  };
}

interface ReaderState {
  missing: Float64Array;
  rejected: Float64Array;
  values: Float64Array;
  previous: number;
  first: number;
  fullyMissingRows: number;
  absentMinutes: number;
  dateCache: { text: string; time: number };
}

async function readOneFile(file: string, state: ReaderState, onRow: RowHandler): Promise<PowerFileSummary> {
  const hash = createHash("sha256");
  let carry = "";
  let lineNumber = 0;
  let rows = 0;
  const handleLine = (raw: string) => {
    lineNumber += 1;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (lineNumber === 1) {
      // A UTF-8 byte-order mark read as latin1 is "ï»¿".
      const header = line.startsWith("\u00ef\u00bb\u00bf") ? line.slice(3) : line;
      if (header !== POWER_HEADER) throw new DataError(`${file}:1: header ${JSON.stringify(header.slice(0, 200))} is not the household power header "${POWER_HEADER}"`);
      return;
    }
    if (line === "") return;
    parseRow(line, file, lineNumber, state);
    rows += 1;
    onRow(state.previous, state.values);
  };
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    const text = carry + chunk.toString("latin1");
    let start = 0;
    for (let end = text.indexOf("\n", start); end !== -1; end = text.indexOf("\n", start)) {
      handleLine(text.slice(start, end));
      start = end + 1;
    }
    carry = text.slice(start);
  }
  if (carry !== "") handleLine(carry);
  if (lineNumber === 0) throw new DataError(`${file}: empty file (expected the household power header)`);
  return { path: file, sha256: hash.digest("hex"), rows };
}

const POWERS_OF_TEN = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * Plain decimals ("234.840", "-0.5") parsed from character codes without allocating a
 * substring: profiling showed substring + Number() + GC as most of the reader's time. With at
 * most 15 digits the integer mantissa is exact and one IEEE division by an exact power of ten
 * is correctly rounded, so the result equals Number(text). Anything else returns undefined and
 * goes through the general parser (which also reports errors).
 */
function fastDecimal(line: string, start: number, end: number): number | undefined {
  let index = start;
  const negative = line.charCodeAt(index) === 45;
  if (negative) index += 1;
  let mantissa = 0;
  let digits = 0;
  let decimals = 0;
  let seenPoint = false;
  for (; index < end; index += 1) {
    const code = line.charCodeAt(index);
    if (code >= 48 && code <= 57) {
      mantissa = mantissa * 10 + (code - 48);
      digits += 1;
      if (seenPoint) decimals += 1;
    } else if (code === 46 && !seenPoint) seenPoint = true;
    else return undefined;
  }
  if (digits === 0 || digits > 15) return undefined;
  const value = decimals === 0 ? mantissa : mantissa / POWERS_OF_TEN[decimals]!;
  return negative ? -value : value;
}

function columnCountError(line: string, where: string): DataError {
  return new DataError(`${where}: ${line.split(";").length} columns, expected ${COLUMN_COUNT} separated by ";"`);
}

function parseRow(line: string, file: string, lineNumber: number, state: ReaderState): void {
  const where = () => `${file}:${lineNumber}`;
  const dateEnd = line.indexOf(";");
  const timeEnd = dateEnd < 0 ? -1 : line.indexOf(";", dateEnd + 1);
  if (timeEnd < 0) throw columnCountError(line, where());
  const dateText = line.slice(0, dateEnd);
  if (dateText !== state.dateCache.text) state.dateCache = { text: dateText, time: parseDate(dateText, where()) };
  const timestamp = state.dateCache.time + parseTime(line.slice(dateEnd + 1, timeEnd), where());
  if (timestamp <= state.previous) {
    throw new DataError(`${where()}: ${isoMinute(timestamp)} does not come after the previous row (${isoMinute(state.previous)}); rows must be in time order without duplicates`);
  }
  let missingHere = 0;
  let start = timeEnd + 1;
  for (let column = 0; column < VALUE_COLUMNS.length; column += 1) {
    const last = column === VALUE_COLUMNS.length - 1;
    const end = last ? line.length : line.indexOf(";", start);
    if (end < 0 || (last && line.indexOf(";", start) >= 0)) throw columnCountError(line, where());
    const single = end - start === 1 && line.charCodeAt(start) === 63; // "?"
    let value = end === start || single ? Number.NaN
      : (fastDecimal(line, start, end) ?? parseValue(line.slice(start, end), VALUE_COLUMNS[column]!, where()));
    if (value < MINIMUM[column]! || value > MAXIMUM[column]!) {
      state.rejected[column] = state.rejected[column]! + 1;
      value = Number.NaN;
      missingHere += 1;
    } else if (Number.isNaN(value)) {
      state.missing[column] = state.missing[column]! + 1;
      missingHere += 1;
    }
    state.values[column] = value;
    start = end + 1;
  }
  if (missingHere === VALUE_COLUMNS.length) state.fullyMissingRows += 1;
  if (Number.isFinite(state.previous)) state.absentMinutes += Math.max(0, Math.round((timestamp - state.previous) / MINUTE_MS) - 1);
  else state.first = timestamp;
  state.previous = timestamp;
}
