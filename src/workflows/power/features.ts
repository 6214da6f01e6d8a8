import { HOUR_MS, VALUE_COLUMNS, type ValueColumn } from "../../data/power/format.js";
import type { HourlySeries } from "../../data/power/hourly.js";

// Feature table for next-hour forecasting. Row i predicts hour i (the target) from what is
// known at the end of hour i-1: every lag and rolling window looks strictly before hour i, so
// no feature can see the target (tested in test/workflows/power/features.test.ts). Calendar features
// describe the target hour, which is known in advance.

export const TARGET_LAGS_HOURS = [1, 2, 3, 24, 48, 168] as const;
export const ROLLING_WINDOWS_HOURS = [24, 168] as const;
/** Other measured columns whose recent values help (sub-meterings split the load by appliance). */
const EXTRA_LAGS: ReadonlyArray<{ column: ValueColumn; lags: readonly number[] }> = [
  { column: "sub_metering_1", lags: [1, 24] },
  { column: "sub_metering_2", lags: [1, 24] },
  { column: "sub_metering_3", lags: [1, 24] },
  { column: "global_reactive_power", lags: [1] },
  { column: "voltage", lags: [1] },
];
/** Features that are always whole numbers (never missing). */
export const CALENDAR_FEATURES: ReadonlySet<string> = new Set(["hour", "weekday", "month"]);
/** The longest look-back: hours before it cannot have every feature. */
export const WARMUP_HOURS = 168;

export interface FeatureTable {
  columns: string[];
  /** Row-major, `rowCount × columns.length`, NaN where an input hour was missing (LightGBM treats NaN as missing). */
  values: Float64Array;
  targets: Float64Array;
  /** Naive timestamp of each row's target hour. */
  targetTimes: Float64Array;
  rowCount: number;
  /** Hours after the warm-up whose target was missing: dropped, not imputed. */
  droppedMissingTarget: number;
}

export function targetLagName(lag: number): string {
  return `global_active_power_lag_${lag}h`;
}

export function featureColumns(): string[] {
  return [
    ...TARGET_LAGS_HOURS.map(targetLagName),
    ...ROLLING_WINDOWS_HOURS.flatMap((window) => [`global_active_power_mean_${window}h`, `global_active_power_std_${window}h`]),
    ...EXTRA_LAGS.flatMap(({ column, lags }) => lags.map((lag) => `${column}_lag_${lag}h`)),
    "hour",
    "weekday",
    "month",
  ];
}

/** Prefix sums over the valid (non-NaN) values, so any window's mean and std cost O(1). */
export function prefixSums(values: Float64Array) {
  const sum = new Float64Array(values.length + 1);
  const squares = new Float64Array(values.length + 1);
  const count = new Float64Array(values.length + 1);
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index]!;
    const valid = !Number.isNaN(value);
    sum[index + 1] = sum[index]! + (valid ? value : 0);
    squares[index + 1] = squares[index]! + (valid ? value * value : 0);
    count[index + 1] = count[index]! + (valid ? 1 : 0);
  }
  return { sum, squares, count };
}

/**
 * Mean and sample standard deviation (ddof 1, as pandas) of hours [end - window, end): the
 * `window` hours before `end`. NaN when fewer than half of them have a value.
 */
export function pastWindowStats(prefix: ReturnType<typeof prefixSums>, end: number, window: number): { mean: number; std: number } {
  const begin = end - window;
  const count = prefix.count[end]! - prefix.count[begin]!;
  if (count < window / 2 || count < 2) return { mean: Number.NaN, std: Number.NaN };
  const sum = prefix.sum[end]! - prefix.sum[begin]!;
  const squares = prefix.squares[end]! - prefix.squares[begin]!;
  const mean = sum / count;
  const variance = Math.max(0, (squares - sum * mean) / (count - 1));
  return { mean, std: Math.sqrt(variance) };
}

export function buildFeatures(series: HourlySeries): FeatureTable {
  const columns = featureColumns();
  const width = columns.length;
  const columnOf = (name: ValueColumn) => series.columns[VALUE_COLUMNS.indexOf(name)]!;
  const power = columnOf("global_active_power");
  const prefix = prefixSums(power);
  const values: number[] = [];
  const targets: number[] = [];
  const targetTimes: number[] = [];
  let droppedMissingTarget = 0;
  const row = new Float64Array(width);
  for (let hour = WARMUP_HOURS; hour < series.length; hour += 1) {
    const target = power[hour]!;
    if (Number.isNaN(target)) {
      droppedMissingTarget += 1;
      continue;
    }
    let position = 0;
    for (const lag of TARGET_LAGS_HOURS) row[position++] = power[hour - lag]!;
    for (const window of ROLLING_WINDOWS_HOURS) {
      const stats = pastWindowStats(prefix, hour, window);
      row[position++] = stats.mean;
      row[position++] = stats.std;
    }
    for (const { column, lags } of EXTRA_LAGS) for (const lag of lags) row[position++] = columnOf(column)[hour - lag]!;
    const time = series.start + hour * HOUR_MS;
    const at = new Date(time);
    row[position++] = at.getUTCHours();
    row[position++] = (at.getUTCDay() + 6) % 7; // Monday = 0, as pandas' dayofweek
    row[position++] = at.getUTCMonth() + 1;
    for (const value of row) values.push(value);
    targets.push(target);
    targetTimes.push(time);
  }
  return {
    columns,
    values: Float64Array.from(values),
    targets: Float64Array.from(targets),
    targetTimes: Float64Array.from(targetTimes),
    rowCount: targets.length,
    droppedMissingTarget,
  };
}
