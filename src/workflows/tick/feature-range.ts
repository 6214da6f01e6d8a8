import { datesBetween, listPartitionDates, listPartitionFiles } from "../../data/tick/partitions.js";
import { computeFeaturePartition, readPartitionSources, upToDateManifest, type FeaturePartitionResult } from "./compute-partition.js";
import type { TickFeatureParams } from "./params.js";
import type { PreparedDay, RawInputFile } from "./partition-input.js";

// Range backfill: each calendar date from..to is planned as compute, skip (unchanged input and
// feature set) or missing (no input partition: weekends, holidays, late data). A dry run stops
// after planning; a real run computes dates in order and hands each prepared day to the next
// as its lookback, so a range reads every input file once.

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
  const inputDates = await listPartitionDates(options.inputRoot);
  const plan: PlannedPartition[] = [];
  for (const date of datesBetween(options.from, options.to)) {
    const files = await listPartitionFiles(options.inputRoot, date);
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

/** Computes every date of the range that has input; missing dates are reported, not errors. */
export async function runFeatureRange(
  options: FeatureRangeOptions,
  onPartition: (result: FeaturePartitionResult | PlannedPartition) => void = () => {},
): Promise<Array<FeaturePartitionResult | PlannedPartition>> {
  const inputDates = await listPartitionDates(options.inputRoot);
  const results: Array<FeaturePartitionResult | PlannedPartition> = [];
  let previous: PreparedDay | null = null;
  const inputCache = new Map<string, RawInputFile[]>();
  for (const date of datesBetween(options.from, options.to)) {
    if (!inputDates.includes(date) || (await listPartitionFiles(options.inputRoot, date)).length === 0) {
      const missing: PlannedPartition = { date, action: "missing", inputFiles: 0, detail: "no input partition" };
      results.push(missing);
      onPartition(missing);
      continue;
    }
    const result = await computeFeaturePartition({ ...options, date, inputDates, previous, inputCache });
    previous = result.prepared ?? null;
    results.push(result);
    onPartition(result);
  }
  return results;
}
