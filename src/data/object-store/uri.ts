import { UsageError } from "../../core/errors.js";

// `s3://bucket/prefix` locations. Any S3-compatible store is addressed the same way; which
// server answers is the client's configuration (AWS_ENDPOINT_URL), never part of the URI.

export const S3_SCHEME = "s3://";

export interface ObjectLocation {
  bucket: string;
  /** Key or key prefix without a leading slash; "" is the whole bucket. */
  key: string;
}

export function isObjectStoreUri(value: string | undefined): value is string {
  return typeof value === "string" && value.toLowerCase().startsWith(S3_SCHEME);
}

// S3 bucket naming rules (3-63 characters, lower case, digits, dots, hyphens): a typo such as
// `s3://My_Bucket` is a usage error here, not a confusing 400 from the server later.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseObjectUri(uri: string, flag = "location"): ObjectLocation {
  if (!isObjectStoreUri(uri)) throw new UsageError(`${flag}: expected s3://bucket/prefix, got "${uri}"`);
  const rest = uri.slice(S3_SCHEME.length);
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? "" : rest.slice(slash + 1).replace(/\/+$/, "");
  if (!BUCKET.test(bucket)) throw new UsageError(`${flag}: "${bucket}" in ${uri} is not a valid bucket name (3-63 lower-case letters, digits, dots, hyphens)`);
  if (key.startsWith("/") || key.includes("//")) throw new UsageError(`${flag}: ${uri} has an empty path segment ("//")`);
  return { bucket, key };
}

/** The location's key with `parts` appended, "/"-separated. */
export function childKey(location: ObjectLocation, ...parts: string[]): string {
  return [location.key, ...parts].filter((part) => part !== "").join("/");
}

export function formatObjectUri(bucket: string, key: string): string {
  return `${S3_SCHEME}${bucket}${key ? `/${key}` : ""}`;
}
