import { DataError } from "../../core/errors.js";

// The UCI "Individual household electric power consumption" text format: one row per minute,
// `;`-separated, `d/m/yyyy` dates (the real file does not zero-pad day or month), `hh:mm:ss`
// times, and `?` (or an empty field) for a missing measurement.

export const POWER_HEADER = "Date;Time;Global_active_power;Global_reactive_power;Voltage;Global_intensity;Sub_metering_1;Sub_metering_2;Sub_metering_3";

/** The seven measurement columns, in file order, under the snake_case names used for features and metrics. */
export const VALUE_COLUMNS = [
  "global_active_power",
  "global_reactive_power",
  "voltage",
  "global_intensity",
  "sub_metering_1",
  "sub_metering_2",
  "sub_metering_3",
] as const;
export type ValueColumn = (typeof VALUE_COLUMNS)[number];
export const COLUMN_COUNT = 2 + VALUE_COLUMNS.length;

/**
 * Physical range of each measurement for one household supply (documented in README): the UCI
 * file stays far inside (active power ≤ 11.2 kW, voltage 223-254 V, intensity ≤ 48.4 A, sub-meters
 * ≤ 88 Wh/min). A value outside (negative, or 1e308) cannot be a reading: it is rejected (treated
 * as missing and counted), never trained on. The bounds are generous: a 3-phase 63 A supply is
 * about 43 kW, and a minute at 50 kW is 833 Wh.
 */
export const VALUE_BOUNDS: Record<ValueColumn, { min: number; max: number; unit: string }> = {
  global_active_power: { min: 0, max: 50, unit: "kW" },
  global_reactive_power: { min: 0, max: 50, unit: "kVAR" },
  voltage: { min: 0, max: 500, unit: "V" },
  global_intensity: { min: 0, max: 250, unit: "A" },
  sub_metering_1: { min: 0, max: 1000, unit: "Wh" },
  sub_metering_2: { min: 0, max: 1000, unit: "Wh" },
  sub_metering_3: { min: 0, max: 1000, unit: "Wh" },
};

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/**
 * Timestamps are the household's wall-clock time with no zone in the file, so they are kept as
 * "naive" milliseconds (Date.UTC of the wall-clock fields): calendar features then read the
 * same hour and weekday the file shows, whatever zone the pod runs in.
 */
export function parseDate(text: string, where: string): number {
  const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
  if (!match) throw new DataError(`${where}: date ${JSON.stringify(text)} is not d/m/yyyy`);
  const day = Number(match[1]);
  const month = Number(match[2]);
  const year = Number(match[3]);
  const time = Date.UTC(year, month - 1, day);
  const check = new Date(time);
  if (month < 1 || month > 12 || check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) {
    throw new DataError(`${where}: date ${JSON.stringify(text)} does not exist (day/month/year)`);
  }
  return time;
}

/** `hh:mm:ss` → milliseconds since midnight; parsed by character codes because it runs 2 million times. */
export function parseTime(text: string, where: string): number {
  if (text.length === 8 && text.charCodeAt(2) === 58 && text.charCodeAt(5) === 58) {
    const hours = twoDigits(text, 0);
    const minutes = twoDigits(text, 3);
    const seconds = twoDigits(text, 6);
    if (hours >= 0 && hours < 24 && minutes >= 0 && minutes < 60 && seconds >= 0 && seconds < 60) {
      return ((hours * 60 + minutes) * 60 + seconds) * 1000;
    }
  }
  throw new DataError(`${where}: time ${JSON.stringify(text)} is not hh:mm:ss`);
}

function twoDigits(text: string, offset: number): number {
  const tens = text.charCodeAt(offset) - 48;
  const units = text.charCodeAt(offset + 1) - 48;
  if (tens < 0 || tens > 9 || units < 0 || units > 9) return -1;
  return tens * 10 + units;
}

/** A measurement, or NaN for `?`/empty. Anything else that is not a finite number is a format error. */
export function parseValue(text: string, column: ValueColumn, where: string): number {
  if (text === "?" || text === "") return Number.NaN;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new DataError(`${where}: ${column} value ${JSON.stringify(text)} is not a number or "?"`);
  return value;
}

/** Formats a naive timestamp the way the file writes it (d/m/yyyy, hh:mm:ss). */
export function formatTimestamp(time: number): { date: string; time: string } {
  const at = new Date(time);
  const pad = (value: number) => String(value).padStart(2, "0");
  return {
    date: `${at.getUTCDate()}/${at.getUTCMonth() + 1}/${at.getUTCFullYear()}`,
    time: `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}`,
  };
}

export function isoMinute(time: number): string {
  return new Date(time).toISOString().slice(0, 16).replace("T", " ");
}
