import path from "node:path";
import { tableFromIPC, type Data, type Table } from "apache-arrow";
import { DataError } from "../../core/errors.js";
import type { TrainingWindow, WindowPartition } from "./training-window.js";
import { sha256Hex } from "../../core/hash.js";
import { readFileOr } from "../../core/files.js";

// The rows of a training window as one row-major float64 matrix for LightGBM, plus what the
// split needs (bar time and symbol per row) and the three-class label.
//
// Model inputs are the partition's columns minus (a) identifiers, (b) the label and the forward
// return it is made of (the answer), and (c) price and size levels: a price level or a raw
// volume names the symbol and the era rather than a pattern, so a tree splitting on it learns
// "AAPL in January" and fails in February. Returns, volatility, imbalance and z-scores carry
// the same information in units that hold across symbols and time. New feature columns are
// picked up automatically unless they are listed here.
export const NON_FEATURE_COLUMNS = new Set([
  "bar_start", "symbol", "label", "forward_return", "open", "high", "low", "close", "vwap", "volume", "trade_count",
]);

export interface TickDesignMatrix {
  featureNames: string[];
  rowCount: number;
  /** rowCount × featureNames.length, row-major; NaN = not enough history (LightGBM: missing). */
  values: Float64Array;
  /** -1 / 0 / +1; meaningful only where labelValid is 1. */
  label: Int8Array;
  labelValid: Uint8Array;
  /** Bar start, milliseconds since the epoch (bars are whole seconds, so exact). */
  barTimes: Float64Array;
  symbolIds: Int32Array;
  symbols: string[];
}

/** The feature columns of a partition, in file order (the same in every partition of one feature set). */
export function featureColumnNames(table: Table): string[] {
  return table.schema.fields.map((field) => field.name).filter((name) => !NON_FEATURE_COLUMNS.has(name));
}

async function readPartitionTable(partition: WindowPartition): Promise<Table> {
  const file = path.join(partition.directory, partition.manifest.output.file);
  const bytes = await readFileOr(file, (reason) => new DataError(`${file}: cannot read the features of ${partition.date}: ${reason}`));
  // The manifest is the commitment the data version hashes: a features file that changed after
  // its manifest was written is not the data this run would claim it trained on.
  if (sha256Hex(bytes) !== partition.manifest.output.sha256) throw new DataError(`${file}: content does not match its manifest's sha256; recompute ${partition.date} with \`train tick features --force\``);
  try {
    return tableFromIPC(bytes);
  } catch (error) {
    throw new DataError(`${file}: cannot decode Arrow IPC: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function chunksOf(table: Table, name: string, date: string): Data[] {
  const column = table.getChild(name);
  if (!column) throw new DataError(`features of ${date} have no column "${name}"`);
  return column.data as Data[];
}

/** Visits every value of a column's chunks in row order, with its validity bit. */
function forEachValue(chunks: Data[], visit: (value: number | bigint, index: number, valid: boolean) => void): void {
  let index = 0;
  for (const chunk of chunks) {
    const values = chunk.values as ArrayLike<number | bigint>;
    const bitmap = chunk.nullBitmap;
    for (let position = 0; position < chunk.length; position += 1) {
      const at = chunk.offset + position;
      const valid = !bitmap || bitmap.length === 0 || (((bitmap[at >> 3] as number) >> (at & 7)) & 1) === 1;
      visit(values[at] as number | bigint, index, valid);
      index += 1;
    }
  }
}

export async function loadDesignMatrix(window: TrainingWindow): Promise<TickDesignMatrix> {
  const tables: Array<{ date: string; table: Table }> = [];
  for (const partition of window.partitions) tables.push({ date: partition.date, table: await readPartitionTable(partition) });
  const featureNames = featureColumnNames(tables[0]?.table as Table);
  const rowCount = tables.reduce((sum, entry) => sum + entry.table.numRows, 0);
  const width = featureNames.length;
  const matrix: TickDesignMatrix = {
    featureNames, rowCount, values: new Float64Array(rowCount * width), label: new Int8Array(rowCount), labelValid: new Uint8Array(rowCount),
    barTimes: new Float64Array(rowCount), symbolIds: new Int32Array(rowCount), symbols: [],
  };
  const symbolIds = new Map<string, number>();
  let offset = 0;
  for (const { date, table } of tables) {
    const names = featureColumnNames(table);
    if (names.join(",") !== featureNames.join(",")) throw new DataError(`features of ${date} have columns ${names.join(", ")}; ${window.partitions[0]?.date} has ${featureNames.join(", ")}`);
    featureNames.forEach((name, column) => {
      forEachValue(chunksOf(table, name, date), (value, row, valid) => {
        matrix.values[(offset + row) * width + column] = valid ? Number(value) : Number.NaN;
      });
    });
    forEachValue(chunksOf(table, "label", date), (value, row, valid) => {
      matrix.label[offset + row] = Number(value);
      matrix.labelValid[offset + row] = valid ? 1 : 0;
    });
    forEachValue(chunksOf(table, "bar_start", date), (value, row) => {
      matrix.barTimes[offset + row] = Number(BigInt(value) / 1_000_000n);
    });
    const symbols = table.getChild("symbol");
    if (!symbols) throw new DataError(`features of ${date} have no column "symbol"`);
    for (let row = 0; row < table.numRows; row += 1) {
      const symbol = String(symbols.get(row));
      let id = symbolIds.get(symbol);
      if (id === undefined) {
        id = matrix.symbols.length;
        symbolIds.set(symbol, id);
        matrix.symbols.push(symbol);
      }
      matrix.symbolIds[offset + row] = id;
    }
    offset += table.numRows;
  }
  return matrix;
}

/** Rows `indices` of the matrix, in that order, as a new row-major matrix. */
export function selectRows(matrix: TickDesignMatrix, indices: Int32Array): Float64Array {
  const width = matrix.featureNames.length;
  const selected = new Float64Array(indices.length * width);
  indices.forEach((row, position) => selected.set(matrix.values.subarray(row * width, (row + 1) * width), position * width));
  return selected;
}

/** The binary target of the classifier: 1 when the bar's label is "up" (+1), else 0. */
export function upTarget(matrix: TickDesignMatrix, indices: Int32Array): Float32Array {
  return Float32Array.from(indices, (row) => (matrix.label[row] === 1 ? 1 : 0));
}
