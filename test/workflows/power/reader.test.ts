import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readPowerData } from "../../../src/data/power/reader.js";
import { DataError } from "../../../src/core/errors.js";
import { SAMPLE_LINES, temporaryDirectory, writePowerFile } from "./fixtures.js";

async function readAll(source: Parameters<typeof readPowerData>[0]) {
  const rows: Array<{ time: string; values: number[] }> = [];
  const summary = await readPowerData(source, (timestamp, values) => rows.push({ time: new Date(timestamp).toISOString(), values: [...values] }));
  return { rows, summary };
}

describe("household power reader", () => {
  it("reads the exact UCI format, keeps `?` as missing and counts it per column", async () => {
    const directory = await temporaryDirectory();
    const file = await writePowerFile(path.join(directory, "household_power_consumption.txt"), SAMPLE_LINES);
    const { rows, summary } = await readAll({ file });
    expect(rows).toHaveLength(6);
    expect(rows[0]).toEqual({ time: "2006-12-16T23:58:00.000Z", values: [4.216, 0.418, 234.84, 18.4, 0, 1, 17] });
    expect(rows[2]!.values.every(Number.isNaN)).toBe(true);
    expect(rows[4]!.values[5]).toBeNaN();
    expect(rows[5]!.time).toBe("2007-01-01T00:00:00.000Z");
    expect(summary.rows).toBe(6);
    expect(summary.missingByColumn).toEqual({
      global_active_power: 1, global_reactive_power: 1, voltage: 1, global_intensity: 1, sub_metering_1: 1, sub_metering_2: 2, sub_metering_3: 1,
    });
    expect(summary.fullyMissingRows).toBe(1);
    // 00:02 absent, then 16/12 00:04 .. 31/12 23:59 absent.
    expect(summary.absentMinutes).toBe(1 + (Date.UTC(2007, 0, 1) - Date.UTC(2006, 11, 17, 0, 4)) / 60_000);
    expect(summary.dataVersion).toBe(createHash("sha256").update(await readFile(file)).digest("hex"));
    expect(new Date(summary.firstTimestamp).toISOString()).toBe("2006-12-16T23:58:00.000Z");
    expect(new Date(summary.lastTimestamp).toISOString()).toBe("2007-01-01T00:00:00.000Z");
  });

  it("parses decimals exactly like Number()", async () => {
    const directory = await temporaryDirectory();
    // Sub-metering 3 (Wh, at most 1000) carries the values: every one is inside its range.
    const values = ["0.001", "9.999", "0.5", "1e-3", "123.456789", "0.30000000000000004"];
    const lines = values.map((value, index) => `1/1/2007;00:0${index}:00;1;0;240;1;0;0;${value}`);
    const { rows } = await readAll({ file: await writePowerFile(path.join(directory, "numbers.txt"), lines) });
    expect(rows.map((row) => row.values[6])).toEqual(values.map(Number));
  });

  it("treats values outside the physical range as missing and counts them per column", async () => {
    const directory = await temporaryDirectory();
    const lines = ["-0.5;0;240;1;0;0;0", "1e308;0;240;1;0;0;0", "2.5;-0.1;240;1;0;0;0", "2.5;0;240;1;0;0;1001"].map((values, index) => `1/1/2007;00:0${index}:00;${values}`);
    const { rows, summary } = await readAll({ file: await writePowerFile(path.join(directory, "ranges.txt"), lines) });
    expect(rows.map((row) => row.values[0])).toEqual([Number.NaN, Number.NaN, 2.5, 2.5]);
    expect(summary.rejectedByColumn).toMatchObject({ global_active_power: 2, global_reactive_power: 1, sub_metering_3: 1, voltage: 0 });
    expect(summary.missingByColumn.global_active_power).toBe(0);
  });

  it("reads a directory of daily files in date order, whatever their names", async () => {
    const directory = await temporaryDirectory();
    await writePowerFile(path.join(directory, "b-first.txt"), SAMPLE_LINES.slice(0, 2));
    await writePowerFile(path.join(directory, "a-second.txt"), SAMPLE_LINES.slice(2, 5));
    await writePowerFile(path.join(directory, "0-third.txt"), SAMPLE_LINES.slice(5));
    const { rows, summary } = await readAll({ directory });
    expect(rows.map((row) => row.time)).toEqual((await readAll({ file: await writePowerFile(path.join(await temporaryDirectory(), "all.txt"), SAMPLE_LINES) })).rows.map((row) => row.time));
    expect(summary.files.map((file) => path.basename(file.path))).toEqual(["b-first.txt", "a-second.txt", "0-third.txt"]);
    expect(summary.dataVersion).toMatch(/^[0-9a-f]{64}$/);
  });

  const corrupt: Array<[string, string[], string | undefined, RegExp]> = [
    ["a bad header", SAMPLE_LINES, "Date,Time,Global_active_power", /bad\.txt:1: header "Date,Time,Global_active_power" is not the household power header/],
    ["a bad date", [SAMPLE_LINES[0]!, "31/02/2007;00:00:00;1;1;1;1;1;1;1"], undefined, /bad\.txt:3: date "31\/02\/2007" does not exist/],
    ["an ISO date", ["2007-01-01;00:00:00;1;1;1;1;1;1;1"], undefined, /bad\.txt:2: date "2007-01-01" is not d\/m\/yyyy/],
    ["a bad time", ["1/1/2007;24:00:00;1;1;1;1;1;1;1"], undefined, /bad\.txt:2: time "24:00:00" is not hh:mm:ss/],
    ["too few columns", [SAMPLE_LINES[0]!, "17/12/2006;00:00:00;1;1;1"], undefined, /bad\.txt:3: 5 columns, expected 9/],
    ["too many columns", ["17/12/2006;00:00:00;1;1;1;1;1;1;1;1"], undefined, /bad\.txt:2: 10 columns, expected 9/],
    ["a word as a value", ["17/12/2006;00:00:00;1;1;abc;1;1;1;1"], undefined, /bad\.txt:2: voltage value "abc" is not a number or "\?"/],
    ["rows out of order", [SAMPLE_LINES[1]!, SAMPLE_LINES[0]!], undefined, /bad\.txt:3: 2006-12-16 23:58 does not come after the previous row \(2006-12-16 23:59\)/],
  ];
  it.each(corrupt)("rejects %s with a DataError naming file and line", async (_name, lines, header, message) => {
    const directory = await temporaryDirectory();
    const file = await writePowerFile(path.join(directory, "bad.txt"), lines, header);
    const failure = await readAll({ file }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DataError);
    expect((failure as Error).message).toMatch(message);
  });

  it("says where to get the data when the file is missing", async () => {
    await expect(readAll({ file: "/nonexistent/household_power_consumption.txt" })).rejects.toThrow(/not found \(get it with `train data fetch power` or make one with `train power generate`\)/);
  });
});
