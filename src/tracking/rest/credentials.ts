import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { UsageError } from "../../core/errors.js";

// Credentials and TLS settings come from the same environment variables as MLflow's own client.
// They are read on every request (a sidecar may rotate a token while a long training runs) and
// never stored on the client object, logged, or copied into error messages.

export type Environment = Record<string, string | undefined>;

export type FetchFunction = (url: string, init: RequestInit) => Promise<Response>;

/** The Authorization header for this request, or none. A bearer token wins over basic auth. */
export function authorizationHeader(environment: Environment, userInfo?: { username: string; password: string }): Record<string, string> {
  const token = environment.MLFLOW_TRACKING_TOKEN;
  if (token) return { authorization: `Bearer ${token}` };
  const username = environment.MLFLOW_TRACKING_USERNAME ?? userInfo?.username;
  const password = environment.MLFLOW_TRACKING_PASSWORD ?? userInfo?.password;
  if (username !== undefined && username !== "") {
    return { authorization: `Basic ${Buffer.from(`${username}:${password ?? ""}`).toString("base64")}` };
  }
  return {};
}

// One connection pool per TLS setting, so keep-alive still works while settings are read per request.
const agents = new Map<string, import("undici").Agent>();

/**
 * Node's built-in fetch for the ordinary case; undici's fetch with its own Agent when a custom CA
 * or disabled verification is configured (the built-in fetch cannot take a CA, and mixing the
 * npm undici Agent with the built-in fetch breaks across undici major versions).
 */
export function fetchFor(environment: Environment): FetchFunction {
  const caPath = environment.MLFLOW_TRACKING_SERVER_CERT_PATH;
  const insecure = isTrue(environment.MLFLOW_TRACKING_INSECURE_TLS);
  if (!caPath && !insecure) return (url, init) => fetch(url, init);
  // undici is loaded only here, so the CLI's start-up never pays for it.
  const { Agent, fetch: undiciFetch } = createRequire(import.meta.url)("undici") as typeof import("undici");
  const key = `${caPath ?? ""}\0${insecure}`;
  let agent = agents.get(key);
  if (!agent) {
    let ca: string | undefined;
    if (caPath) {
      try {
        ca = readFileSync(caPath, "utf8");
      } catch (cause) {
        throw new UsageError(`cannot read MLFLOW_TRACKING_SERVER_CERT_PATH ${caPath}: ${(cause as Error).message}`, { cause });
      }
    }
    agent = new Agent({ connect: { ...(ca === undefined ? {} : { ca }), rejectUnauthorized: !insecure } });
    agents.set(key, agent);
  }
  const dispatcher = agent;
  return (url, init) => undiciFetch(url, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>;
}

export function isTrue(value: string | undefined): boolean {
  return value !== undefined && ["1", "true", "yes", "on"].includes(value.trim().toLowerCase());
}
