import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/core/errors.js";
import { FileTrackingStore } from "../../src/tracking/file-store.js";
import { openTrackingStore } from "../../src/tracking/resolve.js";
import { ProxiedArtifacts, proxiedArtifactPath } from "../../src/tracking/rest/artifacts.js";
import { BATCH_LIMITS, splitBatch } from "../../src/tracking/rest/batch-limits.js";
import { endpointPath, ENDPOINTS } from "../../src/tracking/rest/endpoints.js";
import { MlflowHttpClient } from "../../src/tracking/rest/http-client.js";
import { RestTrackingStore } from "../../src/tracking/rest/rest-store.js";
import { backoffDelay, DEFAULT_RETRY_POLICY, resolveRetryPolicy } from "../../src/tracking/rest/retry-policy.js";

// Pieces of the REST client that need no MLflow server.

describe("openTrackingStore", () => {
  it("defaults to ./mlruns, takes file: URIs and paths, http(s) URIs, and refuses the rest", () => {
    expect((openTrackingStore(undefined, {}) as FileTrackingStore).location).toBe(path.resolve("mlruns"));
    expect(openTrackingStore(undefined, { MLFLOW_TRACKING_URI: "http://127.0.0.1:5000" })).toBeInstanceOf(RestTrackingStore);
    expect(openTrackingStore("https://mlflow.example.com/", {}).location).toBe("https://mlflow.example.com");
    expect(openTrackingStore("file:///tmp/runs", {}).location).toBe("/tmp/runs");
    expect(openTrackingStore("relative/runs", {}).location).toBe(path.resolve("relative/runs"));
    expect(() => openTrackingStore("postgresql://user:secret@db/mlflow", {})).toThrow(UsageError);
    expect(() => openTrackingStore("postgresql://user:secret@db/mlflow", {})).toThrow(/unsupported tracking URI scheme "postgresql:" .*use http\(s\):\/\/host:port .*file:\/\/\/path or a plain path/);
    expect(() => openTrackingStore(undefined, { MLFLOW_TRACKING_URI: "databricks://profile" })).toThrow(/"databricks:"/);
  });
});

describe("splitBatch", () => {
  it("keeps every request within the count limits and keeps metric order", () => {
    const metrics = Array.from({ length: 2500 }, (_, step) => ({ key: "loss", value: step, timestamp: 1, step }));
    const params = Object.fromEntries(Array.from({ length: 150 }, (_, index) => [`p${index}`, "v"]));
    const requests = splitBatch({ metrics, params, tags: { a: "b" } });
    for (const request of requests) {
      expect(request.metrics.length).toBeLessThanOrEqual(BATCH_LIMITS.metricsPerRequest);
      expect(request.params.length).toBeLessThanOrEqual(BATCH_LIMITS.paramsPerRequest);
      expect(request.metrics.length + request.params.length + request.tags.length).toBeLessThanOrEqual(BATCH_LIMITS.entitiesPerRequest);
    }
    expect(requests.flatMap((request) => request.metrics.map((metric) => metric.step))).toEqual(metrics.map((metric) => metric.step));
    expect(requests.flatMap((request) => request.params)).toHaveLength(150);
  });

  it("splits by size under 1 MB and writes non-finite values as MLflow expects", () => {
    const tags = Object.fromEntries(Array.from({ length: 99 }, (_, index) => [`t${index}`, "x".repeat(8000)]));
    const params = Object.fromEntries(Array.from({ length: 99 }, (_, index) => [`p${index}`, "y".repeat(6000)]));
    const requests = splitBatch({ tags, params, metrics: [{ key: "m", value: Number.NaN, timestamp: 1, step: 0 }, { key: "m", value: -Infinity, timestamp: 1, step: 1 }] });
    expect(requests.length).toBeGreaterThan(1);
    for (const request of requests) expect(Buffer.byteLength(JSON.stringify({ run_id: "r".repeat(32), ...request }))).toBeLessThan(BATCH_LIMITS.requestBytes);
    expect(requests.at(-1)?.metrics.map((metric) => metric.value)).toEqual(["NaN", "-Infinity"]);
  });
});

describe("retry policy", () => {
  it("reads MLflow's environment variables and draws equal-jitter delays between half and all of the doubling ceiling", () => {
    expect(resolveRetryPolicy({})).toEqual(DEFAULT_RETRY_POLICY);
    expect(resolveRetryPolicy({ MLFLOW_HTTP_REQUEST_MAX_RETRIES: "2", MLFLOW_HTTP_REQUEST_TIMEOUT: "7" })).toMatchObject({ maxRetries: 2, requestTimeoutMs: 7000 });
    expect(() => resolveRetryPolicy({ MLFLOW_HTTP_REQUEST_MAX_RETRIES: "many" })).toThrow(/MLFLOW_HTTP_REQUEST_MAX_RETRIES must be a non-negative number/);
    expect(backoffDelay(DEFAULT_RETRY_POLICY, 3, () => 0.999)).toBe(7996);
    // Equal jitter: never below half the ceiling, so the default retries always span 45 s.
    expect(backoffDelay(DEFAULT_RETRY_POLICY, 0, () => 0)).toBe(500);
    expect(Array.from({ length: DEFAULT_RETRY_POLICY.maxRetries }, (_, retry) => backoffDelay(DEFAULT_RETRY_POLICY, retry, () => 0)).reduce((a, b) => a + b)).toBe(45_500);
    expect(backoffDelay(DEFAULT_RETRY_POLICY, 30, () => 0.5)).toBe(DEFAULT_RETRY_POLICY.maxDelayMs * 0.75);
    expect(backoffDelay(DEFAULT_RETRY_POLICY, 3, () => 0)).toBe(4000);
  });
});

describe("endpoints and artifact URIs", () => {
  it("builds paths from the one table and maps proxied artifact URIs", () => {
    for (const endpoint of Object.values(ENDPOINTS)) expect(endpoint.path).toMatch(/^\/(api|health)/);
    expect(endpointPath("uploadArtifact", { artifact_path: "1/abc/artifacts/a b/c.bin" })).toBe("/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/a%20b/c.bin");
    expect(proxiedArtifactPath("mlflow-artifacts:/1/abc/artifacts")).toBe("1/abc/artifacts");
    expect(proxiedArtifactPath("mlflow-artifacts://host:5000/1/abc/artifacts/")).toBe("1/abc/artifacts");
    expect(proxiedArtifactPath("http://h/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts")).toBe("1/abc/artifacts");
    expect(() => proxiedArtifactPath("s3://bucket/1/abc/artifacts")).toThrow(/not served by the tracking server; start it with --serve-artifacts/);
  });
});

describe("multipart upload", () => {
  it("uploads parts to the presigned URLs without MLflow credentials, then completes", async () => {
    const parts = new Map<number, Buffer>();
    const calls: string[] = [];
    let partAuthorization: string | undefined = "unset";
    let completed: { parts: Array<{ part_number: number; etag: string }> } | undefined;
    let base = "";
    const fake = http.createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const url = new URL(request.url ?? "/", base);
      calls.push(`${request.method} ${url.pathname}`);
      const json = (value: unknown) => response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(value));
      if (url.pathname === "/api/3.0/mlflow/server-info") return json({ multipart_uploads_enabled: true });
      if (url.pathname.startsWith("/api/2.0/mlflow-artifacts/mpu/create/")) {
        const { num_parts } = JSON.parse(body.toString()) as { num_parts: number };
        return json({ upload_id: "u1", credentials: Array.from({ length: num_parts }, (_, index) => ({ part_number: index + 1, url: `${base}/presigned/${index + 1}`, headers: { "x-amz-test": "1" } })) });
      }
      if (url.pathname.startsWith("/presigned/")) {
        partAuthorization = request.headers.authorization;
        const number = Number(url.pathname.split("/").at(-1));
        parts.set(number, body);
        return response.writeHead(200, { etag: `"etag-${number}"` }).end();
      }
      if (url.pathname.startsWith("/api/2.0/mlflow-artifacts/mpu/complete/")) {
        completed = JSON.parse(body.toString()) as typeof completed;
        return json({});
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(fake.address() as net.AddressInfo).port}`;
    const scratch = await mkdtemp(path.join(os.tmpdir(), "podtrain-mpu-"));
    try {
      const content = randomBytes(2_500_000);
      await writeFile(path.join(scratch, "model.bin"), content);
      const environment = { MLFLOW_TRACKING_TOKEN: "secret", MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE: "1000000", MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE: "1000000" };
      const artifacts = new ProxiedArtifacts(new MlflowHttpClient(base, environment), environment);
      await artifacts.uploadFile("1/abc/artifacts/model/model.bin", path.join(scratch, "model.bin"));
      expect(calls).toContain("POST /api/2.0/mlflow-artifacts/mpu/create/1/abc/artifacts/model");
      expect(partAuthorization).toBeUndefined();
      expect(completed?.parts.map((part) => [part.part_number, part.etag])).toEqual([[1, '"etag-1"'], [2, '"etag-2"'], [3, '"etag-3"']]);
      const joined = Buffer.concat([1, 2, 3].map((number) => parts.get(number) ?? Buffer.alloc(0)));
      expect(createHash("sha256").update(joined).digest("hex")).toBe(createHash("sha256").update(content).digest("hex"));
    } finally {
      await new Promise((resolve) => fake.close(resolve));
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
