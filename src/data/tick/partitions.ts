import { readdir } from "node:fs/promises";
import path from "node:path";
import { DataError, UsageError } from "../../core/errors.js";
import { formatFromExtension } from "./formats.js";

// Hive-style layout: <root>/date=YYYY-MM-DD/<any files, possibly in sub-folders such as
// Spark's `symbol=AAPL/`>. Files are listed in sorted path order (the tie-breaker for trades
// with equal timestamps). The input's key is configurable (params.input.partition_key, for
// producers that write `dt=`); feature outputs always use `date=`.

export const PARTITION_KEY = "date";
export const PARTITION_PREFIX = `${PARTITION_KEY}=`;
export const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
export const NANOS_PER_DAY = 86_400_000_000_000n;

export function isValidDate(date: string): boolean {
  if (!DATE_PATTERN.test(date)) return false;
  const parsed = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === date;
}

export function requireDate(date: string, flag: string): string {
  if (!isValidDate(date)) throw new UsageError(`${flag}: expected a calendar date YYYY-MM-DD, got "${date}"`);
  return date;
}

/** Nanoseconds since the epoch of the date's midnight, UTC. */
export function dayStartNanos(date: string): bigint {
  return BigInt(Date.parse(`${date}T00:00:00Z`)) * 1_000_000n;
}

/** Every calendar date from `from` to `to`, inclusive. */
export function datesBetween(from: string, to: string): string[] {
  if (from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
  const dates: string[] = [];
  for (let time = Date.parse(`${from}T00:00:00Z`); ; time += 86_400_000) {
    const date = new Date(time).toISOString().slice(0, 10);
    if (date > to) break;
    dates.push(date);
  }
  return dates;
}

export function partitionDirectory(root: string, date: string, key: string = PARTITION_KEY): string {
  return path.join(root, `${key}=${date}`);
}

export interface PartitionRootScan {
  dates: string[];
  /** Sub-folders that are not `<key>=` partitions at all (`tmp`, `backup`): ignored, counted. */
  foreign: string[];
}

function limited(names: readonly string[]): string {
  return `${names.slice(0, 5).join(", ")}${names.length > 5 ? ", …" : ""}`;
}

/**
 * The input root as a `train tick features` run sees it: it must exist, every `<key>=` folder
 * must name a real calendar date in YYYY-MM-DD (a `date=2026-1-8` would otherwise be skipped in
 * silence and the day go missing), a root holding date folders only under another key (Spark's
 * `partitionBy("dt")` when the key is `date`) is refused with the setting that reads it, and
 * other foreign folders are returned for a counted warning.
 */
export async function scanPartitionRoot(root: string, key: string = PARTITION_KEY): Promise<PartitionRootScan> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new DataError(`input folder ${root} does not exist: give the trades root holding ${key}=YYYY-MM-DD partitions`);
    if (code === "ENOTDIR") throw new DataError(`input ${root} is a file, not a folder of ${key}=YYYY-MM-DD partitions`);
    throw new DataError(`cannot list input directory ${root}: ${code ?? String(error)}`);
  }
  const prefix = `${key}=`;
  const folders = entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith(".") && !entry.name.startsWith("_")).map((entry) => entry.name).sort();
  const invalid = folders.filter((name) => name.startsWith(prefix) && !isValidDate(name.slice(prefix.length)));
  if (invalid.length > 0) {
    throw new DataError(`${invalid.length} partition folder(s) under ${root} do not name a calendar date as ${key}=YYYY-MM-DD: ${limited(invalid)}; rename or remove them`);
  }
  const foreign = folders.filter((name) => !name.startsWith(prefix));
  const dates = folders.filter((name) => name.startsWith(prefix)).map((name) => name.slice(prefix.length));
  const otherKeyDates = foreign.filter((name) => /^[^=]+=/.test(name) && isValidDate(name.slice(name.indexOf("=") + 1)));
  // Only date folders under another key: the producer's key is not ours (a stray one next to real partitions is a warning).
  if (dates.length === 0 && otherKeyDates.length > 0) {
    const otherKey = (otherKeyDates[0] as string).slice(0, (otherKeyDates[0] as string).indexOf("="));
    throw new DataError(
      `${otherKeyDates.length} folder(s) under ${root} are date partitions under key "${otherKey}", not "${key}": ${limited(otherKeyDates)}; set params.input.partition_key: ${otherKey} or rename them ${key}=YYYY-MM-DD`,
    );
  }
  return { dates, foreign };
}

/** Dates of the `<key>=` partitions under `root`, ascending; [] when `root` does not exist. */
export async function listPartitionDates(root: string, key: string = PARTITION_KEY): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new DataError(`cannot list input directory ${root}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const prefix = `${key}=`;
  return entries
    .filter((entry) => entry.isDirectory() && entry.name.startsWith(prefix))
    .map((entry) => entry.name.slice(prefix.length))
    .filter(isValidDate)
    .sort();
}

/** Trade files of one partition (sorted, recursive); hidden and temporary files are ignored. */
export async function listPartitionFiles(root: string, date: string, key: string = PARTITION_KEY): Promise<string[]> {
  const directory = partitionDirectory(root, date, key);
  let names: string[];
  try {
    names = (await readdir(directory, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new DataError(`cannot list partition ${directory}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return names
    .filter((name) => !name.split(path.sep).some((part) => part.startsWith(".") || part.startsWith("_")))
    .filter((name) => formatFromExtension(name) !== undefined && !name.includes(".tmp-"))
    .sort()
    .map((name) => path.join(directory, name));
}

/** The latest partition strictly before `date` (weekends and holidays have no partition). */
export function previousPartitionDate(dates: readonly string[], date: string): string | undefined {
  let previous: string | undefined;
  for (const candidate of dates) {
    if (candidate >= date) break;
    previous = candidate;
  }
  return previous;
}
