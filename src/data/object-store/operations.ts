import { createWriteStream } from "node:fs";
import { createReadStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { objectStoreClient } from "./client.js";
import { objectStoreError } from "./errors.js";
import { formatObjectUri, type ObjectLocation } from "./uri.js";

// The few object operations the runtime needs. Reads stream to a file (never the whole object
// in memory); uploads of files stream too, in multipart parts above PART_BYTES.

/** lib-storage's part size: S3's minimum; 4 parts in flight bound an upload's memory to ~32 MiB. */
export const PART_BYTES = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;

export interface ListedObject {
  key: string;
  size: number;
}

/** Objects under `prefix` (recursive), sorted by key. */
export async function listObjects(bucket: string, prefix: string): Promise<ListedObject[]> {
  const client = objectStoreClient();
  const objects: ListedObject[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const entry of page.Contents ?? []) if (entry.Key) objects.push({ key: entry.Key, size: entry.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (error) {
    throw objectStoreError(error, `list ${formatObjectUri(bucket, prefix)}`);
  }
  return objects.sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0));
}

/** The "folder" names directly under `prefix/` (common prefixes of a delimited listing). */
export async function listFolders(location: ObjectLocation): Promise<string[]> {
  const client = objectStoreClient();
  const prefix = location.key ? `${location.key}/` : "";
  const folders: string[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: prefix, Delimiter: "/", ContinuationToken: token }));
      for (const entry of page.CommonPrefixes ?? []) if (entry.Prefix) folders.push(entry.Prefix.slice(prefix.length).replace(/\/$/, ""));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (error) {
    throw objectStoreError(error, `list ${formatObjectUri(location.bucket, location.key)}`);
  }
  return folders.sort();
}

/**
 * Fails with the typed error when the bucket is missing or the credentials do not work.
 * A one-key listing rather than HeadBucket (same s3:ListBucket permission): a HEAD answer has no
 * body, so its error code is lost, and a bare 404 or 400 cannot be told apart: versitygw, for
 * one, answers an unknown access key with 404 and a wrong region with 400.
 */
export async function checkBucket(bucket: string): Promise<void> {
  try {
    await objectStoreClient().send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }));
  } catch (error) {
    const shape = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
    // A server that sends a 404 without a body (no code): on a bucket request that means the bucket.
    const bare = !shape.Code && (shape.name === "NotFound" || shape.name === "Unknown" || shape.name === "UnknownError");
    const named = bare && shape.$metadata?.httpStatusCode === 404 ? Object.assign(error as object, { Code: "NoSuchBucket" }) : error;
    throw objectStoreError(named, `open bucket s3://${bucket}`);
  }
}

/** Streams one object into `file` (through a temporary name, so a cut download leaves nothing). */
export async function downloadObject(bucket: string, key: string, file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.part-${process.pid}`;
  try {
    const response = await objectStoreClient().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await pipeline(response.Body as Readable, createWriteStream(temporary));
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw objectStoreError(error, `read ${formatObjectUri(bucket, key)}`);
  }
}

/** The object's bytes, or undefined when it does not exist (for small objects: manifests). */
export async function readSmallObject(bucket: string, key: string): Promise<Uint8Array | undefined> {
  try {
    const response = await objectStoreClient().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await (response.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
  } catch (error) {
    const code = (error as { name?: string }).name;
    if (code === "NoSuchKey" || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw objectStoreError(error, `read ${formatObjectUri(bucket, key)}`);
  }
}

export async function putSmallObject(bucket: string, key: string, bytes: Uint8Array, contentType = "application/octet-stream"): Promise<void> {
  try {
    await objectStoreClient().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: contentType }));
  } catch (error) {
    throw objectStoreError(error, `write ${formatObjectUri(bucket, key)}`);
  }
}

export interface UploadProgress {
  key: string;
  loaded: number;
  total: number | undefined;
}

/**
 * Streams `file` to `key`: one PUT when small, a multipart upload otherwise. A failed multipart
 * upload is aborted (lib-storage's default), so no partial object becomes visible.
 */
export async function uploadFile(bucket: string, key: string, file: string, onProgress?: (progress: UploadProgress) => void): Promise<void> {
  const size = (await stat(file)).size;
  const upload = new Upload({
    client: objectStoreClient(),
    params: { Bucket: bucket, Key: key, Body: size === 0 ? new Uint8Array(0) : createReadStream(file, { highWaterMark: 1 << 20 }), ContentLength: size },
    partSize: PART_BYTES,
    queueSize: QUEUE_SIZE,
    leavePartsOnError: false,
  });
  if (onProgress) upload.on("httpUploadProgress", (progress) => onProgress({ key, loaded: progress.loaded ?? 0, total: progress.total }));
  try {
    await upload.done();
  } catch (error) {
    throw objectStoreError(error, `write ${formatObjectUri(bucket, key)}`);
  }
}

/** Deletes `keys` (missing ones are no error in S3). */
export async function deleteObjects(bucket: string, keys: readonly string[]): Promise<void> {
  for (let start = 0; start < keys.length; start += 1000) {
    const batch = keys.slice(start, start + 1000);
    try {
      // DeleteObjects needs a content checksum; the SDK adds it because the operation requires one.
      const result = await objectStoreClient().send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
      const failed = result.Errors?.[0];
      if (failed) throw Object.assign(new Error(failed.Message ?? "delete failed"), { name: failed.Code ?? "DeleteFailed" });
    } catch (error) {
      throw objectStoreError(error, `delete ${batch.length} object(s) under ${formatObjectUri(bucket, batch[0] ?? "")}`);
    }
  }
}

/** Uploads bytes already in memory (multipart above PART_BYTES, aborted on failure). */
export async function uploadBytes(bucket: string, key: string, bytes: Uint8Array, onProgress?: (progress: UploadProgress) => void): Promise<void> {
  const upload = new Upload({ client: objectStoreClient(), params: { Bucket: bucket, Key: key, Body: bytes }, partSize: PART_BYTES, queueSize: QUEUE_SIZE, leavePartsOnError: false });
  if (onProgress) upload.on("httpUploadProgress", (progress) => onProgress({ key, loaded: progress.loaded ?? 0, total: progress.total }));
  try {
    await upload.done();
  } catch (error) {
    throw objectStoreError(error, `write ${formatObjectUri(bucket, key)}`);
  }
}
