import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRandom } from "../../src/data/random.js";


export interface Problem {
  values: Float64Array;
  labels: Float32Array;
  numColumns: number;
  numRows: number;
}

function features(numRows: number, numColumns: number, random: () => number): Float64Array {
  const values = new Float64Array(numRows * numColumns);
  for (let index = 0; index < values.length; index += 1) values[index] = random() * 2 - 1;
  return values;
}

/** y = 3 x0 - 2 x1² + sin(3 x2) + noise: non-linear enough that trees have to work. */
export function makeRegressionProblem(numRows: number, numColumns = 5, seed = 1): Problem {
  const random = seededRandom(seed);
  const values = features(numRows, numColumns, random);
  const labels = new Float32Array(numRows);
  for (let row = 0; row < numRows; row += 1) {
    const x = (column: number) => values[row * numColumns + column] as number;
    labels[row] = 3 * x(0) - 2 * x(1) * x(1) + Math.sin(3 * x(2)) + 0.1 * (random() - 0.5);
  }
  return { values, labels, numColumns, numRows };
}

/** Label 1 when x0 + x1·x2 > 0, with 5 % of labels flipped. */
export function makeBinaryProblem(numRows: number, numColumns = 5, seed = 2): Problem {
  const random = seededRandom(seed);
  const values = features(numRows, numColumns, random);
  const labels = new Float32Array(numRows);
  for (let row = 0; row < numRows; row += 1) {
    const x = (column: number) => values[row * numColumns + column] as number;
    const positive = x(0) + x(1) * x(2) > 0;
    labels[row] = (random() < 0.05 ? !positive : positive) ? 1 : 0;
  }
  return { values, labels, numColumns, numRows };
}

/** Rows [start, end) of a problem, as a new problem. */
export function sliceRows(problem: Problem, start: number, end: number): Problem {
  return {
    values: problem.values.slice(start * problem.numColumns, end * problem.numColumns),
    labels: problem.labels.slice(start, end),
    numColumns: problem.numColumns,
    numRows: end - start,
  };
}

/** A fresh temporary directory and its cleanup. */
export function makeTemporaryDirectory(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `podtrain-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function meanSquaredError(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  let sum = 0;
  for (let index = 0; index < labels.length; index += 1) {
    const difference = (predictions[index] as number) - (labels[index] as number);
    sum += difference * difference;
  }
  return sum / labels.length;
}
