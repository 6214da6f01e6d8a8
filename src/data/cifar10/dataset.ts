import { readFile, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DataError } from "../../core/errors.js";
import { readTarGz } from "./archive.js";
import {
  CIFAR10_ARCHIVE_FOLDER,
  CIFAR10_ARCHIVE_NAME,
  CIFAR10_META_FILE,
  CIFAR10_OFFICIAL_URL,
  CIFAR10_RECORDS_PER_BATCH,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  checkClassNames,
  parseBatches,
  type Cifar10Split,
} from "./format.js";
import { sha256Hex } from "../../core/hash.js";

export interface Cifar10Options {
  /** cifar-10-binary.tar.gz */
  dataFile?: string;
  /** Folder with the archive, with cifar-10-batches-bin/, or with the .bin files themselves. */
  dataDir?: string;
  trainLimit?: number;
  testLimit?: number;
  /** Accept batch files with fewer records than the official 10000 (subsets, test fixtures). */
  allowPartialBatches?: boolean;
}

export interface Cifar10Dataset {
  train: Cifar10Split;
  test: Cifar10Split;
  /** Where the data came from (archive or folder path). */
  source: string;
  /** SHA-256 of each file read: the archive, or each batch file. */
  fileHashes: Record<string, string>;
  /** The archive's SHA-256, or one hash over the batch files' hashes: the data version logged to MLflow. */
  dataVersion: string;
}

/** Where `train data fetch cifar10` puts the archive and where `train cifar10` looks by default. */
export function defaultCifar10Directory(): string {
  const base = process.env.PODTRAIN_DATA_DIR ?? path.join(os.homedir(), ".cache", "podtrain", "data");
  return path.join(base, "cifar10");
}

/** The one remedy every "no CIFAR-10 here" error gives: where the archive has to go. */
export function whereToPutCifar10(directory: string = defaultCifar10Directory()): string {
  const note = path.resolve(directory) === defaultCifar10Directory() ? " (the default folder: `train cifar10` looks there and `train data fetch cifar10` downloads there)" : "";
  return (
    `download ${CIFAR10_OFFICIAL_URL} (the binary version, 162 MB) and pass it to train cifar10 with --data-file <cifar-10-binary.tar.gz>, ` +
    `or put the archive (or its extracted ${CIFAR10_ARCHIVE_FOLDER}/ folder) in ${directory}${note} or in any folder given with --data-dir <folder>`
  );
}

const isFile = (file: string) => stat(file).then((info) => info.isFile(), () => false);
const exists = (file: string) => stat(file).then(() => true, () => false);

async function locate(options: Cifar10Options): Promise<{ kind: "archive" | "folder"; location: string }> {
  if (options.dataFile) {
    if (!(await isFile(options.dataFile))) throw new DataError(`--data-file ${options.dataFile}: no such file; ${whereToPutCifar10()}`);
    return { kind: "archive", location: path.resolve(options.dataFile) };
  }
  const directory = path.resolve(options.dataDir ?? defaultCifar10Directory());
  for (const folder of [directory, path.join(directory, CIFAR10_ARCHIVE_FOLDER)]) {
    // Any batch present makes this the folder: what else is missing is then named exactly.
    for (const name of [CIFAR10_TEST_FILE, ...CIFAR10_TRAIN_FILES]) {
      if (await exists(path.join(folder, name))) return { kind: "folder", location: folder };
    }
  }
  const archive = path.join(directory, CIFAR10_ARCHIVE_NAME);
  if (await isFile(archive)) return { kind: "archive", location: archive };
  throw new DataError(`CIFAR-10 not found in ${directory} (no ${CIFAR10_ARCHIVE_NAME}, ${CIFAR10_ARCHIVE_FOLDER}/ or ${CIFAR10_TEST_FILE}): ${whereToPutCifar10()}`);
}

async function readFolder(folder: string, hashes: Record<string, string>): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE, CIFAR10_META_FILE]) {
    const file = path.join(folder, name);
    if (!(await isFile(file))) {
      if (await exists(file)) throw new DataError(`${file} is a directory (or not a regular file), not the CIFAR-10 batch file ${name}`);
      continue;
    }
    const contents = await readFile(file);
    files.set(name, contents);
    if (name !== CIFAR10_META_FILE) hashes[name] = sha256Hex(contents);
  }
  return files;
}

export async function loadCifar10(options: Cifar10Options): Promise<Cifar10Dataset> {
  const { kind, location } = await locate(options);
  const fileHashes: Record<string, string> = {};
  let files: Map<string, Buffer>;
  let dataVersion: string;
  if (kind === "archive") {
    const contents = await readTarGz(location, new Set<string>([...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE, CIFAR10_META_FILE]));
    files = contents.files;
    fileHashes[path.basename(location)] = contents.sha256;
    dataVersion = contents.sha256;
  } else {
    files = await readFolder(location, fileHashes);
    dataVersion = sha256Hex(Object.entries(fileHashes).sort().map(([name, hash]) => `${name}:${hash}`).join("\n"));
  }
  const missing = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].filter((name) => !files.has(name));
  if (missing.length > 0) throw new DataError(`${location}: missing ${missing.join(", ")}; CIFAR-10's binary version has data_batch_1..5.bin and test_batch.bin`);
  const meta = files.get(CIFAR10_META_FILE);
  if (meta) checkClassNames(meta.toString("utf8"), `${location}: ${CIFAR10_META_FILE}`);

  const parseOptions = options.allowPartialBatches ? {} : { expectedRecords: CIFAR10_RECORDS_PER_BATCH };
  const named = (names: readonly string[]) => names.map((name) => ({ bytes: files.get(name)!, source: `${location}: ${name}` }));
  const train = parseBatches(named(CIFAR10_TRAIN_FILES), parseOptions, options.trainLimit);
  const test = parseBatches(named([CIFAR10_TEST_FILE]), parseOptions, options.testLimit);
  files.clear();
  return { train, test, source: location, fileHashes, dataVersion };
}
