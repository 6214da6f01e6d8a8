import { DataError } from "../../core/errors.js";
import { HOUR_MS } from "../../data/power/format.js";
import type { FeatureTable } from "./features.js";

// Time-based split, never shuffled: train < validation < test in target time. The last
// `testWeeks` weeks are held out for the final metrics; the `validationWeeks` before them drive
// early stopping, so the test period never influences the model.

export interface RowRange {
  /** First row (inclusive) and end row (exclusive) in the feature table. */
  begin: number;
  end: number;
}

export interface TimeSplit {
  train: RowRange;
  validation: RowRange;
  test: RowRange;
  /** Naive timestamps where validation and test begin. */
  validationStart: number;
  testStart: number;
}

const WEEK_MS = 7 * 24 * HOUR_MS;

export function splitByTime(table: FeatureTable, testWeeks: number, validationWeeks: number): TimeSplit {
  const times = table.targetTimes;
  if (table.rowCount === 0) throw new DataError("no rows with a target after the 168-hour warm-up: the data covers too little time");
  const last = times[table.rowCount - 1]!;
  const testStart = last + HOUR_MS - testWeeks * WEEK_MS;
  const validationStart = testStart - validationWeeks * WEEK_MS;
  const firstAtOrAfter = (time: number) => {
    let low = 0;
    let high = table.rowCount;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (times[middle]! < time) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  const validationBegin = firstAtOrAfter(validationStart);
  const testBegin = firstAtOrAfter(testStart);
  const split = {
    train: { begin: 0, end: validationBegin },
    validation: { begin: validationBegin, end: testBegin },
    test: { begin: testBegin, end: table.rowCount },
    validationStart,
    testStart,
  };
  for (const [name, range] of Object.entries({ train: split.train, validation: split.validation, test: split.test })) {
    if (range.end - range.begin < 24) {
      const weeks = Math.ceil((last - times[0]!) / WEEK_MS);
      throw new DataError(`the ${name} period has ${range.end - range.begin} hourly rows: ${weeks} week(s) of usable data cannot hold ${testWeeks} test + ${validationWeeks} validation weeks and a training period (use more data or smaller --test-weeks/--validation-weeks)`);
    }
  }
  return split;
}

/** Rows `range` of a feature matrix, as their own row-major matrix. */
export function sliceRows(values: Float64Array, width: number, range: RowRange): Float64Array {
  return values.slice(range.begin * width, range.end * width);
}
