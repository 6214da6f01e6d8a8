import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { isDefaultInput } from "../../data/tick/input-contract.js";
import { listPartitionDates, partitionDirectory, previousPartitionDate } from "../../data/tick/partitions.js";
import { DataError } from "../../core/errors.js";
import { writeFileAtomic } from "../../core/fs-atomic.js";
import { manifestCodeVersion, type ManifestCodeVersion } from "../../core/code-version.js";
import { FEATURE_FILE_NAME, featureSetHash, featureSetOf, MANIFEST_FILE_NAME, QUARANTINE_FILE_NAME } from "./feature-set.js";
import { featureTable, featureTableBytes } from "./feature-table.js";
import { computeFeatures } from "./features.js";
import { manifestBytes, readManifest, sourceFingerprint, type PartitionManifest } from "./manifest.js";
import type { TickFeatureParams } from "./params.js";
import { prepareDay, readPartitionInput, releaseInput, type InputCache, type PreparedDay, type RawInputFile } from "./partition-input.js";
import { sha256Hex } from "../../core/hash.js";

// One date partition end to end: read + hash inputs (and the previous partition's, for the
// lookback), skip when the manifest says nothing changed, else validate, quarantine, check the
// reject threshold, compute bars and features, and write features then manifest atomically.

export interface FeaturePartitionOptions {
  inputRoot: string;
  outputRoot: string;
  date: string;
  params: TickFeatureParams;
  /** Recompute even when the manifest matches. */
  force?: boolean;
  /** Partition dates of the input root, when the caller has listed them already. */
  inputDates?: readonly string[];
  /** The previous partition already prepared by a range run (reused only if it is the right date). */
  previous?: PreparedDay | null;
  /** The code version the manifest records, when the caller has it (a worker thread gets the main thread's: no git call per thread). */
  codeVersion?: ManifestCodeVersion;
  /** Raw input read (or being read) by date: a range run passes the previous date's and prefetches the next. */
  inputCache?: InputCache;
}

export interface FeaturePartitionResult {
  date: string;
  status: "computed" | "skipped";
  manifest: PartitionManifest;
  /** This partition's prepared input, for the next date of a range run (absent when skipped). */
  prepared?: PreparedDay;
}

export interface PartitionSources {
  date: string;
  files: RawInputFile[];
  lookbackDate: string | null;
  lookbackFiles: RawInputFile[];
  fingerprint: string;
}

export async function readPartitionSources(
  inputRoot: string,
  date: string,
  params: TickFeatureParams,
  inputDates?: readonly string[],
  cache?: InputCache,
): Promise<PartitionSources> {
  const key = params.input.partition_key;
  const dates = inputDates ?? (await listPartitionDates(inputRoot, key));
  const read = (day: string) => cache?.get(day) ?? readPartitionInput(inputRoot, day, key);
  const lookbackDate = previousPartitionDate(dates, date) ?? null;
  // Both dates at once: the reads of one overlap the hashing of the other.
  const [files, lookbackFiles] = await Promise.all([read(date), lookbackDate ? read(lookbackDate) : Promise.resolve([])]);
  return { date, files, lookbackDate, lookbackFiles, fingerprint: sourceFingerprint(files, lookbackFiles, featureSetHash(params), params.input) };
}

/** The existing manifest when it was computed from exactly these sources and its output is intact. */
export async function upToDateManifest(outputRoot: string, sources: PartitionSources): Promise<PartitionManifest | undefined> {
  const directory = partitionDirectory(outputRoot, sources.date);
  const manifest = await readManifest(path.join(directory, MANIFEST_FILE_NAME));
  if (!manifest) return undefined;
  const recorded = sourceFingerprint(manifest.inputs, manifest.lookback?.inputs ?? [], manifest.feature_set.hash, manifest.input);
  if (recorded !== sources.fingerprint) return undefined;
  try {
    return sha256Hex(await readFile(path.join(directory, manifest.output.file))) === manifest.output.sha256 ? manifest : undefined;
  } catch {
    return undefined;
  }
}

export async function computeFeaturePartition(options: FeaturePartitionOptions): Promise<FeaturePartitionResult> {
  const { inputRoot, date, params } = options;
  const sources = await readPartitionSources(inputRoot, date, params, options.inputDates, options.inputCache);
  // Dates before this one leave the cache: their buffers are reused once this date is done.
  const evicted: Array<Promise<RawInputFile[]>> = [];
  if (options.inputCache) {
    // Keep this date (the next one's lookback) and any later date already being read.
    for (const [day, entry] of [...options.inputCache]) {
      if (day >= date) continue;
      evicted.push(entry);
      options.inputCache.delete(day);
    }
    options.inputCache.set(date, Promise.resolve(sources.files));
  }
  if (sources.files.length === 0) throw new DataError(`no trade files for ${date} under ${partitionDirectory(inputRoot, date, params.input.partition_key)}`);
  const result = await computeFromSources(options, sources);
  for (const entry of evicted) releaseInput(await entry.catch(() => []));
  if (options.inputCache) releaseInput(sources.lookbackFiles);
  return result;
}

async function computeFromSources(options: FeaturePartitionOptions, sources: PartitionSources): Promise<FeaturePartitionResult> {
  const { outputRoot, date, params } = options;
  if (!options.force) {
    const manifest = await upToDateManifest(outputRoot, sources);
    if (manifest) return { date, status: "skipped", manifest };
  }
  // From here the old output is stale: its manifest goes first (one unlink, atomic), so a
  // recompute that fails leaves the partition missing for `train tick`, never the old features.
  await rm(path.join(partitionDirectory(outputRoot, date), MANIFEST_FILE_NAME), { force: true });
  const reusable = options.previous && options.previous.date === sources.lookbackDate ? options.previous : undefined;
  const previous = sources.lookbackDate ? (reusable ?? prepareDay(sources.lookbackDate, sources.lookbackFiles, params)) : null;
  const today = prepareDay(date, sources.files, params, previous?.bars.exitTickState);
  const directory = partitionDirectory(outputRoot, date);
  const rejected = today.rowsRead - today.rowsAccepted;
  const quarantineBytes = today.quarantine.toBytes();
  if (rejected > 0) await writeFileAtomic(path.join(directory, QUARANTINE_FILE_NAME), quarantineBytes);
  else await rm(path.join(directory, QUARANTINE_FILE_NAME), { force: true });
  const fraction = today.rowsRead === 0 ? 0 : rejected / today.rowsRead;
  if (fraction > params.max_reject_fraction) {
    const reasons = Object.entries(today.rejectCounts).filter(([, count]) => count > 0).map(([reason, count]) => `${reason}=${count}`).join(", ");
    const hint = today.timestampHint ? `; ${today.timestampHint}` : "";
    throw new DataError(
      `partition ${date}: ${rejected} of ${today.rowsRead} rows rejected (${(fraction * 100).toFixed(2)}% > max ${(params.max_reject_fraction * 100).toFixed(2)}%): ${reasons}${hint}; see ${path.join(directory, QUARANTINE_FILE_NAME)}`,
    );
  }
  const featureSet = featureSetOf(params);
  const hash = featureSetHash(params);
  const columns = computeFeatures(today.bars, previous?.bars ?? null, params);
  const bytes = featureTableBytes(featureTable(columns, params, { feature_set_hash: hash, date }));
  await writeFileAtomic(path.join(directory, FEATURE_FILE_NAME), bytes);
  const manifest: PartitionManifest = {
    manifest_version: 1,
    date,
    inputs: today.inputs,
    lookback: previous ? { date: previous.date, inputs: previous.inputs } : null,
    rows: { read: today.rowsRead, accepted: today.rowsAccepted, rejected },
    rejects_by_reason: today.rejectCounts,
    output: { file: FEATURE_FILE_NAME, format: "arrow-ipc-file", sha256: sha256Hex(bytes), bytes: bytes.byteLength, rows: columns.rowCount },
    quarantine: rejected > 0 ? { file: QUARANTINE_FILE_NAME, sha256: sha256Hex(quarantineBytes), rows: rejected } : null,
    feature_set: { hash, revision: featureSet.revision, params: featureSet.params, columns: featureSet.columns },
    code_version: options.codeVersion ?? (await manifestCodeVersion()),
    ...(isDefaultInput(params.input) ? {} : { input: params.input }),
  };
  await writeFileAtomic(path.join(directory, MANIFEST_FILE_NAME), manifestBytes(manifest));
  return { date, status: "computed", manifest, prepared: today };
}
