import { readFile } from "node:fs/promises";
import path from "node:path";
import { datesBetween, isValidDate, listPartitionDates, partitionDirectory } from "../../data/tick/partitions.js";
import { DataError, UsageError } from "../../core/errors.js";
import { featureSetHash, MANIFEST_FILE_NAME } from "./feature-set.js";
import { manifestSchema, type PartitionManifest } from "./manifest.js";
import { featureParamsOf, type TickParams } from "./params.js";
import { sha256Hex } from "../../core/hash.js";

// The training window: the feature partitions with dates in (as_of - window, as_of]. Training
// refuses a window with holes (a weekday without a complete partition is a late or failed
// feature run far more often than a holiday; holidays are listed in `closed_dates`) and a
// window whose partitions were computed with different feature sets (the rows would not mean
// the same thing). The data version is a hash of the manifests, which themselves hash the
// trade inputs and the feature files, so it pins the exact bytes the model saw.

const MILLISECONDS_PER_DAY = 86_400_000;

export interface WindowPartition {
  date: string;
  directory: string;
  manifest: PartitionManifest;
  manifestSha256: string;
}

export interface TrainingWindow {
  featuresRoot: string;
  from: string;
  asOf: string;
  partitions: WindowPartition[];
  featureSetHash: string;
  /** SHA-256 over "date sha256Hex(manifest.json)" lines, sorted by date. */
  dataVersion: string;
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * MILLISECONDS_PER_DAY).toISOString().slice(0, 10);
}

function isWeekday(date: string): boolean {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day !== 0 && day !== 6;
}

export function windowDays(window: string): number {
  const days = Number(window.slice(0, -1));
  if (!window.endsWith("d") || !Number.isInteger(days) || days < 1) throw new UsageError(`--window: expected a number of days such as "60d", got "${window}"`);
  return days;
}

/** Reads one manifest; undefined when the partition is absent or incomplete (no valid manifest). */
async function readWindowPartition(root: string, date: string): Promise<WindowPartition | undefined> {
  const directory = partitionDirectory(root, date);
  let bytes: Buffer;
  try {
    bytes = await readFile(path.join(directory, MANIFEST_FILE_NAME));
  } catch {
    return undefined;
  }
  let parsed;
  try {
    parsed = manifestSchema.safeParse(JSON.parse(bytes.toString("utf8")));
  } catch {
    return undefined;
  }
  if (!parsed.success) return undefined;
  return { date, directory, manifest: parsed.data, manifestSha256: sha256Hex(bytes) };
}

function describeHashGroups(partitions: readonly WindowPartition[]): string {
  const groups = new Map<string, string[]>();
  for (const partition of partitions) groups.set(partition.manifest.feature_set.hash, [...(groups.get(partition.manifest.feature_set.hash) ?? []), partition.date]);
  return [...groups].map(([hash, dates]) => `${hash.slice(0, 12)} on ${dates.length === 1 ? dates[0] : `${dates.length} dates ${dates.join(", ")}`}`).join("; ");
}

export async function resolveTrainingWindow(params: Pick<TickParams, "features_dir" | "as_of" | "window" | "closed_dates"> & Partial<TickParams>): Promise<TrainingWindow> {
  const root = path.resolve(params.features_dir);
  const present = await listPartitionDates(root);
  if (present.length === 0) throw new DataError(`no feature partitions (date=YYYY-MM-DD folders) under ${root}: run \`train tick features\` first`);
  const asOf = params.as_of ?? (present.at(-1) as string);
  if (!isValidDate(asOf)) throw new UsageError(`--as-of: expected a calendar date YYYY-MM-DD, got "${asOf}"`);
  const from = addDays(asOf, 1 - windowDays(params.window));
  const closed = new Set(params.closed_dates);
  const inWindow = datesBetween(from, asOf);
  const partitions: WindowPartition[] = [];
  const missing: string[] = [];
  for (const date of inWindow) {
    const required = isWeekday(date) && !closed.has(date);
    // Weekend and closed-date partitions are used when complete (some venues trade then), never required.
    if (!required && !present.includes(date)) continue;
    const partition = await readWindowPartition(root, date);
    if (partition) partitions.push(partition);
    else if (required) missing.push(date);
  }
  if (missing.length > 0) {
    const shown = missing.length > 10 ? `${missing.slice(0, 10).join(", ")}, … (${missing.length} in all)` : missing.join(", ");
    throw new DataError(
      `missing feature partitions for ${missing.length} date(s) of the window ${from}..${asOf} under ${root}: ${shown}. ` +
        // Everything but the trades folder (the manifests do not record it) is filled in.
        `Compute them with \`train tick features --input TRADES_DIR --out-dir ${root} --from ${missing[0]} --to ${missing.at(-1)}\` (TRADES_DIR: the trades folder the other partitions came from), or list market holidays in closed_dates`,
    );
  }
  if (partitions.length === 0) throw new DataError(`the window ${from}..${asOf} holds no trading date (all weekend or closed_dates) under ${root}`);
  const hashes = new Set(partitions.map((partition) => partition.manifest.feature_set.hash));
  if (hashes.size > 1) {
    throw new DataError(`the feature partitions of the window ${from}..${asOf} disagree on the feature-set hash (${describeHashGroups(partitions)}): recompute the window with \`train tick features --force\``);
  }
  const [hash] = hashes as Set<string>;
  const wanted = featureSetHash(featureParamsOf(params));
  if (hash !== wanted) {
    throw new DataError(
      `the feature partitions under ${root} were computed with feature set ${String(hash).slice(0, 12)}, but the spec's feature params give ${wanted.slice(0, 12)}: ` +
        "train with the params the features were computed with, or recompute them with `train tick features --force`",
    );
  }
  const dataVersion = sha256Hex(partitions.map((partition) => `${partition.date} ${partition.manifestSha256}\n`).join(""));
  return { featuresRoot: root, from, asOf, partitions, featureSetHash: hash as string, dataVersion };
}
