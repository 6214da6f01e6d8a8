import { rmSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { InterruptedError } from "../../core/errors.js";
import { areStopSignalsHandled } from "../../runtime/signals.js";
import { formatObjectUri, isObjectStoreUri, parseObjectUri, type ObjectLocation } from "../../data/object-store/uri.js";
import { datesBetween, isValidDate, PARTITION_PREFIX } from "../../data/tick/partitions.js";
import { MANIFEST_FILE_NAME } from "./feature-set.js";
import { windowDays } from "./training-window.js";

// `train tick --features-dir s3://bucket/prefix` (every stage: validate, fit, evaluate). The
// window reader works on folders, so the run mirrors into a private temporary folder:
//   - the partition folder names under the prefix (empty folders), so that as_of defaults to
//     the latest partition and the missing-date checks behave exactly as on disk;
//   - for each date of the window, its manifest.json and then the one features file it names.
//     A date without a manifest (never computed, or a writer interrupted before its commit) gets
//     no manifest locally either, so it is "missing" like an incomplete partition on disk.
// The bytes are the same, so the data version (a hash of the manifests) and the features'
// sha256 check are the same as for the partitions on disk. The folder is removed when the
// window has been read (the design matrix is in memory by then), on error, on a forced exit and
// on a stop signal.
// Messages name the s3:// location, never the temporary folder.

const operations = () => import("../../data/object-store/operations.js");
const MILLISECONDS_PER_DAY = 86_400_000;

interface WindowBounds {
  as_of?: string | null;
  window: string;
}

/** The dates of (as_of - window, as_of] among `present`; [] when the bounds do not parse (the window reader then says why). */
function windowDates(present: readonly string[], bounds: WindowBounds): string[] {
  const asOf = bounds.as_of ?? present.at(-1);
  if (!asOf || !isValidDate(asOf)) return [];
  let days: number;
  try {
    days = windowDays(bounds.window);
  } catch {
    return [];
  }
  const from = new Date(Date.parse(`${asOf}T00:00:00Z`) - (days - 1) * MILLISECONDS_PER_DAY).toISOString().slice(0, 10);
  const wanted = new Set(datesBetween(from, asOf));
  return present.filter((date) => wanted.has(date));
}

/** The features file a manifest names, when it parses far enough to say; the window reader validates the rest. */
function featuresFileOf(manifest: Uint8Array): string | undefined {
  try {
    const file = (JSON.parse(Buffer.from(manifest).toString("utf8")) as { output?: { file?: unknown } }).output?.file;
    // A plain file name only: a manifest must not steer a download outside its partition.
    return typeof file === "string" && file !== "" && !file.includes("/") && !file.includes("\\") && file !== "." && file !== ".." ? file : undefined;
  } catch {
    return undefined;
  }
}

async function stageWindow(location: ObjectLocation, local: string, bounds: WindowBounds): Promise<void> {
  const { checkBucket, downloadObject, listFolders, readSmallObject } = await operations();
  await checkBucket(location.bucket);
  const folders = await listFolders(location);
  const present = folders.filter((name) => name.startsWith(PARTITION_PREFIX)).map((name) => name.slice(PARTITION_PREFIX.length)).filter(isValidDate).sort();
  for (const date of present) await mkdir(path.join(local, `${PARTITION_PREFIX}${date}`), { recursive: true });
  for (const date of windowDates(present, bounds)) {
    const partitionKey = [location.key, `${PARTITION_PREFIX}${date}`].filter(Boolean).join("/");
    const manifest = await readSmallObject(location.bucket, `${partitionKey}/${MANIFEST_FILE_NAME}`);
    if (!manifest) continue;
    const directory = path.join(local, `${PARTITION_PREFIX}${date}`);
    const file = featuresFileOf(manifest);
    // The features first, the manifest last: locally too, a partition is complete only with its manifest.
    if (file) await downloadObject(location.bucket, `${partitionKey}/${file}`, path.join(directory, file));
    await writeFile(path.join(directory, MANIFEST_FILE_NAME), manifest);
  }
}

const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * The window is mostly read before the run's own signal handling starts (preflight), where a
 * signal would end the process at once and leave the mirror behind. Outside a run's handling,
 * a stop signal removes the mirror, says why the command ended, and is sent again so that it
 * ends the process as it would have (exit status 128 + n). Inside it, the run stops gracefully
 * and the finally below (or the exit hook of a forced exit) removes the mirror. Returns the un-install.
 */
function removeMirrorOnSignals(remove: () => void, display: string): () => void {
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = () => {
      if (areStopSignalsHandled()) return;
      remove();
      uninstall();
      process.stderr.write(`train: error: ${new InterruptedError(signal).message} while reading the feature partitions of ${display}\n`);
      process.kill(process.pid, signal);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  function uninstall(): void {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
  }
  return uninstall;
}

function relabel(error: unknown, from: string, to: string): unknown {
  if (error instanceof Error) error.message = error.message.replaceAll(from, to);
  return error;
}

/**
 * Runs `body` with a local features root: `featuresDir` itself, or for s3:// a temporary mirror
 * of the window's committed partitions (see above). `display` is what to call the root in tags
 * and messages.
 */
export async function withFeaturesRoot<T>(featuresDir: string, bounds: WindowBounds, body: (root: string, display: string) => Promise<T>): Promise<T> {
  if (!isObjectStoreUri(featuresDir)) return body(featuresDir, path.resolve(featuresDir));
  const location = parseObjectUri(featuresDir, "--features-dir");
  const display = formatObjectUri(location.bucket, location.key);
  const scratch = await mkdtemp(path.join(os.tmpdir(), "podtrain-s3-features-"));
  const root = path.join(scratch, "features");
  // A forced exit (second signal, grace period spent) calls process.exit: no finally runs then.
  const onExit = () => rmSync(scratch, { recursive: true, force: true });
  process.once("exit", onExit);
  const releaseSignals = removeMirrorOnSignals(onExit, display);
  try {
    await mkdir(root, { recursive: true });
    await stageWindow(location, root, bounds);
    return await body(root, display);
  } catch (error) {
    throw relabel(error, root, display);
  } finally {
    process.removeListener("exit", onExit);
    releaseSignals();
    await rm(scratch, { recursive: true, force: true });
  }
}
