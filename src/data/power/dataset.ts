import { isoMinute, VALUE_COLUMNS } from "./format.js";
import { HourlyResampler, type HourlySeries } from "./hourly.js";
import { readPowerData, type PowerReadSummary, type PowerSource } from "./reader.js";
import { DATA_VERSION_TAG } from "../../tracking/tags.js";

// Minute file(s) → hourly series in one streaming pass, plus what MLflow records about the input.

export interface PowerHourlyData {
  series: HourlySeries;
  summary: PowerReadSummary;
  /** Hours (after resampling) missing per column. */
  missingHoursByColumn: Record<string, number>;
  readSeconds: number;
}

export async function loadPowerHourly(source: PowerSource, minMinutesPerHour: number): Promise<PowerHourlyData> {
  const started = performance.now();
  const resampler = new HourlyResampler(minMinutesPerHour);
  const summary = await readPowerData(source, resampler.add);
  const series = resampler.finish();
  const missingHoursByColumn = Object.fromEntries(VALUE_COLUMNS.map((column, index) => [column, countNaN(series.columns[index]!)]));
  return { series, summary, missingHoursByColumn, readSeconds: (performance.now() - started) / 1000 };
}

function countNaN(values: Float64Array): number {
  let count = 0;
  for (const value of values) if (Number.isNaN(value)) count += 1;
  return count;
}

/** Data-version tags: content hash, size and range, so a run can be traced to its exact input. */
export function dataVersionTags(data: PowerHourlyData): Record<string, string> {
  const { summary } = data;
  return {
    [DATA_VERSION_TAG]: summary.dataVersion,
    "data.source": summary.files.length === 1 ? summary.files[0]!.path : `${summary.files.length} files in ${summary.files[0]!.path.replace(/[/\\][^/\\]*$/, "")}`,
    "data.rows": String(summary.rows),
    "data.files": String(summary.files.length),
    "data.first_timestamp": isoMinute(summary.firstTimestamp),
    "data.last_timestamp": isoMinute(summary.lastTimestamp),
    "data.fully_missing_rows": String(summary.fullyMissingRows),
    "data.absent_minutes": String(summary.absentMinutes),
    ...Object.fromEntries(Object.entries(summary.missingByColumn).map(([column, count]) => [`data.missing.${column}`, String(count)])),
    ...Object.fromEntries(Object.entries(summary.rejectedByColumn).map(([column, count]) => [`data.rejected.${column}`, String(count)])),
    ...(summary.files.length <= 20 ? Object.fromEntries(summary.files.map((file) => [`data.sha256.${file.path.replace(/^.*[/\\]/, "")}`, file.sha256])) : {}),
  };
}

/** The same counts as metrics, so they can be charted across daily runs. */
export function dataQualityMetrics(data: PowerHourlyData): Record<string, number> {
  const { summary } = data;
  return {
    data_rows: summary.rows,
    data_fully_missing_rows: summary.fullyMissingRows,
    data_absent_minutes: summary.absentMinutes,
    data_hours: data.series.length,
    data_read_seconds: data.readSeconds,
    ...Object.fromEntries(Object.entries(summary.missingByColumn).map(([column, count]) => [`data_missing_${column}`, count])),
    ...Object.fromEntries(Object.entries(summary.rejectedByColumn).map(([column, count]) => [`data_rejected_${column}`, count])),
    ...Object.fromEntries(Object.entries(data.missingHoursByColumn).map(([column, count]) => [`data_missing_hours_${column}`, count])),
  };
}
