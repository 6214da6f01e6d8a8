import path from "node:path";
import { listPartitionFiles } from "../../data/tick/partitions.js";
import { QuarantineWriter } from "../../data/tick/quarantine.js";
import { decodeTrades } from "../../data/tick/read-trades.js";
import { createValidationState, emptyRejectCounts, REJECT_REASONS, validateTrades, type RejectCounts } from "../../data/tick/validate.js";
import { DataError } from "../../core/errors.js";
import { BarAccumulator, type DayBars, type TickRuleState } from "./bars.js";
import type { InputFileEntry } from "./manifest.js";
import { barNanos, type TickFeatureParams } from "./params.js";
import { sha256Hex } from "../../core/hash.js";
import { readFileOr } from "../../core/files.js";

// One partition's input: its files read once into memory (hashed from the same bytes that are
// decoded), then validated and rolled up into bars file by file.

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
}

export async function readPartitionInput(inputRoot: string, date: string): Promise<RawInputFile[]> {
  const files = await listPartitionFiles(inputRoot, date);
  return Promise.all(
    files.map(async (file) => {
      const bytes = await readFileOr(file, (reason, cause) => new DataError(`cannot read trade file ${file}: ${reason}`, { cause }));
      const relative = path.relative(inputRoot, file).split(path.sep).join("/");
      return { path: relative, bytes, sha256: sha256Hex(bytes) };
    }),
  );
}

export function prepareDay(
  date: string,
  files: readonly RawInputFile[],
  params: TickFeatureParams,
  entryTickState?: ReadonlyMap<string, TickRuleState>,
): PreparedDay {
  const universe = params.universe ? new Set(params.universe) : null;
  const state = createValidationState();
  const accumulator = new BarAccumulator(date, barNanos(params), entryTickState);
  const quarantine = new QuarantineWriter();
  const rejectCounts = emptyRejectCounts();
  const inputs: InputFileEntry[] = [];
  let rowsRead = 0;
  let rowsAccepted = 0;
  for (const file of files) {
    const { format, trades } = decodeTrades(file.bytes, file.path);
    const validated = validateTrades(trades, { date, universe }, state);
    accumulator.add(trades, validated, state.symbolNames);
    quarantine.add(file.path, trades, validated);
    for (const reason of REJECT_REASONS) rejectCounts[reason] += validated.rejectCounts[reason];
    rowsRead += trades.rowCount;
    rowsAccepted += validated.acceptedCount;
    inputs.push({ path: file.path, sha256: file.sha256, bytes: file.bytes.byteLength, format, rows: trades.rowCount });
  }
  return { date, bars: accumulator.finish(), inputs, rowsRead, rowsAccepted, rejectCounts, quarantine };
}
