import { describe, expect, it } from "vitest";
import { buildFeatures, featureColumns, WARMUP_HOURS } from "../../../src/workflows/power/features.js";
import { HOUR_MS, MINUTE_MS, VALUE_COLUMNS } from "../../../src/data/power/format.js";
import { HourlyResampler, type HourlySeries } from "../../../src/data/power/hourly.js";
import { splitByTime } from "../../../src/workflows/power/split.js";
import { DataError } from "../../../src/core/errors.js";

const START = Date.UTC(2007, 0, 1); // a Monday

/** Active power = the hour's index (easy to check lags and windows by hand); other columns constant. */
function rampSeries(length: number, edit: (power: Float64Array) => void = () => {}): HourlySeries {
  const power = Float64Array.from({ length }, (_, hour) => hour);
  edit(power);
  return { start: START, length, columns: VALUE_COLUMNS.map((column) => (column === "global_active_power" ? power : new Float64Array(length).fill(column === "voltage" ? 240 : 1))) };
}

function rowOf(table: ReturnType<typeof buildFeatures>, targetHour: number): Record<string, number> {
  const index = table.targetTimes.indexOf(START + targetHour * HOUR_MS);
  expect(index).toBeGreaterThanOrEqual(0);
  const width = table.columns.length;
  return Object.fromEntries(table.columns.map((name, column) => [name, table.values[index * width + column]!]));
}

describe("hourly resampling", () => {
  it("averages the minutes with a value and marks thin or absent hours missing", () => {
    const resampler = new HourlyResampler(2);
    const row = (value: number) => Float64Array.from(VALUE_COLUMNS, () => value);
    resampler.add(START, row(1));
    resampler.add(START + MINUTE_MS, row(3));
    resampler.add(START + 2 * MINUTE_MS, row(Number.NaN)); // `?` rows do not count as zeros
    resampler.add(START + HOUR_MS, row(5)); // one minute only: too few
    resampler.add(START + 3 * HOUR_MS + 30 * MINUTE_MS, row(7)); // hour 2 has no rows at all
    resampler.add(START + 3 * HOUR_MS + 59 * MINUTE_MS, row(9));
    const series = resampler.finish();
    expect(series.start).toBe(START);
    expect(Array.from(series.columns[0]!)).toEqual([2, Number.NaN, Number.NaN, 8]);
  });
});

describe("features", () => {
  it("computes lags, past-only rolling windows and calendar fields for the target hour", () => {
    const table = buildFeatures(rampSeries(200));
    expect(table.columns).toEqual(featureColumns());
    expect(table.rowCount).toBe(200 - WARMUP_HOURS);
    const row = rowOf(table, 170); // 2007-01-08 02:00, a Monday
    expect(table.targets[table.targetTimes.indexOf(START + 170 * HOUR_MS)]).toBe(170);
    expect(row.global_active_power_lag_1h).toBe(169);
    expect(row.global_active_power_lag_2h).toBe(168);
    expect(row.global_active_power_lag_3h).toBe(167);
    expect(row.global_active_power_lag_24h).toBe(146);
    expect(row.global_active_power_lag_48h).toBe(122);
    expect(row.global_active_power_lag_168h).toBe(2);
    expect(row.global_active_power_mean_24h).toBeCloseTo((146 + 169) / 2, 12); // hours 146..169
    expect(row.global_active_power_std_24h).toBeCloseTo(Math.sqrt((24 * 25) / 12), 9); // sample std of 24 consecutive integers
    expect(row.global_active_power_mean_168h).toBeCloseTo((2 + 169) / 2, 12);
    expect(row.voltage_lag_1h).toBe(240);
    expect([row.hour, row.weekday, row.month]).toEqual([2, 0, 1]);
  });

  it("never looks at the target hour or later (changing the future changes no feature)", () => {
    const base = buildFeatures(rampSeries(240));
    const changed = buildFeatures(rampSeries(240, (power) => power.fill(1000, 200)));
    const width = base.columns.length;
    const row = base.targetTimes.indexOf(START + 200 * HOUR_MS);
    expect(Array.from(changed.values.subarray(0, (row + 1) * width))).toEqual(Array.from(base.values.subarray(0, (row + 1) * width)));
    expect(changed.targets[row]).toBe(1000);
  });

  it("drops and counts rows whose target is missing; a gap makes lags and thin windows missing, not zero", () => {
    const table = buildFeatures(rampSeries(400, (power) => power.fill(Number.NaN, 230, 300)));
    expect(table.droppedMissingTarget).toBe(70);
    expect(table.rowCount).toBe(400 - WARMUP_HOURS - 70);
    const row = rowOf(table, 300);
    expect(row.global_active_power_lag_1h).toBeNaN();
    expect(row.global_active_power_mean_24h).toBeNaN(); // no value in hours 276..299
    expect(row.global_active_power_lag_168h).toBe(132);
    expect(row.global_active_power_mean_168h).toBeCloseTo((132 + 229) / 2, 9); // only the 98 valid hours 132..229 (at least half the window)
  });
});

describe("time split", () => {
  it("keeps train < validation < test in time, with the last weeks held out", () => {
    const weeks = 10;
    const table = buildFeatures(rampSeries(weeks * 168));
    const split = splitByTime(table, 2, 1);
    expect(split.test.end).toBe(table.rowCount);
    expect(split.test.end - split.test.begin).toBe(2 * 168);
    expect(split.validation.end - split.validation.begin).toBe(168);
    expect(split.train).toEqual({ begin: 0, end: split.validation.begin });
    const times = table.targetTimes;
    expect(times[split.train.end - 1]!).toBeLessThan(split.validationStart);
    expect(times[split.validation.begin]!).toBe(split.validationStart);
    expect(times[split.validation.end - 1]!).toBeLessThan(split.testStart);
    expect(times[split.test.begin]!).toBe(split.testStart);
    for (let index = 1; index < table.rowCount; index += 1) expect(times[index]!).toBeGreaterThan(times[index - 1]!);
  });

  it("explains when the data is too short for the requested periods", () => {
    const table = buildFeatures(rampSeries(3 * 168));
    expect(() => splitByTime(table, 4, 1)).toThrow(DataError);
    expect(() => splitByTime(table, 4, 1)).toThrow(/cannot hold 4 test \+ 1 validation weeks and a training period/);
  });
});

describe("validate step (DAG)", () => {
  it("reads and splits without training, returning the data version and split sizes", async () => {
    const { temporaryDirectory } = await import("./fixtures.js");
    const { writeSyntheticPowerFile } = await import("../../../src/data/power/synthetic-file.js");
    const { powerParamsSchema } = await import("../../../src/workflows/power/params.js");
    const { powerWorkflow } = await import("../../../src/workflows/power/workflow.js");
    const { createReporter } = await import("../../../src/runtime/reporter.js");
    const file = `${await temporaryDirectory()}/power.txt`;
    await writeSyntheticPowerFile(file, { days: 60, seed: 9 });
    const params = powerParamsSchema.parse({ data_file: file, test_weeks: 2, validation_weeks: 1 });
    const result = await powerWorkflow.validate!(params, createReporter("json"));
    expect(result).toMatchObject({ data_rows: "86400", data_first_timestamp: "2006-12-16 00:00", data_last_timestamp: "2007-02-13 23:59", rows_test: expect.any(Number) });
    expect(result.data_version).toMatch(/^[0-9a-f]{64}$/);
    expect(Number(result.rows_test)).toBeLessThanOrEqual(2 * 168);
    expect(Number(result.rows_train)).toBeGreaterThan(0);
  });
});
