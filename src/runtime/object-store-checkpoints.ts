import type { Logger } from "pino";
import { childKey, formatObjectUri, parseObjectUri } from "../data/object-store/uri.js";
import { checkpointName, DATA_FILE, manifestFor, MANIFEST_FILE, NAME, prunable, verified, type CheckpointStore } from "./checkpoints.js";

// `--checkpoint-dir s3://bucket/prefix`: checkpoints in <prefix>/<run id>/ckpt-NNNNNNNNNN/ on an
// object store. S3 has no rename, so the manifest is the commit: data.bin is uploaded first
// (multipart when large; an interrupted upload is aborted and leaves no object), manifest.json
// LAST. A checkpoint without a manifest, or whose data does not match it, is skipped like a
// damaged one on disk, and the next save removes it with the other prunable ones.

// The SDK is loaded on first use: `train --help` and runs without s3:// never load it.
const sdk = () => import("../data/object-store/operations.js");

export function objectStoreCheckpoints(uri: string, runId: string, log: Logger): CheckpointStore {
  const root = parseObjectUri(uri, "--checkpoint-dir");
  const runKey = childKey(root, runId);
  const location = formatObjectUri(root.bucket, runKey);
  let bucketChecked = false;
  const ensureBucket = async () => {
    if (!bucketChecked) await (await sdk()).checkBucket(root.bucket);
    bucketChecked = true;
  };
  const objects = async () => (await sdk()).listObjects(root.bucket, `${runKey}/`);
  const names = async () => [...new Set((await objects()).map((object) => object.key.slice(runKey.length + 1).split("/")[0] ?? "").filter((name) => NAME.test(name)))].sort();
  return {
    location,
    async save(ordinal, state, data) {
      await ensureBucket();
      const { deleteObjects, putSmallObject, uploadBytes } = await sdk();
      const name = checkpointName(ordinal);
      const manifestKey = `${runKey}/${name}/${MANIFEST_FILE}`;
      // Overwriting a checkpoint of the same name: uncommit it first, so a cut upload is not read as intact.
      await deleteObjects(root.bucket, [manifestKey]);
      await uploadBytes(root.bucket, `${runKey}/${name}/${DATA_FILE}`, data);
      await putSmallObject(root.bucket, manifestKey, new TextEncoder().encode(JSON.stringify(manifestFor(name, state, data))), "application/json");
      const listed = await objects();
      const prune = new Set(prunable(await names(), name));
      const stale = listed.map((object) => object.key).filter((key) => prune.has(key.slice(runKey.length + 1).split("/")[0] ?? ""));
      // Manifests first: a prune cut short leaves uncommitted data, never a checkpoint without its data.
      stale.sort((left, right) => Number(right.endsWith(MANIFEST_FILE)) - Number(left.endsWith(MANIFEST_FILE)));
      if (stale.length > 0) await deleteObjects(root.bucket, stale);
      return { name, bytes: data.byteLength };
    },
    async loadNewest() {
      await ensureBucket();
      const { readSmallObject } = await sdk();
      for (const name of (await names()).reverse()) {
        const folder = `${location}/${name}`;
        try {
          const manifest = await readSmallObject(root.bucket, `${runKey}/${name}/${MANIFEST_FILE}`);
          if (!manifest) throw new Error(`${MANIFEST_FILE} is missing (the upload was cut short)`);
          const data = (await readSmallObject(root.bucket, `${runKey}/${name}/${DATA_FILE}`)) ?? new Uint8Array(0);
          const checked = verified(name, new TextDecoder().decode(manifest), data);
          return { name, location: folder, state: checked.state, data };
        } catch (error) {
          // Unreachable server or refused credentials are not a damaged checkpoint: they fail the run.
          if ((error as { exitCode?: number }).exitCode !== undefined) throw error;
          log.warn({ checkpoint: folder, reason: (error as Error).message }, "skipping a damaged checkpoint");
        }
      }
      return undefined;
    },
    async clear() {
      const keys = (await objects()).map((object) => object.key);
      if (keys.length > 0) await (await sdk()).deleteObjects(root.bucket, keys);
    },
  };
}
