import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadPowerHourly, type PowerHourlyData } from "../../data/power/dataset.js";
import type { PowerSource } from "../../data/power/reader.js";
import { formatObjectUri, isObjectStoreUri, parseObjectUri } from "../../data/object-store/uri.js";
import { DataError } from "../../core/errors.js";

// `--data-file s3://bucket/key` and `--data-dir s3://bucket/prefix` for `train power`: the
// objects are streamed to a temporary folder and read there by the same streaming reader as a
// local file, then removed. The summary (data.source, data.sha256.* tags, messages) names the
// s3:// objects; the SHA-256 data version is that of the bytes, identical to the same file on disk.

const DATA_FILE = /\.(txt|csv)$/i;

export async function loadPowerHourlyFrom(source: PowerSource, minMinutesPerHour: number): Promise<PowerHourlyData> {
  const remote = "file" in source ? source.file : source.directory;
  if (!isObjectStoreUri(remote)) return loadPowerHourly(source, minMinutesPerHour);
  const location = parseObjectUri(remote, "file" in source ? "--data-file" : "--data-dir");
  // Loaded here: runs on local data never load the SDK.
  const { checkBucket, downloadObject, listObjects } = await import("../../data/object-store/operations.js");
  const scratch = await mkdtemp(path.join(os.tmpdir(), "podtrain-s3-power-"));
  const renames = new Map<string, string>();
  try {
    await checkBucket(location.bucket);
    let local: PowerSource;
    if ("file" in source) {
      if (location.key === "") throw new DataError(`--data-file ${remote} names a bucket, not an object`);
      const file = path.join(scratch, path.posix.basename(location.key));
      await downloadObject(location.bucket, location.key, file);
      renames.set(file, remote);
      local = { file };
    } else {
      const prefix = location.key ? `${location.key}/` : "";
      // Like readdir: the objects directly under the prefix, not those in deeper "folders".
      const objects = (await listObjects(location.bucket, prefix)).filter((object) => !object.key.slice(prefix.length).includes("/") && DATA_FILE.test(object.key));
      if (objects.length === 0) throw new DataError(`${remote} holds no .txt or .csv objects in the household power format`);
      for (const object of objects) {
        const file = path.join(scratch, object.key.slice(prefix.length));
        await downloadObject(location.bucket, object.key, file);
        renames.set(file, formatObjectUri(location.bucket, object.key));
      }
      local = { directory: scratch };
    }
    const data = await loadPowerHourly(local, minMinutesPerHour);
    for (const file of data.summary.files) file.path = renames.get(file.path) ?? file.path;
    return data;
  } catch (error) {
    if (error instanceof Error) {
      for (const [file, uri] of renames) error.message = error.message.replaceAll(file, uri);
      error.message = error.message.replaceAll(scratch, remote);
    }
    throw error;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
