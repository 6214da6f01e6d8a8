import { C_API_DTYPE_FLOAT32, C_API_DTYPE_FLOAT64 } from "./constants.js";

/** A dense row-major matrix: row r, column c is `values[r * numColumns + c]`. */
export interface Matrix {
  values: Float32Array | Float64Array;
  numColumns: number;
}

/** Checks the shape and returns the row count and the C API element type. */
export function describeMatrix(matrix: Matrix): { numRows: number; dataType: number } {
  const { values, numColumns } = matrix;
  if (!Number.isInteger(numColumns) || numColumns <= 0) {
    throw new RangeError(`numColumns must be a positive integer, got ${numColumns}`);
  }
  if (values.length % numColumns !== 0) {
    throw new RangeError(`matrix of ${values.length} values is not a whole number of rows of ${numColumns} columns`);
  }
  const numRows = values.length / numColumns;
  // The C API takes the row count as int32_t.
  if (numRows > 0x7fff_ffff) throw new RangeError(`too many rows for LightGBM: ${numRows}`);
  const dataType = values instanceof Float32Array ? C_API_DTYPE_FLOAT32 : C_API_DTYPE_FLOAT64;
  return { numRows, dataType };
}
