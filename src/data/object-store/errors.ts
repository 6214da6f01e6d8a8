import { DataError, PodtrainError, SpecError, UnavailableError } from "../../core/errors.js";
import { describeEndpoint, S3_ENVIRONMENT } from "./client.js";

// SDK failures turned into the project's typed errors, each with one line that says what to fix:
//   server unreachable, timed out, 5xx after the retries  → 69 (retrying later can help)
//   credentials missing, wrong or not allowed             → 78 (fix the Secret / role)
//   bucket or key not there                               → 65 (the data is not where it is said to be)
// The message names the location and the endpoint, never a credential (the SDK's own messages
// do not hold one, and the CLI line is redacted again on the way out).

// XAdminUserNotFound: versitygw's answer (HTTP 404) to an access key it does not know, where AWS
// says InvalidAccessKeyId (403); listed here so it is not read as a missing object.
const CREDENTIAL_CODES = new Set(["InvalidAccessKeyId", "XAdminUserNotFound", "SignatureDoesNotMatch", "AccessDenied", "Forbidden", "InvalidToken", "ExpiredToken", "TokenRefreshRequired"]);
const MISSING_CODES = new Set(["NoSuchBucket", "NoSuchKey", "NotFound", "NoSuchUpload"]);
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNABORTED", "UND_ERR_SOCKET"]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  cause?: unknown;
}

function codeOf(error: SdkErrorShape): string {
  return error.Code ?? error.name ?? error.code ?? "";
}

function networkCode(error: unknown): string | undefined {
  for (let current = error as SdkErrorShape | undefined, depth = 0; current && depth < 5; current = current.cause as SdkErrorShape | undefined, depth += 1) {
    if (current.code && NETWORK_CODES.has(current.code)) return current.code;
    if (current.name === "TimeoutError" || current.code === "TimeoutError" || current.name === "RequestTimeout") return "timed out";
  }
  return undefined;
}

/** `action` reads like "read s3://bucket/key"; the result is the error to throw. */
export function objectStoreError(error: unknown, action: string): PodtrainError {
  if (error instanceof PodtrainError) return error;
  const shape = (error ?? {}) as SdkErrorShape;
  // Responses without a body (HEAD requests) carry no error code, only the status.
  const named = codeOf(shape);
  const code = named === "Unknown" || named === "UnknownError" ? "" : named;
  const status = shape.$metadata?.httpStatusCode;
  const endpoint = describeEndpoint();
  const attempts = shape.$metadata?.attempts;
  const tried = attempts && attempts > 1 ? ` after ${attempts} attempts` : "";
  if (shape.name === "CredentialsProviderError" || /Could not load credentials/i.test(shape.message ?? "")) {
    return new SpecError(`cannot ${action}: no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or a web identity with AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN)`, { cause: error });
  }
  // A region mismatch is a 400/301 with its own code: checked before the generic 403 rule.
  if (code === "PermanentRedirect" || code === "IllegalLocationConstraintException" || code === "AuthorizationHeaderMalformed") {
    return new SpecError(`cannot ${action}: ${endpoint} says the bucket is in another region (${code}): set ${S3_ENVIRONMENT.REGION}`, { cause: error });
  }
  if (CREDENTIAL_CODES.has(code) || status === 403) {
    return new SpecError(`cannot ${action}: ${endpoint} refused the credentials (${code || `HTTP ${status}`}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (the pod's Secret) and that the key may access this bucket`, { cause: error });
  }
  if (MISSING_CODES.has(code) || status === 404) {
    const what = code === "NoSuchBucket" ? "the bucket does not exist" : code === "NoSuchUpload" ? "the upload was aborted" : "no such object";
    return new DataError(`cannot ${action}: ${what} on ${endpoint} (${code || "HTTP 404"})`, { cause: error });
  }
  const network = networkCode(error);
  if (network) {
    return new UnavailableError(`cannot ${action}: S3 endpoint ${endpoint} not reachable (${network}${tried}); check ${S3_ENVIRONMENT.ENDPOINT} and that the server is up`, { cause: error });
  }
  if (status !== undefined && (status >= 500 || status === 429)) {
    return new UnavailableError(`cannot ${action}: ${endpoint} answered HTTP ${status} ${code}${tried}; retry later`, { cause: error });
  }
  return new UnavailableError(`cannot ${action} on ${endpoint}: ${code || "error"}: ${(shape.message ?? String(error)).split("\n")[0]}`, { cause: error });
}
