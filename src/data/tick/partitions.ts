import { readdir } from "node:fs/promises";
import path from "node:path";
import { DataError, UsageError } from "../../core/errors.js";
import { formatFromExtension } from "./formats.js";

// Hive-style layout: <root>/date=YYYY-MM-DD/<any files, possibly in sub-folders>. Files are read
// in sorted path order so that a partition split over several files is one deterministic stream.

export const PARTITION_PREFIX = "date=";
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

export function partitionDirectory(root: string, date: string): string {
  return path.join(root, `${PARTITION_PREFIX}${date}`);
}

export interface PartitionRootScan {
  dates: string[];
  /** Sub-folders that are not `date=` partitions at all (`dt=…`, `tmp`): ignored, counted. */
  foreign: string[];
}

/**
 * The input root as a `train tick features` run sees it: it must exist, every `date=` folder
 * must name a real calendar date in YYYY-MM-DD (a `date=2026-1-8` would otherwise be skipped in
 * silence and the day go missing), and foreign folders are returned for a counted warning.
 */
export async function scanPartitionRoot(root: string): Promise<PartitionRootScan> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new DataError(`input folder ${root} does not exist: give the trades root holding date=YYYY-MM-DD partitions`);
    if (code === "ENOTDIR") throw new DataError(`input ${root} is a file, not a folder of date=YYYY-MM-DD partitions`);
    throw new DataError(`cannot list input directory ${root}: ${code ?? String(error)}`);
  }
  const folders = entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith(".") && !entry.name.startsWith("_")).map((entry) => entry.name);
  const invalid = folders.filter((name) => name.startsWith(PARTITION_PREFIX) && !isValidDate(name.slice(PARTITION_PREFIX.length)));
  if (invalid.length > 0) {
    throw new DataError(`${invalid.length} partition folder(s) under ${root} do not name a calendar date as date=YYYY-MM-DD: ${invalid.slice(0, 5).join(", ")}${invalid.length > 5 ? ", …" : ""}; rename or remove them`);
  }
  return {
    dates: folders.filter((name) => name.startsWith(PARTITION_PREFIX)).map((name) => name.slice(PARTITION_PREFIX.length)).sort(),
    foreign: folders.filter((name) => !name.startsWith(PARTITION_PREFIX)).sort(),
  };
}

/** Dates of the `date=` partitions under `root`, ascending; [] when `root` does not exist. */
export async function listPartitionDates(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new DataError(`cannot list input directory ${root}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return entries
    .filter((entry) => entry.isDirectory() && entry.name.startsWith(PARTITION_PREFIX))
    .map((entry) => entry.name.slice(PARTITION_PREFIX.length))
    .filter(isValidDate)
    .sort();
}

/** Trade files of one partition (sorted, recursive); hidden and temporary files are ignored. */
export async function listPartitionFiles(root: string, date: string): Promise<string[]> {
  const directory = partitionDirectory(root, date);
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
