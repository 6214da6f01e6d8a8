import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { inflateRawSync } from "node:zlib";
import { DataError, UnavailableError } from "../../core/errors.js";
import { readPowerData } from "./reader.js";
import { sha256Hex } from "../../core/hash.js";

// Downloads the UCI archive, checks it, and unpacks household_power_consumption.txt. There is no
// published SHA-256 for the archive, so the check is: the archive's hash against `expectedSha256`
// when one is given (pin it in the DAG once you have downloaded it), and always the content —
// the header, every row parsed, and the row count and date range the UCI page documents.

export const UCI_POWER_URL = "https://archive.ics.uci.edu/static/public/235/individual+household+electric+power+consumption.zip";
export const UCI_POWER_FILE = "household_power_consumption.txt";
export const UCI_POWER_ROWS = 2_075_259;

export interface FetchResult {
  file: string;
  archiveSha256: string;
  fileSha256: string;
  rows: number;
}

export async function fetchPowerData(options: { directory: string; url?: string; expectedSha256?: string; fetchImpl?: typeof fetch }): Promise<FetchResult> {
  const url = options.url ?? UCI_POWER_URL;
  const directory = path.resolve(options.directory);
  const target = path.join(directory, UCI_POWER_FILE);
  let archive: Buffer;
  try {
    const response = await (options.fetchImpl ?? fetch)(url, { signal: AbortSignal.timeout(300_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    archive = Buffer.from(await response.arrayBuffer());
  } catch (error) {
    throw new UnavailableError(
      `could not download ${url} (${(error as Error).message}). Without network access, download the archive elsewhere, unzip it and put ${UCI_POWER_FILE} at ${target}, then run \`train power --data-file ${target}\``,
      { cause: error },
    );
  }
  const archiveSha256 = sha256Hex(archive);
  if (options.expectedSha256 && archiveSha256 !== options.expectedSha256.toLowerCase()) {
    throw new DataError(`${url}: SHA-256 ${archiveSha256}, expected ${options.expectedSha256}; the download is corrupt or the archive changed`);
  }
  const text = unzipEntry(archive, UCI_POWER_FILE, url);
  await mkdir(directory, { recursive: true });
  const partial = `${target}.partial`;
  await writeFile(partial, text);
  // Parse it all before it takes the final name: a file at `target` is always a checked one.
  const summary = await readPowerData({ file: partial }, () => {});
  if (url === UCI_POWER_URL && summary.rows !== UCI_POWER_ROWS) {
    throw new DataError(`${url}: ${summary.rows} rows, the UCI data set has ${UCI_POWER_ROWS}`);
  }
  await rename(partial, target);
  return { file: target, archiveSha256, fileSha256: summary.dataVersion, rows: summary.rows };
}

/** Reads one entry of a zip archive (stored or deflated) through its central directory. */
export function unzipEntry(archive: Buffer, name: string, where: string): Buffer {
  const endOfDirectory = archive.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endOfDirectory < 0) throw new DataError(`${where}: not a zip archive`);
  const entries = archive.readUInt16LE(endOfDirectory + 10);
  let offset = archive.readUInt32LE(endOfDirectory + 16);
  const names: string[] = [];
  for (let entry = 0; entry < entries; entry += 1) {
    if (archive.readUInt32LE(offset) !== 0x02014b50) throw new DataError(`${where}: damaged zip central directory`);
    const method = archive.readUInt16LE(offset + 10);
    const compressedSize = archive.readUInt32LE(offset + 20);
    const nameLength = archive.readUInt16LE(offset + 28);
    const entryName = archive.toString("utf8", offset + 46, offset + 46 + nameLength);
    const localOffset = archive.readUInt32LE(offset + 42);
    names.push(entryName);
    if (entryName === name || entryName.endsWith(`/${name}`)) {
      const dataStart = localOffset + 30 + archive.readUInt16LE(localOffset + 26) + archive.readUInt16LE(localOffset + 28);
      const data = archive.subarray(dataStart, dataStart + compressedSize);
      if (method === 0) return Buffer.from(data);
      if (method === 8) return inflateRawSync(data);
      throw new DataError(`${where}: ${name} uses zip compression method ${method}; only stored and deflate are supported`);
    }
    offset += 46 + nameLength + archive.readUInt16LE(offset + 30) + archive.readUInt16LE(offset + 32);
  }
  throw new DataError(`${where}: no ${name} in the archive (it holds ${names.join(", ") || "nothing"})`);
}
