import { readFile } from "node:fs/promises";
import path from "node:path";
import { normalisationTable, IDENTITY, writeImageHwc } from "../data/cifar10/batches.js";
import { CIFAR10_PIXELS_PER_IMAGE, parseBatch } from "../data/cifar10/format.js";
import { parseIdx } from "../data/idx.js";
import { DataError } from "../core/errors.js";

// What `train predict` reads: the workflow's own data files (MNIST IDX images, CIFAR-10 binary
// batches) preprocessed exactly as evaluation does, JSON lines of model-input floats for the CNNs,
// or a CSV with a header naming the LightGBM model's features.

export interface ImageInputs {
  /** Flat NHWC float32, in the model's input space. */
  images: Float32Array;
  count: number;
}

const PIXEL_SCALE = 255;

function isJsonLines(file: string): boolean {
  return /\.jsonl?$/i.test(file);
}

async function readInput(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (cause) {
    throw new DataError(`cannot read --input ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
}

/** One image per line: a JSON array (flat or nested) of `imageSize` numbers. */
function parseJsonLines(text: string, file: string, imageSize: number): ImageInputs {
  const lines = text.split(/\r?\n/).map((line, index) => ({ line: line.trim(), number: index + 1 })).filter(({ line }) => line !== "");
  const images = new Float32Array(lines.length * imageSize);
  lines.forEach(({ line, number }, row) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new DataError(`${file} line ${number}: not JSON; expected an array of ${imageSize} numbers per line`);
    }
    const values = Array.isArray(parsed) ? (parsed.flat(3) as unknown[]) : [];
    if (values.length !== imageSize || values.some((value) => typeof value !== "number" || !Number.isFinite(value))) {
      throw new DataError(`${file} line ${number}: expected an array of ${imageSize} finite numbers, got ${Array.isArray(parsed) ? `${values.length} values` : typeof parsed}`);
    }
    images.set(values as number[], row * imageSize);
  });
  if (lines.length === 0) throw new DataError(`${file}: no images in it`);
  return { images, count: lines.length };
}

export async function readMnistInputs(file: string, imageSize: number): Promise<ImageInputs> {
  const bytes = await readInput(file);
  if (isJsonLines(file)) return parseJsonLines(bytes.toString("utf8"), file, imageSize);
  const idx = parseIdx(bytes, path.basename(file), 3);
  const [count = 0, rows = 0, columns = 0] = idx.dimensions;
  if (rows * columns !== imageSize) throw new DataError(`${file}: images are ${rows}×${columns}, the model takes ${imageSize} pixels`);
  return { images: Float32Array.from(idx.values, (pixel) => pixel / PIXEL_SCALE), count };
}

/** `preprocessing`: the tfjs flavor's record of the normalisation the model was trained with. */
export async function readCifar10Inputs(file: string, imageSize: number, preprocessing?: { mean?: number[]; std?: number[] }): Promise<ImageInputs> {
  const bytes = await readInput(file);
  if (isJsonLines(file)) return parseJsonLines(bytes.toString("utf8"), file, imageSize);
  const split = parseBatch(bytes, path.basename(file));
  const table = normalisationTable(preprocessing?.mean, preprocessing?.std);
  const images = new Float32Array(split.count * CIFAR10_PIXELS_PER_IMAGE);
  for (let index = 0; index < split.count; index += 1) writeImageHwc(split.images, index * CIFAR10_PIXELS_PER_IMAGE, images, index * CIFAR10_PIXELS_PER_IMAGE, IDENTITY, table);
  return { images, count: split.count };
}

/** A CSV whose header names (at least) every feature; rows become a row-major float64 matrix. */
export async function readFeatureCsv(file: string, features: readonly string[]): Promise<{ values: Float64Array; rows: number }> {
  const text = (await readInput(file)).toString("utf8");
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  const header = (lines[0] ?? "").split(",").map((name) => name.trim().replace(/^"|"$/g, ""));
  const missing = features.filter((feature) => !header.includes(feature));
  if (lines.length === 0 || missing.length > 0) {
    throw new DataError(`${file}: the header lacks the model's feature column${missing.length === 1 ? "" : "s"} ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""} (a CSV with one column per feature, named as in the model's signature)`);
  }
  const columns = features.map((feature) => header.indexOf(feature));
  const rows = lines.length - 1;
  const values = new Float64Array(rows * features.length);
  for (let row = 0; row < rows; row += 1) {
    const cells = lines[row + 1]!.split(",");
    if (cells.length !== header.length) throw new DataError(`${file} line ${row + 2}: ${cells.length} fields, the header has ${header.length}`);
    columns.forEach((column, feature) => {
      const cell = (cells[column] ?? "").trim();
      // An empty cell is a missing value, as LightGBM treats NaN.
      const value = cell === "" ? Number.NaN : Number(cell);
      if (cell !== "" && Number.isNaN(value)) throw new DataError(`${file} line ${row + 2}: ${features[feature]} is ${JSON.stringify(cell)}, not a number`);
      values[row * features.length + feature] = value;
    });
  }
  if (rows === 0) throw new DataError(`${file}: no rows after the header`);
  return { values, rows };
}
