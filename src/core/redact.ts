// One redaction function for every boundary where text leaves the process: error messages built
// from a server response, the run's error tag, the CLI's error line and every log line. A server
// or proxy that echoes the request's Authorization header in an error body must not turn the
// tracking token into a log line or a tag stored on that same server.

export const REDACTED = "[REDACTED]";

/** Secrets too short to be told apart from ordinary words are not searched for as plain text. */
const MIN_PLAIN_SECRET_LENGTH = 3;

/** Secrets seen outside the environment (the user info of a --tracking-uri). */
const registered = new Set<string>();

/** Adds a secret that is not in the environment, e.g. `user:pass@` of a tracking URI flag. */
export function registerSecret(value: string | undefined): void {
  if (value) registered.add(value);
}

function userInfoOf(uri: string | undefined): string[] {
  if (!uri) return [];
  try {
    const url = new URL(uri);
    return [url.username, url.password].filter(Boolean).map((value) => decodeURIComponent(value));
  } catch {
    return [];
  }
}

/** Every configured credential, in each form it can travel: plain, URL-encoded and base64 basic. */
function secretsOf(environment: Record<string, string | undefined>): string[] {
  const username = environment.MLFLOW_TRACKING_USERNAME;
  const password = environment.MLFLOW_TRACKING_PASSWORD;
  const uriParts = userInfoOf(environment.MLFLOW_TRACKING_URI);
  const plain = [environment.MLFLOW_TRACKING_TOKEN, username, password, ...uriParts, ...registered].filter((value): value is string => !!value);
  const pairs: Array<[string, string]> = [];
  if (username) pairs.push([username, password ?? ""]);
  if (uriParts[0]) pairs.push([uriParts[0], uriParts[1] ?? ""]);
  for (const value of registered) if (value.includes(":")) pairs.push([value.slice(0, value.indexOf(":")), value.slice(value.indexOf(":") + 1)]);
  const forms = new Set<string>();
  for (const value of plain) {
    if (value.length < MIN_PLAIN_SECRET_LENGTH) continue;
    forms.add(value);
    forms.add(encodeURIComponent(value));
  }
  for (const [user, pass] of pairs) {
    const encoded = Buffer.from(`${user}:${pass}`).toString("base64");
    forms.add(encoded);
    forms.add(encoded.replace(/=+$/, ""));
  }
  // Longest first, so a token containing the username is removed whole.
  return [...forms].sort((left, right) => right.length - left.length);
}

// Anything that looks like an Authorization value, configured or not: a header echoed as
// `authorization: Bearer …`, JSON `"Authorization": "Basic …"`, or a bare scheme and credential.
// A backslash ends the value too, so an escaped quote inside a JSON log line stays intact.
const AUTHORIZATION_VALUE = /(authorization\\?["']?\s*[:=]\s*\\?["']?)(?:(?:bearer|basic|token|digest)\s+)?[^\s"'\\,;}]+/gi;
const SCHEME_CREDENTIAL = /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{12,}/gi;
const URL_USER_INFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*:[^\s/@]*@/gi;

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The text with every credential replaced by [REDACTED]. */
export function redactSecrets(text: string, environment: Record<string, string | undefined> = process.env): string {
  let result = text;
  for (const secret of secretsOf(environment)) result = result.replace(new RegExp(escapeRegExp(secret), "g"), REDACTED);
  return result
    .replace(AUTHORIZATION_VALUE, (_match, prefix: string) => `${prefix}${REDACTED}`)
    .replace(SCHEME_CREDENTIAL, (_match, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(URL_USER_INFO, (_match, scheme: string) => `${scheme}${REDACTED}@`);
}
