import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { deleteObjects, downloadObject, listObjects, putSmallObject, uploadFile, type UploadProgress } from "./operations.js";
import { childKey, type ObjectLocation } from "./uri.js";

// Object-store folders mirrored to and from a local working folder, so that the readers and
// writers that work on files work unchanged on S3 data: inputs are streamed to temporary files
// (never held whole in memory), outputs are uploaded from the files the local writer produced.
// The bytes are the same, so every content hash (data versions, manifests) is the same as for
// the same data on a local disk.

/** Downloads every object under `location/relative` (recursively) to `localRoot/relative`; returns the count. */
export async function downloadTree(location: ObjectLocation, relative: string, localRoot: string, keep: (name: string) => boolean = () => true): Promise<number> {
  const prefix = `${childKey(location, relative)}/`;
  const objects = (await listObjects(location.bucket, prefix)).filter((object) => !object.key.endsWith("/") && keep(object.key.slice(prefix.length)));
  for (const object of objects) {
    await downloadObject(location.bucket, object.key, path.join(localRoot, relative, ...object.key.slice(prefix.length).split("/")));
  }
  return objects.length;
}

async function localFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name)).split(path.sep).join("/")).sort();
}

export interface CommitOptions {
  /** The file whose object is the commit: uploaded last, removed first. */
  manifestName: string;
  onProgress?: (progress: UploadProgress) => void;
}

/**
 * Publishes the local folder `localRoot/relative` as `location/relative` with its manifest as the
 * commit point: the old manifest is deleted first (from then on readers see no partition, never
 * a mix), then the data objects are uploaded, stale objects removed, and the manifest written
 * LAST. A failure at any step leaves the partition without a manifest, which readers ignore and
 * the next run recomputes. Without a local manifest only the removal and the data upload happen
 * (a failed recompute's quarantine file stays inspectable).
 */
export async function commitFolder(location: ObjectLocation, relative: string, localRoot: string, options: CommitOptions): Promise<void> {
  const directory = path.join(localRoot, relative);
  const prefix = `${childKey(location, relative)}/`;
  const manifestKey = `${prefix}${options.manifestName}`;
  const files = await localFiles(directory);
  await deleteObjects(location.bucket, [manifestKey]);
  for (const file of files.filter((name) => name !== options.manifestName)) {
    await uploadFile(location.bucket, `${prefix}${file}`, path.join(directory, ...file.split("/")), options.onProgress);
  }
  const wanted = new Set(files.map((file) => `${prefix}${file}`));
  const stale = (await listObjects(location.bucket, prefix)).map((object) => object.key).filter((key) => !wanted.has(key));
  if (stale.length > 0) await deleteObjects(location.bucket, stale);
  if (files.includes(options.manifestName)) {
    await putSmallObject(location.bucket, manifestKey, await readFile(path.join(directory, options.manifestName)), "application/json");
  }
}
