import { DataError } from "../../core/errors.js";

// Walk-forward split for bar data: train on the earliest bar times, stop early on the next
// ones, measure on the last ones; never shuffled, because a shuffled split lets the model see
// the minutes around each test bar and overstates its skill.
//
// A label looks `label_horizon_bars` bars ahead of its own symbol. A training row within that
// many bars of the validation period therefore has a label made of validation-period prices:
// the purge gap drops the last `purgeGapBars` bars of each symbol before each boundary (train
// → validation and validation → test). Counting is per symbol and in that symbol's own bars,
// like the label horizon, so empty minutes of a quiet symbol cannot shrink the gap.

export interface SplitRows {
  /** Bar time of each row (any unit, ordered like time). */
  barTimes: ArrayLike<number>;
  /** Symbol of each row: rows of one symbol form its bar sequence. */
  symbolIds: ArrayLike<number>;
}

export interface SplitOptions {
  validationFraction: number;
  testFraction: number;
  purgeGapBars: number;
}

export interface WalkForwardSplit {
  /** Row indices of each period in time order (then symbol, then row). */
  train: Int32Array;
  validation: Int32Array;
  test: Int32Array;
  /** First bar time of the validation and of the test period. */
  validationStart: number;
  testStart: number;
  /** Rows dropped by the purge gap. */
  purgedRows: number;
}

const TRAIN = 0;
const VALIDATION = 1;
const TEST = 2;

function distinctSorted(values: ArrayLike<number>): number[] {
  return [...new Set(Array.from(values))].sort((a, b) => a - b);
}

/** Rows of each symbol ordered by time: the bar sequence the label horizon counts in. */
function sequencesBySymbol(rows: SplitRows): number[][] {
  const bySymbol = new Map<number, number[]>();
  for (let row = 0; row < rows.barTimes.length; row += 1) {
    const symbol = rows.symbolIds[row] as number;
    let sequence = bySymbol.get(symbol);
    if (!sequence) bySymbol.set(symbol, (sequence = []));
    sequence.push(row);
  }
  for (const sequence of bySymbol.values()) sequence.sort((a, b) => (rows.barTimes[a] as number) - (rows.barTimes[b] as number) || a - b);
  return [...bySymbol.values()];
}

export function walkForwardSplit(rows: SplitRows, options: SplitOptions): WalkForwardSplit {
  const { validationFraction, testFraction, purgeGapBars } = options;
  if (!(validationFraction > 0 && testFraction > 0 && validationFraction + testFraction < 1)) {
    throw new RangeError(`validation (${validationFraction}) and test (${testFraction}) fractions must be positive and leave room for training`);
  }
  const times = distinctSorted(rows.barTimes);
  const validationIndex = Math.floor(times.length * (1 - validationFraction - testFraction));
  const testIndex = Math.floor(times.length * (1 - testFraction));
  if (validationIndex < 1 || testIndex <= validationIndex || testIndex >= times.length) {
    throw new DataError(`${times.length} distinct bar times are too few for a train / validation / test split of ${1 - validationFraction - testFraction} / ${validationFraction} / ${testFraction}`);
  }
  const validationStart = times[validationIndex] as number;
  const testStart = times[testIndex] as number;
  const periodOf = (row: number) => {
    const time = rows.barTimes[row] as number;
    return time < validationStart ? TRAIN : time < testStart ? VALIDATION : TEST;
  };
  const keep = new Uint8Array(rows.barTimes.length).fill(1);
  let purgedRows = 0;
  for (const sequence of sequencesBySymbol(rows)) {
    for (let position = 0; position < sequence.length; position += 1) {
      // Periods only grow along a sequence, so the farthest bar within the gap decides.
      const farthest = sequence[Math.min(position + purgeGapBars, sequence.length - 1)] as number;
      const row = sequence[position] as number;
      if (periodOf(farthest) > periodOf(row)) {
        keep[row] = 0;
        purgedRows += 1;
      }
    }
  }
  const ordered = Array.from({ length: rows.barTimes.length }, (_, row) => row)
    .sort((a, b) => (rows.barTimes[a] as number) - (rows.barTimes[b] as number) || (rows.symbolIds[a] as number) - (rows.symbolIds[b] as number) || a - b);
  const periods: number[][] = [[], [], []];
  for (const row of ordered) if (keep[row] === 1) (periods[periodOf(row)] as number[]).push(row);
  return {
    train: Int32Array.from(periods[TRAIN] as number[]),
    validation: Int32Array.from(periods[VALIDATION] as number[]),
    test: Int32Array.from(periods[TEST] as number[]),
    validationStart,
    testStart,
    purgedRows,
  };
}

/** The rows of `indices` whose `keep` flag is 1 (e.g. rows with a label), with the count dropped. */
export function keepRows(indices: Int32Array, keep: Uint8Array): { rows: Int32Array; dropped: number } {
  const rows = indices.filter((row) => keep[row] === 1);
  return { rows, dropped: indices.length - rows.length };
}
