import { S3Client } from "@aws-sdk/client-s3";
import { SpecError } from "../../core/errors.js";
import { registerSecret } from "../../core/redact.js";

// One S3 client per process, configured from the environment the generated DAGs set on the pod:
//   AWS_ENDPOINT_URL          an S3-compatible server (Ceph RGW, versitygw, ...); absent = AWS itself
//   AWS_REGION                default us-east-1 (the signing region; some S3-compatible servers
//                             accept any, others, e.g. versitygw, check it like AWS)
//   PODTRAIN_S3_PATH_STYLE    true|false: bucket in the path instead of the host name (most
//                             self-hosted servers need true); default true with an endpoint,
//                             false without
// Credentials come from the SDK's standard chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
// (+ AWS_SESSION_TOKEN), AWS_PROFILE, a pod's web identity (AWS_WEB_IDENTITY_TOKEN_FILE +
// AWS_ROLE_ARN), then container and instance metadata.
//
// Retries are the SDK's "standard" strategy (exponential backoff with jitter, throttling and
// 5xx and connection errors retried) for PODTRAIN_S3_MAX_ATTEMPTS attempts (default 4, i.e. 3
// retries). A server that accepts a connection and then stalls is cut off after
// PODTRAIN_S3_TIMEOUT_SECONDS (default 30) without a byte, so the worst case is bounded:
// attempts × (timeout + backoff).

export const S3_ENVIRONMENT = {
  ENDPOINT: "AWS_ENDPOINT_URL",
  REGION: "AWS_REGION",
  PATH_STYLE: "PODTRAIN_S3_PATH_STYLE",
  MAX_ATTEMPTS: "PODTRAIN_S3_MAX_ATTEMPTS",
  TIMEOUT_SECONDS: "PODTRAIN_S3_TIMEOUT_SECONDS",
} as const;

export const DEFAULT_MAX_ATTEMPTS = 4;
export const DEFAULT_TIMEOUT_SECONDS = 30;
const CONNECT_TIMEOUT_MS = 10_000;

export interface ObjectStoreSettings {
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
  maxAttempts: number;
  timeoutMs: number;
}

function positiveNumber(name: string, fallback: number, integer: boolean): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new SpecError(`${name}=${JSON.stringify(text)}: expected a positive ${integer ? "integer" : "number"}`);
  }
  return value;
}

export function objectStoreSettings(environment: NodeJS.ProcessEnv = process.env): ObjectStoreSettings {
  const endpoint = environment[S3_ENVIRONMENT.ENDPOINT] || undefined;
  if (endpoint) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new SpecError(`${S3_ENVIRONMENT.ENDPOINT}=${JSON.stringify(endpoint)} is not a URL (expected e.g. http://s3.storage:9000)`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new SpecError(`${S3_ENVIRONMENT.ENDPOINT}: expected an http:// or https:// URL, got ${url.protocol}`);
  }
  const pathStyleText = environment[S3_ENVIRONMENT.PATH_STYLE];
  if (pathStyleText !== undefined && pathStyleText !== "" && pathStyleText !== "true" && pathStyleText !== "false") {
    throw new SpecError(`${S3_ENVIRONMENT.PATH_STYLE}=${JSON.stringify(pathStyleText)}: expected true or false`);
  }
  return {
    endpoint,
    region: environment[S3_ENVIRONMENT.REGION] || environment.AWS_DEFAULT_REGION || "us-east-1",
    forcePathStyle: pathStyleText ? pathStyleText === "true" : endpoint !== undefined,
    maxAttempts: positiveNumber(S3_ENVIRONMENT.MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS, true),
    timeoutMs: positiveNumber(S3_ENVIRONMENT.TIMEOUT_SECONDS, DEFAULT_TIMEOUT_SECONDS, false) * 1000,
  };
}

let cached: { key: string; client: S3Client } | undefined;

/** The process's client; rebuilt only when the environment it was built from changed (tests). */
export function objectStoreClient(): S3Client {
  const settings = objectStoreSettings();
  // Secrets never reach an error line or a log line, whatever a server echoes back.
  registerSecret(process.env.AWS_SECRET_ACCESS_KEY);
  registerSecret(process.env.AWS_SESSION_TOKEN);
  const key = JSON.stringify([settings, process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY, process.env.AWS_SESSION_TOKEN, process.env.AWS_PROFILE]);
  if (cached?.key === key) return cached.client;
  cached?.client.destroy();
  // The SDK warns on Node 20 (several lines on stderr) that *later* SDK releases will need Node 22;
  // the pinned release supports it, and a pod's log should hold one line per real problem.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const client = new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
    maxAttempts: settings.maxAttempts,
    retryMode: "standard",
    // Checksums only where the operation needs one: S3-compatible servers differ in support
    // for the newer CRC trailers, and every object's SHA-256 is checked by its reader anyway.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: { connectionTimeout: Math.min(CONNECT_TIMEOUT_MS, settings.timeoutMs), socketTimeout: settings.timeoutMs },
  });
  cached = { key, client };
  return client;
}

/** Where the client sends requests, for messages: the endpoint, or "AWS S3 (<region>)". */
export function describeEndpoint(): string {
  const settings = objectStoreSettings();
  return settings.endpoint ?? `AWS S3 (${settings.region})`;
}
