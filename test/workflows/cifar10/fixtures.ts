import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { c as createTar } from "tar";
import {
  CIFAR10_ARCHIVE_FOLDER,
  CIFAR10_ARCHIVE_NAME,
  CIFAR10_CLASS_NAMES,
  CIFAR10_CLASSES,
  CIFAR10_META_FILE,
  CIFAR10_PIXELS_PER_IMAGE,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  encodeBatch,
  type Cifar10Split,
} from "../../../src/data/cifar10/format.js";
import { SeededRandom } from "../../../src/data/random.js";

// Small data sets in the exact CIFAR-10 binary format (and the official archive layout), so the
// reader, the CLI and training run on the real format without the 162 MB download.

/** Learnable images: each class has its own colour cast and stripe direction, plus noise. */
export function syntheticSplit(count: number, seed: number): Cifar10Split {
  const random = new SeededRandom(seed);
  const images = new Uint8Array(count * CIFAR10_PIXELS_PER_IMAGE);
  const labels = new Uint8Array(count);
  for (let image = 0; image < count; image += 1) {
    const label = random.integer(CIFAR10_CLASSES);
    labels[image] = label;
    for (let channel = 0; channel < 3; channel += 1) {
      for (let y = 0; y < 32; y += 1) {
        for (let x = 0; x < 32; x += 1) {
          const stripe = ((label < 5 ? x : y) + label) % 8 < 4 ? 60 : 0;
          const cast = channel === label % 3 ? 90 : 20 * (label % 4);
          const value = 40 + stripe + cast + random.integer(40);
          images[image * CIFAR10_PIXELS_PER_IMAGE + channel * 1024 + y * 32 + x] = Math.min(255, value);
        }
      }
    }
  }
  return { images, labels, count };
}

export interface FixtureLayout {
  /** Folder holding cifar-10-batches-bin/ */
  root: string;
  batchFolder: string;
  archive: string;
  train: Cifar10Split[];
  test: Cifar10Split;
}

/** Writes five train batches of `perBatch` images, a test batch and batches.meta.txt, plus the .tar.gz. */
export async function writeFixture(root: string, perBatch: number, testCount: number, seed = 1): Promise<FixtureLayout> {
  const batchFolder = path.join(root, CIFAR10_ARCHIVE_FOLDER);
  await mkdir(batchFolder, { recursive: true });
  const train = CIFAR10_TRAIN_FILES.map((_, index) => syntheticSplit(perBatch, seed * 100 + index));
  const test = syntheticSplit(testCount, seed * 100 + 99);
  await Promise.all(CIFAR10_TRAIN_FILES.map((name, index) => writeFile(path.join(batchFolder, name), encodeBatch(train[index]!))));
  await writeFile(path.join(batchFolder, CIFAR10_TEST_FILE), encodeBatch(test));
  await writeFile(path.join(batchFolder, CIFAR10_META_FILE), `${CIFAR10_CLASS_NAMES.join("\n")}\n\n`);
  const archiveFolder = path.join(root, "archive");
  await mkdir(archiveFolder, { recursive: true });
  const archive = path.join(archiveFolder, CIFAR10_ARCHIVE_NAME);
  await createTar({ gzip: true, file: archive, cwd: root, portable: true }, [CIFAR10_ARCHIVE_FOLDER]);
  return { root, batchFolder, archive, train, test };
}
