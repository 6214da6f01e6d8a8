import { HOUR_MS, VALUE_COLUMNS } from "./format.js";

// Hourly resampling: the mean of each column over the minutes of the hour that have a value.
// An hour with fewer than `minMinutes` values in a column is missing (NaN) in that column, so a
// long outage never looks like a quiet hour.

export interface HourlySeries {
  /** Naive timestamp (see format.ts) of the first hour. */
  start: number;
  length: number;
  /** One array per VALUE_COLUMNS entry, `length` hours each, NaN where missing. */
  columns: Float64Array[];
}

export class HourlyResampler {
  private readonly sums = new Float64Array(VALUE_COLUMNS.length);
  private readonly counts = new Float64Array(VALUE_COLUMNS.length);
  private readonly output: number[][] = VALUE_COLUMNS.map(() => []);
  private start = Number.NaN;
  private currentHour = Number.NaN;

  constructor(private readonly minMinutes: number) {}

  /** Rows must arrive in time order (the reader guarantees it). */
  add = (timestamp: number, values: Float64Array): void => {
    const hour = Math.floor(timestamp / HOUR_MS) * HOUR_MS;
    if (hour !== this.currentHour) {
      if (Number.isNaN(this.currentHour)) this.start = hour;
      else {
        this.flush();
        // Hours with no rows at all (absent from the file) are missing too.
        for (let gap = this.currentHour + HOUR_MS; gap < hour; gap += HOUR_MS) this.pushMissing();
      }
      this.currentHour = hour;
    }
    for (let column = 0; column < values.length; column += 1) {
      const value = values[column]!;
      if (!Number.isNaN(value)) {
        this.sums[column] = this.sums[column]! + value;
        this.counts[column] = this.counts[column]! + 1;
      }
    }
  };

  finish(): HourlySeries {
    if (!Number.isNaN(this.currentHour)) this.flush();
    this.currentHour = Number.NaN;
    const length = this.output[0]!.length;
    return { start: this.start, length, columns: this.output.map((values) => Float64Array.from(values)) };
  }

  private flush(): void {
    for (let column = 0; column < VALUE_COLUMNS.length; column += 1) {
      const count = this.counts[column]!;
      this.output[column]!.push(count >= this.minMinutes ? this.sums[column]! / count : Number.NaN);
      this.sums[column] = 0;
      this.counts[column] = 0;
    }
  }

  private pushMissing(): void {
    for (const values of this.output) values.push(Number.NaN);
  }
}
