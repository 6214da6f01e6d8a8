import { open } from "node:fs/promises";
import path from "node:path";
import { hivePathValues, NANOS_PER_UNIT, timestampUnitHint, type TickInputSettings } from "../../data/tick/input-contract.js";
import { dayStartNanos, listPartitionFiles, NANOS_PER_DAY } from "../../data/tick/partitions.js";
import { QuarantineWriter } from "../../data/tick/quarantine.js";
import { decodeTrades } from "../../data/tick/read-trades.js";
import { OrderScratch, orderTrades, type OrderedTrades } from "../../data/tick/time-order.js";
import type { TradeColumns } from "../../data/tick/trade-columns.js";
import { createValidationState, emptyRejectCounts, validateTrades, ValidationScratch, type RejectCounts, type ValidatedTrades } from "../../data/tick/validate.js";
import { DataError } from "../../core/errors.js";
import { BarAccumulator, type DayBars, type TickRuleState } from "./bars.js";
import type { InputFileEntry } from "./manifest.js";
import { barNanos, type TickFeatureParams } from "./params.js";
import { failureReason } from "../../core/files.js";
import { sha256Hex } from "../../core/hash.js";

// One partition's input: its files read once into memory (hashed from the same bytes that are
// decoded), decoded under the input contract, merged and put in time order per symbol
// (time-order.ts), then validated and rolled up into bars.

export interface RawInputFile {
  /** Path relative to the input root, with forward slashes (stable across machines). */
  path: string;
  bytes: Uint8Array;
  sha256: string;
}

export interface PreparedDay {
  date: string;
  bars: DayBars;
  inputs: InputFileEntry[];
  rowsRead: number;
  rowsAccepted: number;
  rejectCounts: RejectCounts;
  quarantine: QuarantineWriter;
  /** Why rows fell outside the date when the timestamps were integers (the unit they look like); null otherwise. */
  timestampHint: string | null;
  /** Whether the rows had to be reordered into time order. */
  reordered: boolean;
}

// Read buffers are reused within a thread: a fresh 30 MB buffer per file costs about 8,000
// page faults that the kernel zero-fills. A range run hands a date's buffers back
// (releaseInput) once the next date, which used them as lookback, is done with them.
const POOLED_MIN_BYTES = 1 << 20;
const MAX_SPARE_BUFFERS = 3;
const spareBuffers: ArrayBuffer[] = [];
const pooledBuffers = new WeakSet<ArrayBuffer>();

function takeReadBuffer(size: number): Uint8Array {
  if (size < POOLED_MIN_BYTES) return new Uint8Array(size);
  let best = -1;
  spareBuffers.forEach((buffer, index) => {
    if (buffer.byteLength >= size && (best < 0 || buffer.byteLength < (spareBuffers[best] as ArrayBuffer).byteLength)) best = index;
  });
  const buffer = best >= 0 ? (spareBuffers.splice(best, 1)[0] as ArrayBuffer) : new ArrayBuffer(size);
  pooledBuffers.add(buffer);
  return new Uint8Array(buffer, 0, size);
}

/**
 * Gives these files' read buffers back for reuse. The caller guarantees that nothing reads
 * them any more (nothing keeps trade columns, which are views into them, past prepareDay);
 * `bytes` is emptied so that a mistaken later use fails to decode instead of reading another file.
 */
export function releaseInput(files: readonly RawInputFile[]): void {
  for (const file of files) {
    const buffer = file.bytes.buffer;
    file.bytes = new Uint8Array(0);
    if (!(buffer instanceof ArrayBuffer) || !pooledBuffers.has(buffer)) continue;
    pooledBuffers.delete(buffer);
    if (spareBuffers.length < MAX_SPARE_BUFFERS && !spareBuffers.includes(buffer)) spareBuffers.push(buffer);
  }
}

/**
 * The whole file in one read where the size is known: fs.promises.readFile reads large files in
 * 512 KiB pieces, one thread-pool round trip each (60 per 30 MB file), which showed as idle time in the profile.
 */
async function readWholeFile(file: string): Promise<Uint8Array> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    const bytes = takeReadBuffer(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    // A file that grew while being read: fall back to the plain read of whatever it holds now.
    if (filled < size || (await handle.read(new Uint8Array(1), 0, 1, size)).bytesRead > 0) return await handle.readFile();
    return bytes;
  } finally {
    await handle.close();
  }
}

/** Raw input by date, each entry read (or still being read) once. */
export type InputCache = Map<string, Promise<RawInputFile[]>>;

/**
 * Starts reading and hashing `date` into `cache` while the caller computes an earlier date, so
 * the reads overlap the computation instead of following it. A failure is not lost: it is
 * thrown where the date is used, with the same error as a read at that point.
 */
export function prefetchPartitionInput(cache: InputCache, inputRoot: string, date: string | undefined, key?: string): void {
  if (date === undefined || cache.has(date)) return;
  const reading = readPartitionInput(inputRoot, date, key);
  reading.catch(() => undefined);
  cache.set(date, reading);
}

export async function readPartitionInput(inputRoot: string, date: string, key?: string): Promise<RawInputFile[]> {
  const files = await listPartitionFiles(inputRoot, date, key);
  return Promise.all(
    files.map(async (file) => {
      let bytes: Uint8Array;
      try {
        bytes = await readWholeFile(file);
      } catch (cause) {
        throw new DataError(`cannot read trade file ${file}: ${failureReason(cause)}`, { cause });
      }
      const relative = path.relative(inputRoot, file).split(path.sep).join("/");
      return { path: relative, bytes, sha256: sha256Hex(bytes) };
    }),
  );
}

/** The input contract's hint for the first integer timestamp outside the date, if any. */
function outsideDateHint(ordered: OrderedTrades, validated: ValidatedTrades, input: TickInputSettings): string | null {
  const unit = ordered.trades.integerTimestampUnit;
  if (!unit || validated.rejectCounts.outside_partition_date === 0) return null;
  const { timestampNanos, missing } = ordered.trades;
  for (let row = 0; row < ordered.trades.rowCount; row += 1) {
    if (missing?.[row] === 1) continue;
    const nanosOfDay = validated.nanosOfDay[row] as number;
    if (nanosOfDay >= 0 && nanosOfDay < 86_400_000_000_000) continue;
    return timestampUnitHint((timestampNanos[row] as bigint) / NANOS_PER_UNIT[unit], input.timestamp_unit);
  }
  return null;
}

/** This thread's reused arrays: prepareDay's ordered and validated rows die before it returns. */
const validationScratch = new ValidationScratch();
const orderScratch = new OrderScratch();

export function prepareDay(
  date: string,
  files: readonly RawInputFile[],
  params: TickFeatureParams,
  entryTickState?: ReadonlyMap<string, TickRuleState>,
): PreparedDay {
  const universe = params.universe ? new Set(params.universe) : null;
  const settings = params.input;
  const decoded: TradeColumns[] = [];
  const inputs: InputFileEntry[] = [];
  for (const file of files) {
    // Partition folders below the date folder (`date=D/symbol=AAPL/part-0.parquet`) stand in for missing columns.
    const pathValues = hivePathValues(file.path.split("/").slice(1).join("/"));
    const { format, trades } = decodeTrades(file.bytes, file.path, { settings, pathValues });
    decoded.push(trades);
    inputs.push({ path: file.path, sha256: file.sha256, bytes: file.bytes.byteLength, format, rows: trades.rowCount });
  }
  const start = dayStartNanos(date);
  const ordered = orderTrades(decoded, { start, end: start + NANOS_PER_DAY }, orderScratch);
  const state = createValidationState();
  const validated = validateTrades(ordered.trades, { date, universe }, state, validationScratch);
  const accumulator = new BarAccumulator(date, barNanos(params), entryTickState);
  accumulator.add(ordered.trades, validated, state.symbolNames);
  const quarantine = new QuarantineWriter();
  quarantine.addOrdered(files.map((file) => file.path), ordered, validated);
  const rejectCounts = emptyRejectCounts();
  Object.assign(rejectCounts, validated.rejectCounts);
  return {
    date,
    bars: accumulator.finish(),
    inputs,
    rowsRead: ordered.trades.rowCount,
    rowsAccepted: validated.acceptedCount,
    rejectCounts,
    quarantine,
    timestampHint: outsideDateHint(ordered, validated, settings),
    reordered: ordered.reordered,
  };
}
