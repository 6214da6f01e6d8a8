import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DataError, UnavailableError } from "../../core/errors.js";
import { defaultCifar10Directory, whereToPutCifar10 } from "./dataset.js";
import { CIFAR10_ARCHIVE_NAME, CIFAR10_OFFICIAL_MD5, CIFAR10_OFFICIAL_URL } from "./format.js";

// `train data fetch cifar10`: downloads the official archive into a folder, resuming a partial
// download (HTTP Range on the .part file), checking the MD5 the dataset page publishes, and
// renaming into place only when it matches, so a half-written archive never looks complete.
// The SHA-256 (what runs record as the data version) is written next to the archive.

export interface FetchOptions {
  directory?: string;
  url?: string;
  expectedMd5?: string;
  log?: (message: string) => void;
}

export interface FetchResult {
  file: string;
  md5: string;
  sha256: string;
  bytes: number;
  /** False when a verified archive was already there. */
  downloaded: boolean;
}

const HTTP_PARTIAL_CONTENT = 206;
const HTTP_RANGE_NOT_SATISFIABLE = 416;

async function digests(file: string): Promise<{ md5: string; sha256: string; bytes: number }> {
  const md5 = createHash("md5");
  const sha256 = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    md5.update(chunk as Buffer);
    sha256.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { md5: md5.digest("hex"), sha256: sha256.digest("hex"), bytes };
}

const sizeOf = (file: string) => stat(file).then((info) => info.size, () => undefined);

function networkFailure(url: string, directory: string, error: unknown): UnavailableError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return new UnavailableError(`cannot download CIFAR-10 from ${url} (${reason}); without network access, ${whereToPutCifar10(directory)}`, { cause: error });
}

/** Downloads (or resumes) into `<part>`; returns when the server has sent the whole body. */
async function download(url: string, part: string, directory: string, log: (message: string) => void): Promise<void> {
  const already = (await sizeOf(part)) ?? 0;
  let response: Response;
  try {
    response = await fetch(url, already > 0 ? { headers: { Range: `bytes=${already}-` } } : {});
  } catch (error) {
    throw networkFailure(url, directory, error);
  }
  if (response.status === HTTP_RANGE_NOT_SATISFIABLE && already > 0) return; // the .part is already whole
  if (!response.ok || !response.body) {
    throw new UnavailableError(`cannot download CIFAR-10 from ${url}: HTTP ${response.status} ${response.statusText}; ${whereToPutCifar10(directory)}`);
  }
  const resumed = response.status === HTTP_PARTIAL_CONTENT;
  log(resumed ? `resuming ${url} at byte ${already}` : `downloading ${url}`);
  try {
    await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), createWriteStream(part, { flags: resumed ? "a" : "w" }));
  } catch (error) {
    throw networkFailure(url, directory, error);
  }
}

export async function fetchCifar10(options: FetchOptions = {}): Promise<FetchResult> {
  const directory = path.resolve(options.directory ?? defaultCifar10Directory());
  const url = options.url ?? CIFAR10_OFFICIAL_URL;
  const expectedMd5 = options.expectedMd5 ?? CIFAR10_OFFICIAL_MD5;
  const log = options.log ?? (() => {});
  const file = path.join(directory, CIFAR10_ARCHIVE_NAME);
  const part = `${file}.part`;
  await mkdir(directory, { recursive: true });

  if ((await sizeOf(file)) !== undefined) {
    const existing = await digests(file);
    if (existing.md5 === expectedMd5) return { file, ...existing, downloaded: false };
    log(`${file} has MD5 ${existing.md5}, expected ${expectedMd5}: downloading again`);
    await rm(file);
  }
  await download(url, part, directory, log);
  const result = await digests(part);
  if (result.md5 !== expectedMd5) {
    await rm(part, { force: true });
    throw new DataError(`downloaded ${url} has MD5 ${result.md5}, expected ${expectedMd5}; the partial file was removed, run the command again`);
  }
  await rename(part, file);
  await writeFile(`${file}.sha256`, `${result.sha256}  ${CIFAR10_ARCHIVE_NAME}\n`);
  return { file, ...result, downloaded: true };
}
