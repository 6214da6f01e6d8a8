import { setTimeout as sleep } from "node:timers/promises";
import { PodtrainError, UnavailableError, UsageError } from "../../core/errors.js";
import { redactSecrets, registerSecret } from "../../core/redact.js";
import { authorizationHeader, fetchFor, type Environment } from "./credentials.js";
import { endpointPath, ENDPOINTS, type EndpointName } from "./endpoints.js";
import { backoffDelay, resolveRetryPolicy, type RetryPolicy } from "./retry-policy.js";

/** The server understood the request and refused it (4xx): retrying cannot help. */
export class MlflowRequestError extends UsageError {
  constructor(
    message: string,
    readonly endpoint: string,
    readonly status: number,
    readonly errorCode: string | undefined,
  ) {
    super(message);
  }
}

/** Every attempt failed with a network error, 429 or 5xx; `lastFailure` is "HTTP 503", "ECONNREFUSED", … */
export class MlflowUnavailableError extends UnavailableError {
  constructor(
    message: string,
    readonly endpoint: string,
    readonly lastFailure: string,
  ) {
    super(message);
  }
}

export interface RequestOptions<T> {
  pathParameters?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  /** A raw body, rebuilt for every attempt (a stream can only be sent once). */
  body?: () => { data: NonNullable<RequestInit["body"]>; headers: Record<string, string> };
  /** For writes the server does not de-duplicate (creating a run): asked before re-sending whether
   * the previous attempt landed after all (a dropped response is not a dropped request). */
  recover?: () => Promise<T | undefined>;
  policy?: Partial<RetryPolicy>;
}

/** Consumes the body inside the attempt, so a connection dropped mid-body is retried too. */
export type Consume<T> = (response: Response) => Promise<T>;

export class MlflowHttpClient {
  /** The tracking URI without user info: safe for messages. */
  readonly baseUrl: string;
  private readonly userInfo?: { username: string; password: string };

  constructor(
    trackingUri: string,
    private readonly environment: Environment = process.env,
    private readonly policyOverrides: Partial<RetryPolicy> = {},
  ) {
    const url = new URL(trackingUri);
    // fetch refuses URLs with credentials; MLflow accepts them, so they become basic auth.
    if (url.username) {
      this.userInfo = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
      // Redaction must know credentials that came with a --tracking-uri flag, not the environment.
      registerSecret(this.userInfo.username);
      registerSecret(this.userInfo.password);
      registerSecret(`${this.userInfo.username}:${this.userInfo.password}`);
    }
    url.username = "";
    url.password = "";
    this.baseUrl = url.href.replace(/\/+$/, "");
  }

  /** Calls a JSON endpoint and returns the parsed response ({} for an empty body). */
  async call<T = Record<string, unknown>>(name: EndpointName, options: RequestOptions<T> = {}): Promise<T> {
    return this.request(name, options, async (response) => {
      const text = await response.text();
      try {
        return (text ? JSON.parse(text) : {}) as T;
      } catch {
        // A proxy's login or error page answered with 200: not the tracking server.
        throw new UnavailableError(`MLflow ${name} at ${this.baseUrl} answered HTTP ${response.status} with a body that is not JSON (${JSON.stringify(redactSecrets(text.slice(0, 120), this.environment))}): check MLFLOW_TRACKING_URI and any proxy in front of the server`);
      }
    });
  }

  async request<T>(name: EndpointName, options: RequestOptions<T>, consume: Consume<T>): Promise<T> {
    const { method } = ENDPOINTS[name];
    const path = endpointPath(name, options.pathParameters);
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const label = `${name} (${method} ${path})`;
    return this.withRetries(label, options, async (signal) => {
      const body = options.body?.();
      const headers: Record<string, string> = {
        ...(options.json === undefined ? {} : { "content-type": "application/json" }),
        ...body?.headers,
        ...authorizationHeader(this.environment, this.userInfo),
      };
      const init: RequestInit & { duplex?: "half" } = { method, headers, signal };
      if (options.json !== undefined) init.body = JSON.stringify(options.json);
      if (body) {
        init.body = body.data;
        init.duplex = "half";
      }
      return fetchFor(this.environment)(url.href, init);
    }, consume);
  }

  /** A request outside the tracking API (a presigned multipart URL): no MLflow credentials sent. */
  async external<T>(label: string, url: string, init: RequestInit, consume: Consume<T>, policy: Partial<RetryPolicy> = {}): Promise<T> {
    return this.withRetries(label, { policy }, (signal) => fetchFor(this.environment)(url, { ...init, signal }), consume);
  }

  private async withRetries<T>(label: string, options: RequestOptions<T>, send: (signal: AbortSignal) => Promise<Response>, consume: Consume<T>): Promise<T> {
    const policy = resolveRetryPolicy(this.environment, { ...this.policyOverrides, ...options.policy });
    const started = Date.now();
    let lastFailure = "";
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0 && options.recover) {
        const landed = await options.recover().catch(() => undefined);
        if (landed !== undefined) return landed;
      }
      let retryAfterMs = 0;
      try {
        const response = await send(AbortSignal.timeout(policy.requestTimeoutMs));
        if (response.ok) return await consume(response);
        const text = await response.text().catch(() => "");
        if (response.status !== 429 && response.status < 500) throw refusal(label, response.status, text, this.environment);
        lastFailure = `HTTP ${response.status}`;
        retryAfterMs = Number(response.headers.get("retry-after") ?? 0) * 1000 || 0;
      } catch (error) {
        if (error instanceof PodtrainError) throw error;
        lastFailure = networkErrorCode(error, policy.requestTimeoutMs);
      }
      const elapsed = Date.now() - started;
      const delay = Math.max(backoffDelay(policy, attempt), Math.min(retryAfterMs, policy.maxDelayMs));
      if (attempt >= policy.maxRetries || elapsed + delay > policy.totalTimeoutMs) {
        const failure = redactSecrets(lastFailure, this.environment);
        throw new MlflowUnavailableError(`MLflow ${label} at ${this.baseUrl} failed after ${attempt + 1} attempt(s) in ${(elapsed / 1000).toFixed(1)} s: ${failure}`, label, failure);
      }
      await sleep(delay);
    }
  }
}

/** Built from the server's answer, which may echo the request's credentials: redacted here. */
function refusal(label: string, status: number, rawText: string, environment: Environment): MlflowRequestError {
  const text = redactSecrets(rawText, environment);
  let errorCode: string | undefined;
  let detail = text.slice(0, 500);
  try {
    const parsed = JSON.parse(text) as { error_code?: string; message?: string };
    errorCode = parsed.error_code;
    detail = parsed.message === undefined ? detail : redactSecrets(String(parsed.message), environment);
  } catch {
    // Not JSON (a proxy's HTML page): keep the start of the text.
  }
  const hint = status === 401 || status === 403 ? " (check MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD)" : "";
  return new MlflowRequestError(`MLflow ${label} was refused with HTTP ${status}${errorCode ? ` ${errorCode}` : ""}: ${detail}${hint}`, label, status, errorCode);
}

/** The most specific thing Node tells us about a failed connection: ECONNREFUSED, ECONNRESET, … */
export function networkErrorCode(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return `no response within ${timeoutMs / 1000} s`;
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const candidate = current as { code?: unknown; errors?: unknown[]; cause?: unknown };
    if (typeof candidate.code === "string" && !candidate.code.startsWith("UND_ERR_")) return candidate.code;
    if (Array.isArray(candidate.errors) && candidate.errors.length > 0) current = candidate.errors[0];
    else if (typeof candidate.code === "string") return candidate.code;
    else current = candidate.cause;
  }
  return error instanceof Error ? error.message : String(error);
}
