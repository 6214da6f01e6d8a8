import { z } from "zod";
import { DataError } from "../../core/errors.js";

// The tick input contract: how trade files written by other producers (Spark jobs, lakehouse
// exports, pyarrow) map onto the five trade columns. Column names match case-insensitively and
// can be renamed in the spec (`params.input.columns`), integer timestamps carry a configured
// unit, Hive partition folders below the date folder (`symbol=AAPL/`) stand in for columns the
// files lack, and the date partition key is configurable for producers that write `dt=`.

export const TRADE_INPUT_COLUMNS = ["timestamp", "symbol", "price", "size", "side"] as const;
export type TradeInputColumn = (typeof TRADE_INPUT_COLUMNS)[number];

export const TIMESTAMP_UNITS = ["s", "ms", "us", "ns"] as const;
export type TimestampUnit = (typeof TIMESTAMP_UNITS)[number];

/** Nanoseconds per unit; also the factor from Arrow's TimeUnit (SECOND=0 … NANOSECOND=3). */
export const NANOS_PER_UNIT: Record<TimestampUnit, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n };
export const ARROW_TIME_UNITS: readonly TimestampUnit[] = ["s", "ms", "us", "ns"];
const UNIT_WORDS: Record<TimestampUnit, string> = { s: "seconds", ms: "milliseconds", us: "microseconds", ns: "nanoseconds" };

/** Spark's (and Hive's) marker for a null partition value. */
export const HIVE_NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__";
export const DEFAULT_PARTITION_KEY = "date";

const columnName = z.string().min(1);

export const tickInputSchema = z.strictObject({
  columns: z
    .strictObject({ timestamp: columnName.optional(), symbol: columnName.optional(), price: columnName.optional(), size: columnName.optional(), side: columnName.optional() })
    .default({})
    .describe("file column name for each trade column, when it is not the trade column's own name (matched case-insensitively)"),
  timestamp_unit: z.enum(TIMESTAMP_UNITS).default("ns").describe("unit of integer timestamps since the epoch (typed Arrow/Parquet timestamps carry their own)"),
  partition_key: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected a Hive partition key such as date or dt")
    .default(DEFAULT_PARTITION_KEY)
    .describe("the key of the input's date partition folders (<key>=YYYY-MM-DD)"),
  trade_id: columnName.nullable().default(null).describe("column with a trade id unique per symbol and date: repeated ids are rejected as duplicates"),
});

export type TickInputSettings = z.infer<typeof tickInputSchema>;
export const DEFAULT_TICK_INPUT: TickInputSettings = tickInputSchema.parse({});

/** What one file's reader needs beyond its bytes: the settings and the file's partition values. */
export interface TradeReadContract {
  settings: TickInputSettings;
  /** Hive `key=value` folders between the date folder and the file, keys lower-cased; null for Hive's null marker. */
  pathValues: ReadonlyMap<string, string | null>;
}

export const DEFAULT_READ_CONTRACT: TradeReadContract = { settings: DEFAULT_TICK_INPUT, pathValues: new Map() };

/** True when the settings differ from the defaults (only then do they enter fingerprints and manifests). */
export function isDefaultInput(settings: TickInputSettings): boolean {
  return (
    Object.keys(settings.columns).length === 0 &&
    settings.timestamp_unit === DEFAULT_TICK_INPUT.timestamp_unit &&
    settings.partition_key === DEFAULT_TICK_INPUT.partition_key &&
    settings.trade_id === null
  );
}

/** Hive-escaped partition values (`%2F` for `/`, as Spark writes them), decoded. */
function unescapeHive(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** The `key=value` folders of a file path relative to its date folder (`symbol=AAPL/part-0.parquet`). */
export function hivePathValues(relativeToDateFolder: string): Map<string, string | null> {
  const values = new Map<string, string | null>();
  const folders = relativeToDateFolder.split(/[\\/]/).slice(0, -1);
  for (const folder of folders) {
    const equals = folder.indexOf("=");
    if (equals <= 0) continue;
    const value = unescapeHive(folder.slice(equals + 1));
    values.set(unescapeHive(folder.slice(0, equals)).toLowerCase(), value === HIVE_NULL_PARTITION ? null : value);
  }
  return values;
}

/**
 * The file's column for a trade column: the mapped name (or the trade column's own) exactly,
 * else the one column equal to it ignoring case; undefined when the file has none.
 */
export function resolveColumnName(present: readonly string[], column: TradeInputColumn | "trade_id", settings: TickInputSettings, file: string): string | undefined {
  const wanted = column === "trade_id" ? (settings.trade_id as string) : (settings.columns[column] ?? column);
  if (present.includes(wanted)) return wanted;
  const matches = present.filter((name) => name.toLowerCase() === wanted.toLowerCase());
  if (matches.length > 1) {
    throw new DataError(`${file}: columns ${matches.map((name) => `"${name}"`).join(" and ")} differ only in case: map the ${column} column with params.input.columns.${column}`);
  }
  return matches[0];
}

export function missingColumnError(file: string, column: TradeInputColumn | "trade_id", settings: TickInputSettings, present: readonly string[]): DataError {
  const wanted = column === "trade_id" ? (settings.trade_id as string) : (settings.columns[column] ?? column);
  const fix = column === "trade_id" ? "params.input.trade_id" : `params.input.columns.${column}`;
  return new DataError(`${file}: missing column "${wanted}" (columns present: ${present.join(", ") || "none"}; name the ${column} column with ${fix})`);
}

const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Nanoseconds since the epoch of an ISO 8601 timestamp (no zone: UTC); undefined when it is not one. */
export function parseIsoTimestampNanos(text: string): bigint | undefined {
  const match = ISO_TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction = "", zone = "Z"] = match as unknown as string[];
  const millis = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  const check = new Date(millis);
  if (Number.isNaN(millis) || check.getUTCDate() !== Number(day) || check.getUTCHours() !== Number(hour)) return undefined;
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== "Z") {
    const digits = zone.slice(1).replace(":", "");
    offsetMinutes = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || "0")) * (zone.startsWith("-") ? -1 : 1);
  }
  const fractionNanos = BigInt((fraction + "000000000").slice(0, 9));
  return (BigInt(millis) - BigInt(offsetMinutes) * 60_000n) * 1_000_000n + fractionNanos;
}

const EARLIEST_PLAUSIBLE = BigInt(Date.UTC(1980, 0, 1)) * 1_000_000n;
const LATEST_PLAUSIBLE = BigInt(Date.UTC(2200, 0, 1)) * 1_000_000n;

/**
 * For a raw integer timestamp outside its partition date, read as `unit`: the hint that names
 * the unit the raw value looks like, or where it falls, so the operator can fix the spec.
 */
export function timestampUnitHint(raw: bigint, unit: TimestampUnit): string {
  for (const candidate of [...TIMESTAMP_UNITS].reverse()) {
    const asNanos = raw * NANOS_PER_UNIT[candidate];
    if (asNanos < EARLIEST_PLAUSIBLE || asNanos >= LATEST_PLAUSIBLE) continue;
    const day = new Date(Number(asNanos / 1_000_000n)).toISOString().slice(0, 10);
    if (candidate === unit) return `integer timestamps (${raw}) read as ${UNIT_WORDS[unit]} fall on ${day}: are the files under the right date folder?`;
    return `integer timestamp values (${raw}) look like ${UNIT_WORDS[candidate]} since the epoch (${day}); set params.input.timestamp_unit: ${candidate}`;
  }
  return `integer timestamp values (${raw}) are no plausible time in any unit (s, ms, us, ns since the epoch)`;
}
