import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { formatObjectUri, isObjectStoreUri, parseObjectUri, type ObjectLocation } from "../../data/object-store/uri.js";
import { formatFromExtension } from "../../data/tick/formats.js";
import { datesBetween, isValidDate, PARTITION_KEY, PARTITION_PREFIX, previousPartitionDate } from "../../data/tick/partitions.js";
import { MANIFEST_FILE_NAME } from "./feature-set.js";

// `train tick features` with s3:// roots. The partition pipeline works on folders, so a run
// mirrors what it needs into a private temporary folder and runs unchanged on it:
//   input   the folder names under the prefix (so partition scanning, invalid-date and foreign
//           folder checks behave as on disk), and the objects of the dates the run reads: the
//           requested ones plus the lookback partition before the first
//   output  the requested dates' existing partitions (to skip unchanged ones), and afterwards
//           every partition whose manifest changed is committed: data objects first, manifest
//           LAST (commitFolder); one whose recompute failed loses its manifest there too
// Messages name the s3:// locations, not the temporary folder. The SDK is loaded only for s3:// roots.

const operations = () => import("../../data/object-store/operations.js");
const staging = () => import("../../data/object-store/staging.js");

export interface TickRoots {
  input: string;
  output: string;
  /** What to call the input root in messages. */
  inputDisplay: string;
}

export interface TickDates {
  date?: string;
  from?: string;
  to?: string;
  /** The input's partition key (params.input.partition_key); `date` by default. */
  partitionKey?: string;
}

function requestedDates(dates: TickDates): string[] {
  if (dates.date) return isValidDate(dates.date) ? [dates.date] : [];
  if (dates.from && dates.to && isValidDate(dates.from) && isValidDate(dates.to) && dates.from <= dates.to) return datesBetween(dates.from, dates.to);
  return [];
}

async function stageInput(location: ObjectLocation, local: string, dates: string[], key: string = PARTITION_KEY): Promise<void> {
  const prefix = `${key}=`;
  const [{ checkBucket, listFolders }, { downloadTree }] = await Promise.all([operations(), staging()]);
  await checkBucket(location.bucket);
  const folders = await listFolders(location);
  for (const folder of folders) await mkdir(path.join(local, folder), { recursive: true });
  const present = folders.filter((name) => name.startsWith(prefix)).map((name) => name.slice(prefix.length)).filter(isValidDate).sort();
  const lookback = dates[0] ? previousPartitionDate(present, dates[0]) : undefined;
  const wanted = [...(lookback ? [lookback] : []), ...dates].filter((date) => present.includes(date));
  const isTradeFile = (name: string) => !name.split("/").some((part) => part.startsWith(".") || part.startsWith("_")) && formatFromExtension(name) !== undefined;
  for (const date of wanted) await downloadTree(location, `${prefix}${date}`, local, isTradeFile);
}

async function stageOutput(location: ObjectLocation, local: string, dates: string[]): Promise<Map<string, string | undefined>> {
  const [{ checkBucket, readSmallObject }, { downloadTree }] = await Promise.all([operations(), staging()]);
  await checkBucket(location.bucket);
  const manifests = new Map<string, string | undefined>();
  for (const date of dates) {
    const relative = `${PARTITION_PREFIX}${date}`;
    const manifest = await readSmallObject(location.bucket, [location.key, relative, MANIFEST_FILE_NAME].filter(Boolean).join("/"));
    manifests.set(date, manifest ? Buffer.from(manifest).toString("utf8") : undefined);
    // Only a committed partition is worth fetching: without a manifest it is recomputed anyway.
    if (manifest) await downloadTree(location, relative, local);
  }
  return manifests;
}

async function commitChanged(location: ObjectLocation, local: string, before: Map<string, string | undefined>): Promise<void> {
  const { commitFolder } = await staging();
  for (const [date, remote] of before) {
    const relative = `${PARTITION_PREFIX}${date}`;
    const current = await readFile(path.join(local, relative, MANIFEST_FILE_NAME), "utf8").catch(() => undefined);
    if (current === remote) continue;
    await commitFolder(location, relative, local, { manifestName: MANIFEST_FILE_NAME });
  }
}

function relabel(error: unknown, replacements: Array<[string, string]>): unknown {
  if (error instanceof Error) for (const [from, to] of replacements) error.message = error.message.replaceAll(from, to);
  return error;
}

/** Runs `body` on local roots; s3:// roots are mirrored in and committed back as described above. */
export async function withTickRoots<T>(input: string, output: string, dates: TickDates, body: (roots: TickRoots) => Promise<T>): Promise<T> {
  const s3Input = isObjectStoreUri(input);
  const s3Output = isObjectStoreUri(output);
  if (!s3Input && !s3Output) return body({ input, output, inputDisplay: path.resolve(input) });
  const inputLocation = s3Input ? parseObjectUri(input, "--input") : undefined;
  const outputLocation = s3Output ? parseObjectUri(output, "--output") : undefined;
  const scratch = await mkdtemp(path.join(os.tmpdir(), "podtrain-s3-"));
  const localInput = inputLocation ? path.join(scratch, "input") : input;
  const localOutput = outputLocation ? path.join(scratch, "output") : output;
  const replacements: Array<[string, string]> = [];
  if (inputLocation) replacements.push([localInput, formatObjectUri(inputLocation.bucket, inputLocation.key)]);
  if (outputLocation) replacements.push([localOutput, formatObjectUri(outputLocation.bucket, outputLocation.key)]);
  const wanted = requestedDates(dates);
  try {
    if (inputLocation) {
      await mkdir(localInput, { recursive: true });
      await stageInput(inputLocation, localInput, wanted, dates.partitionKey);
    }
    const before = outputLocation ? await stageOutput(outputLocation, localOutput, wanted) : new Map<string, string | undefined>();
    let result: T;
    try {
      result = await body({ input: localInput, output: localOutput, inputDisplay: s3Input ? input : path.resolve(input) });
    } catch (error) {
      // Partitions finished before the failure are committed; the failed one loses its old manifest.
      if (outputLocation) await commitChanged(outputLocation, localOutput, before).catch(() => undefined);
      throw error;
    }
    if (outputLocation) await commitChanged(outputLocation, localOutput, before);
    return result;
  } catch (error) {
    throw relabel(error, replacements);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
