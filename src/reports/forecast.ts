import type { TopLevelSpec } from "vega-lite";
import type { ReportSet } from "./report-set.js";

// The power workflow's report: the model's forecast against the actual load over the held-out
// weeks, with the seasonal-naive forecasts it is scored against, and the residuals by hour of
// day (residual = forecast − actual: above 0 is an over-forecast).

export interface ForecastSeries {
  /** Target hours, epoch milliseconds. */
  times: ArrayLike<number>;
  actual: ArrayLike<number>;
  model: ArrayLike<number>;
  naive24h: ArrayLike<number>;
  naive168h: ArrayLike<number>;
  /** Hour of day (0–23) of each target, as the model's calendar feature has it. */
  hourOfDay: ArrayLike<number>;
}

export interface HourResiduals {
  hour: number;
  count: number;
  mean: number;
  mae: number;
  p10: number;
  median: number;
  p90: number;
}

/** Linear interpolation between order statistics (numpy's default). */
function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

/** Model residuals grouped by hour of day; hours without a finite actual and forecast are skipped. */
export function residualsByHour(series: ForecastSeries): HourResiduals[] {
  const byHour = Array.from({ length: 24 }, () => [] as number[]);
  for (let row = 0; row < series.actual.length; row += 1) {
    const residual = series.model[row]! - series.actual[row]!;
    if (Number.isFinite(residual)) byHour[series.hourOfDay[row]!]!.push(residual);
  }
  return byHour.flatMap((residuals, hour) => {
    if (residuals.length === 0) return [];
    const sorted = [...residuals].sort((a, b) => a - b);
    const sum = residuals.reduce((total, value) => total + value, 0);
    const absolute = residuals.reduce((total, value) => total + Math.abs(value), 0);
    return [{ hour, count: residuals.length, mean: sum / residuals.length, mae: absolute / residuals.length, p10: quantile(sorted, 0.1), median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9) }];
  });
}

const SERIES = ["actual", "model", "naive 24 h", "naive 168 h"] as const;

interface ForecastRow {
  time: string;
  actual: number | null;
  model: number | null;
  naive_24h: number | null;
  naive_168h: number | null;
}

function forecastRows(series: ForecastSeries): ForecastRow[] {
  const value = (values: ArrayLike<number>, row: number) => (Number.isFinite(values[row]) ? values[row]! : null);
  return Array.from({ length: series.actual.length }, (_, row) => ({
    time: new Date(series.times[row]!).toISOString().slice(0, 16),
    actual: value(series.actual, row),
    model: value(series.model, row),
    naive_24h: value(series.naive24h, row),
    naive_168h: value(series.naive168h, row),
  }));
}

function forecastSpec(rows: readonly ForecastRow[]): TopLevelSpec {
  const values = rows.flatMap((row) =>
    ([["actual", row.actual], ["model", row.model], ["naive 24 h", row.naive_24h], ["naive 168 h", row.naive_168h]] as const).flatMap(([name, kilowatts]) => (kilowatts === null ? [] : [{ time: row.time, series: name, kilowatts }])),
  );
  return {
    title: { text: "Forecast vs actual (held-out weeks)", subtitle: "next-hour global active power; seasonal-naive: the value 24 h and 168 h earlier" },
    width: 900,
    height: 320,
    data: { values },
    mark: { type: "line", strokeWidth: 1.2, interpolate: "step-after" },
    encoding: {
      x: { field: "time", type: "temporal", title: "Target hour (UTC)", timeUnit: "yearmonthdatehoursminutes" },
      y: { field: "kilowatts", type: "quantitative", title: "Global active power (kW)" },
      color: { field: "series", type: "nominal", sort: [...SERIES], scale: { domain: [...SERIES], range: ["#222222", "#e45756", "#72b7b2", "#b279a2"] }, title: null, legend: { orient: "top" } },
      opacity: { condition: { test: "datum.series === 'actual' || datum.series === 'model'", value: 1 }, value: 0.45 },
    },
  } as TopLevelSpec;
}

function residualSpec(hours: readonly HourResiduals[]): TopLevelSpec {
  return {
    title: { text: "Forecast residuals by hour of day (held-out weeks)", subtitle: "bar: mean residual (forecast − actual); line: 10th–90th percentile; dot: median" },
    width: 600,
    height: 300,
    data: { values: hours },
    encoding: { x: { field: "hour", type: "ordinal", title: "Hour of day (UTC)" } },
    layer: [
      { mark: { type: "bar", color: "#9ecae9" }, encoding: { y: { field: "mean", type: "quantitative", title: "Residual (kW)" } } },
      { mark: { type: "rule", color: "#4c78a8" }, encoding: { y: { field: "p10", type: "quantitative" }, y2: { field: "p90" } } },
      { mark: { type: "point", filled: true, color: "#e45756" }, encoding: { y: { field: "median", type: "quantitative" } } },
    ],
  } as TopLevelSpec;
}

export async function writeForecastReports(reports: ReportSet, series: ForecastSeries): Promise<void> {
  const rows = forecastRows(series);
  await reports.json("forecast_vs_actual.json", { unit: "kW", rows });
  await reports.chart("forecast_vs_actual.png", forecastSpec(rows));
  const hours = residualsByHour(series);
  await reports.json("residuals_by_hour.json", { residual: "forecast - actual", unit: "kW", hours });
  await reports.chart("residuals_by_hour.png", residualSpec(hours));
}
