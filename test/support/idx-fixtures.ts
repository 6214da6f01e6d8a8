import { writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";

/** Builds an IDX file of unsigned bytes in memory: magic, big-endian dimensions, values. */
export function idxBytes(dimensions: number[], values: Uint8Array, typeCode = 0x08): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dimensions.length);
  header.writeUInt8(typeCode, 2);
  header.writeUInt8(dimensions.length, 3);
  dimensions.forEach((size, index) => header.writeUInt32BE(size, 4 + 4 * index));
  return Buffer.concat([header, values]);
}

/** Writes a small but well-formed MNIST folder: images whose class is readable from the pixels. */
export async function writeMnistFolder(directory: string, counts: { train: number; test: number }, options: { gzip?: boolean } = {}): Promise<void> {
  const write = async (name: string, bytes: Uint8Array) =>
    writeFile(path.join(directory, options.gzip ? `${name}.gz` : name), options.gzip ? gzipSync(bytes) : bytes);
  for (const [prefix, count] of [["train", counts.train], ["t10k", counts.test]] as const) {
    const labels = new Uint8Array(count).map((_, index) => index % 10);
    const images = new Uint8Array(count * 784);
    // A bright horizontal bar whose row encodes the label: learnable in a few steps.
    labels.forEach((label, index) => images.fill(255, index * 784 + (2 + label * 2) * 28, index * 784 + (3 + label * 2) * 28));
    await write(`${prefix}-images-idx3-ubyte`, idxBytes([count, 28, 28], images));
    await write(`${prefix}-labels-idx1-ubyte`, idxBytes([count], labels));
  }
}
