import { dataQualityMetrics, dataVersionTags, type PowerHourlyData } from "../../data/power/dataset.js";
import { buildFeatures, type FeatureTable } from "./features.js";
import { isoMinute } from "../../data/power/format.js";
import type { PowerSource } from "../../data/power/reader.js";
import { splitByTime, type TimeSplit } from "./split.js";
import { UsageError } from "../../core/errors.js";
import type { Reporter } from "../../runtime/reporter.js";
import type { Once, WorkflowContext } from "../types.js";
import { loadPowerHourlyFrom } from "./object-store-source.js";
import type { PowerParams } from "./params.js";

// Data → features → time split, shared by fit and evaluate. With `--stage all` both run in one
// process on the same context, which runs the preparation once for both (context.once).

export interface PreparedPower {
  table: FeatureTable;
  split: TimeSplit;
}

export function powerSource(params: PowerParams): PowerSource {
  if (params.data_file && params.data_dir) throw new UsageError("pass either --data-file or --data-dir, not both");
  if (params.data_file) return { file: params.data_file };
  if (params.data_dir) return { directory: params.data_dir };
  throw new UsageError(
    "no household power data given: pass --data-file household_power_consumption.txt (the UCI file; `train data fetch power` downloads it where a network is available) or --data-dir <folder of daily files>; to try it out: `train power generate --out power.txt --days 365 --seed 1` then `train power --data-file power.txt`",
  );
}

/** Data, features and split, prepared once per run: fit and evaluate of one process share them. */
export function preparePower(context: WorkflowContext<PowerParams>): Promise<PreparedPower> {
  return context.once("power.prepared", () => load(context));
}

const READ_KEY = "power.read";

/** Before the run exists: the data is read, resampled and split once, for the checks and the stages. */
export async function preflightPower(params: PowerParams, reporter: Reporter, once: Once): Promise<void> {
  await once(READ_KEY, () => readAndSplit(params, reporter));
}

/** Reads, resamples, builds features and splits: every check the data gets, without tracking. */
export async function readAndSplit(params: PowerParams, reporter: Reporter) {
  const data = await loadPowerHourlyFrom(powerSource(params), params.min_minutes_per_hour);
  const table = buildFeatures(data.series);
  const split = splitByTime(table, params.test_weeks, params.validation_weeks);
  logSummary(reporter, data, table, split);
  return { data, table, split };
}

/** The DAG's validate step: what identifies the input and what the split will hold. */
export async function validatePower(params: PowerParams, reporter: Reporter): Promise<Record<string, string | number>> {
  const { data, table, split } = await readAndSplit(params, reporter);
  return {
    ...Object.fromEntries(Object.entries(dataVersionTags(data)).map(([key, value]) => [key.replace(/^data\./, "data_").replaceAll(".", "_"), value])),
    feature_rows: table.rowCount,
    rows_train: split.train.end - split.train.begin,
    rows_validation: split.validation.end - split.validation.begin,
    rows_test: split.test.end - split.test.begin,
    validation_start: isoMinute(split.validationStart),
    test_start: isoMinute(split.testStart),
  };
}

async function load(context: WorkflowContext<PowerParams>): Promise<PreparedPower> {
  const { data, table, split } = await context.once(READ_KEY, () => readAndSplit(context.params, context.reporter));
  await context.setTags({
    ...dataVersionTags(data),
    "data.validation_start": isoMinute(split.validationStart),
    "data.test_start": isoMinute(split.testStart),
  });
  await context.logMetrics({
    ...dataQualityMetrics(data),
    feature_rows: table.rowCount,
    feature_rows_dropped_missing_target: table.droppedMissingTarget,
    rows_train: split.train.end - split.train.begin,
    rows_validation: split.validation.end - split.validation.begin,
    rows_test: split.test.end - split.test.begin,
  });
  return { table, split };
}

function logSummary(reporter: Reporter, data: PowerHourlyData, table: FeatureTable, split: TimeSplit): void {
  const { summary } = data;
  reporter.log.info({
    rows: summary.rows,
    rows_per_second: Math.round(summary.rows / data.readSeconds),
    first: isoMinute(summary.firstTimestamp),
    last: isoMinute(summary.lastTimestamp),
    fully_missing_rows: summary.fullyMissingRows,
    missing: summary.missingByColumn,
    rejected_out_of_range: summary.rejectedByColumn,
    data_version: summary.dataVersion,
  }, `read ${summary.files.length} file(s)`);
  const rejected = Object.values(summary.rejectedByColumn).reduce((total, count) => total + count, 0);
  if (rejected > 0) reporter.log.warn({ rejected: summary.rejectedByColumn }, `${rejected} value(s) outside the physical range were treated as missing`);
  reporter.log.info({
    hours: data.series.length,
    missing_hours: data.missingHoursByColumn,
    feature_rows: table.rowCount,
    dropped_missing_target: table.droppedMissingTarget,
    train: split.train.end - split.train.begin,
    validation: split.validation.end - split.validation.begin,
    test: split.test.end - split.test.begin,
  }, "hourly features and time split ready");
}
