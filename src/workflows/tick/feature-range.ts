import { datesBetween, listPartitionDates, listPartitionFiles } from "../../data/tick/partitions.js";
import { DataError } from "../../core/errors.js";
import { computeFeaturePartition, readPartitionSources, upToDateManifest, type FeaturePartitionResult } from "./compute-partition.js";
import type { TickFeatureParams } from "./params.js";
import { prefetchPartitionInput, type InputCache, type PreparedDay } from "./partition-input.js";

// Range backfill: each calendar date from..to is planned as compute, skip (unchanged input and
// feature set) or missing (no input partition: weekends, holidays, late data). A dry run stops
// after planning; a real run computes dates in order and hands each prepared day to the next
// as its lookback, so a range reads every input file once. A range in which no date has input
// at all is an error (a wrong --input, --from/--to or partition key), not a run that did nothing.

export type PlannedAction = "compute" | "skip" | "missing";

export interface PlannedPartition {
  date: string;
  action: PlannedAction;
  inputFiles: number;
  detail: string;
}

export interface FeatureRangeOptions {
  inputRoot: string;
  outputRoot: string;
  from: string;
  to: string;
  params: TickFeatureParams;
  force?: boolean;
}

export async function planFeatureRange(options: FeatureRangeOptions): Promise<PlannedPartition[]> {
  const key = options.params.input.partition_key;
  const inputDates = await listPartitionDates(options.inputRoot, key);
  const plan: PlannedPartition[] = [];
  for (const date of datesBetween(options.from, options.to)) {
    const files = await listPartitionFiles(options.inputRoot, date, key);
    if (files.length === 0) {
      plan.push({ date, action: "missing", inputFiles: 0, detail: "no input partition" });
      continue;
    }
    const sources = await readPartitionSources(options.inputRoot, date, options.params, inputDates);
    const manifest = options.force ? undefined : await upToDateManifest(options.outputRoot, sources);
    plan.push(
      manifest
        ? { date, action: "skip", inputFiles: files.length, detail: "unchanged input and feature set" }
        : { date, action: "compute", inputFiles: files.length, detail: options.force ? "forced" : "new or changed input, or no valid output" },
    );
  }
  return plan;
}

export function formatPlan(plan: readonly PlannedPartition[]): string {
  return plan.map((entry) => `${entry.date}  ${entry.action.padEnd(7)}  ${entry.inputFiles} file(s)  ${entry.detail}`).join("\n");
}

/** The dates of from..to that have input files. */
export async function datesWithInput(options: FeatureRangeOptions, inputDates: readonly string[]): Promise<Set<string>> {
  const key = options.params.input.partition_key;
  const present = new Set<string>();
  for (const date of datesBetween(options.from, options.to)) {
    if (inputDates.includes(date) && (await listPartitionFiles(options.inputRoot, date, key)).length > 0) present.add(date);
  }
  return present;
}

export function noInputError(options: FeatureRangeOptions, inputDates: readonly string[]): DataError {
  const key = options.params.input.partition_key;
  const dates = datesBetween(options.from, options.to);
  const named = dates.length <= 5 ? dates.join(", ") : `${dates.slice(0, 3).join(", ")}, … ${dates.at(-1)} (${dates.length} dates)`;
  const present = inputDates.length === 0 ? `no ${key}=YYYY-MM-DD partitions at all` : `input partitions span ${inputDates[0]} … ${inputDates.at(-1)}`;
  return new DataError(`no input for any date from ${options.from} to ${options.to} under ${options.inputRoot} (${named}): ${present}`);
}

/** Computes every date of the range that has input; missing dates are reported, and a range with none is an error. */
export async function runFeatureRange(
  options: FeatureRangeOptions,
  onPartition: (result: FeaturePartitionResult | PlannedPartition) => void = () => {},
): Promise<Array<FeaturePartitionResult | PlannedPartition>> {
  const inputDates = await listPartitionDates(options.inputRoot, options.params.input.partition_key);
  const withInput = await datesWithInput(options, inputDates);
  if (withInput.size === 0) throw noInputError(options, inputDates);
  const results: Array<FeaturePartitionResult | PlannedPartition> = [];
  let previous: PreparedDay | null = null;
  const inputCache: InputCache = new Map();
  const dates = datesBetween(options.from, options.to);
  const computeDates = dates.filter((date) => withInput.has(date));
  for (const date of dates) {
    if (!withInput.has(date)) {
      const missing: PlannedPartition = { date, action: "missing", inputFiles: 0, detail: "no input partition" };
      results.push(missing);
      onPartition(missing);
      continue;
    }
    // The next date's files are read while this one computes.
    prefetchPartitionInput(inputCache, options.inputRoot, computeDates[computeDates.indexOf(date) + 1], options.params.input.partition_key);
    const result = await computeFeaturePartition({ ...options, date, inputDates, previous, inputCache });
    previous = result.prepared ?? null;
    results.push(result);
    onPartition(result);
  }
  return results;
}
