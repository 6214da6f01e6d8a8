import { DataError } from "../../core/errors.js";

// The official CIFAR-10 "binary version" (cifar-10-binary.tar.gz): six files of fixed-size
// records, each 1 label byte followed by a 32×32 colour image stored channel-major (the 1024 red
// bytes row by row, then the 1024 green, then the 1024 blue). No header, so sizes are the only
// integrity check besides the archive's own, and they are checked strictly.

export const CIFAR10_IMAGE_SIDE = 32;
export const CIFAR10_CHANNELS = 3;
export const CIFAR10_CLASSES = 10;
export const CIFAR10_PIXELS_PER_IMAGE = CIFAR10_IMAGE_SIDE * CIFAR10_IMAGE_SIDE * CIFAR10_CHANNELS;
export const CIFAR10_RECORD_BYTES = 1 + CIFAR10_PIXELS_PER_IMAGE;
export const CIFAR10_RECORDS_PER_BATCH = 10_000;

export const CIFAR10_TRAIN_FILES = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"] as const;
export const CIFAR10_TEST_FILE = "test_batch.bin";
export const CIFAR10_META_FILE = "batches.meta.txt";
/** Folder inside the official archive. */
export const CIFAR10_ARCHIVE_FOLDER = "cifar-10-batches-bin";
export const CIFAR10_ARCHIVE_NAME = "cifar-10-binary.tar.gz";
/** The dataset page's download address and the MD5 it publishes for the binary version. */
export const CIFAR10_OFFICIAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
export const CIFAR10_OFFICIAL_MD5 = "c32a1d4ab5d03f1284b67883e8d87530";

/** Class names in label order, as listed in batches.meta.txt. */
export const CIFAR10_CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"] as const;

export interface Cifar10Split {
  /** uint8 pixels as stored: [count, channel, row, column] (channel-major per image). */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface ParseOptions {
  /** Official batches hold exactly 10000 records; tests and subsets may relax this. */
  expectedRecords?: number;
}

/** Number of records in a batch file, after checking its size. */
export function countRecords(bytes: Uint8Array, source: string, options: ParseOptions = {}): number {
  if (bytes.length === 0) throw new DataError(`${source}: empty file; download the CIFAR-10 binary version again`);
  if (bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    const whole = Math.floor(bytes.length / CIFAR10_RECORD_BYTES);
    throw new DataError(
      `${source}: ${bytes.length} bytes is not a whole number of ${CIFAR10_RECORD_BYTES}-byte CIFAR-10 records ` +
        `(${whole} records + ${bytes.length - whole * CIFAR10_RECORD_BYTES} stray bytes): the file is truncated or not the binary version`,
    );
  }
  const count = bytes.length / CIFAR10_RECORD_BYTES;
  const expected = options.expectedRecords;
  if (expected !== undefined && count !== expected) {
    throw new DataError(`${source}: ${count} records, an official CIFAR-10 batch has exactly ${expected}; the file is truncated or not from the official archive`);
  }
  return count;
}

/**
 * Parses batch files in order straight into one split of at most `limit` images: labels are
 * checked in every record, pixels are copied once, and only for the images kept.
 */
export function parseBatches(files: Array<{ bytes: Uint8Array; source: string }>, options: ParseOptions = {}, limit?: number): Cifar10Split {
  const counts = files.map(({ bytes, source }) => countRecords(bytes, source, options));
  const total = counts.reduce((sum, count) => sum + count, 0);
  const kept = Math.min(total, limit ?? total);
  const images = new Uint8Array(kept * CIFAR10_PIXELS_PER_IMAGE);
  const labels = new Uint8Array(kept);
  let index = 0;
  files.forEach(({ bytes, source }, file) => {
    for (let record = 0; record < (counts[file] ?? 0); record += 1, index += 1) {
      const start = record * CIFAR10_RECORD_BYTES;
      const label = bytes[start] ?? 0;
      if (label >= CIFAR10_CLASSES) {
        throw new DataError(`${source}: record ${record} has label ${label}, outside 0..9; is this CIFAR-100 or a corrupt file?`);
      }
      if (index >= kept) continue;
      labels[index] = label;
      images.set(bytes.subarray(start + 1, start + CIFAR10_RECORD_BYTES), index * CIFAR10_PIXELS_PER_IMAGE);
    }
  });
  return { images, labels, count: kept };
}

/** Splits one batch file into labels and channel-major pixels, checking size and labels. */
export function parseBatch(bytes: Uint8Array, source: string, options: ParseOptions = {}): Cifar10Split {
  return parseBatches([{ bytes, source }], options);
}

/** batches.meta.txt lists the class names one per line; a different list means another data set. */
export function checkClassNames(text: string, source: string): void {
  const names = text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
  const expected = CIFAR10_CLASS_NAMES.join(",");
  if (names.join(",") !== expected) {
    throw new DataError(`${source}: class names ${JSON.stringify(names)} are not CIFAR-10's (${expected})`);
  }
}

/** Encodes images (channel-major) and labels as a batch file: the inverse of parseBatch (tests, benchmarks). */
export function encodeBatch(split: Cifar10Split): Uint8Array {
  const bytes = new Uint8Array(split.count * CIFAR10_RECORD_BYTES);
  for (let record = 0; record < split.count; record += 1) {
    bytes[record * CIFAR10_RECORD_BYTES] = split.labels[record] ?? 0;
    bytes.set(split.images.subarray(record * CIFAR10_PIXELS_PER_IMAGE, (record + 1) * CIFAR10_PIXELS_PER_IMAGE), record * CIFAR10_RECORD_BYTES + 1);
  }
  return bytes;
}
