import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/core/errors.js";
import { RestTrackingStore } from "../../src/tracking/rest/rest-store.js";
import { startFlakyProxy, type ProxyAction } from "../support/flaky-proxy.js";
import { freePort, startMlflowServer, type MlflowServer } from "../support/mlflow-server.js";

// Faults: a dead server, injected 503s and dropped connections, lost responses to creates,
// a server restart between two calls, and credentials that must never leak into messages.

const FAST_RETRIES = { baseDelayMs: 20, maxDelayMs: 200 };
let server: MlflowServer;
let scratch: string;

beforeAll(async () => {
  server = await startMlflowServer();
  scratch = await mkdtemp(path.join(os.tmpdir(), "podtrain-faults-"));
});

afterAll(async () => {
  await server?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("checkAvailable", () => {
  it("fails fast with one actionable line when nothing listens", async () => {
    const uri = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const error = await new RestTrackingStore(uri, { environment: {} }).checkAvailable().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toBe(`cannot reach the MLflow tracking server at ${uri} (ECONNREFUSED): start it or unset MLFLOW_TRACKING_URI to use ./mlruns`);
    expect(Date.now() - started).toBeLessThan(6_000);
  });
});

describe("retries through a flaky proxy", () => {
  it("completes a whole run while 40% of requests get a 503 or a dropped connection", async () => {
    // Seeded, so a failure reproduces; not periodic, so retries cannot fall into lockstep with it.
    let seed = 42;
    const nextRandom = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const proxy = await startFlakyProxy(server.uri, (): ProxyAction => {
      const draw = nextRandom();
      return draw < 0.2 ? "fail-503" : draw < 0.4 ? "drop" : "forward";
    });
    try {
      const store = new RestTrackingStore(proxy.uri, { environment: {}, retryPolicy: { ...FAST_RETRIES, maxRetries: 10 } });
      const experimentId = await store.getOrCreateExperiment("flaky");
      const run = await store.createRun({ experimentId, runName: "flaky", startTime: Date.now(), tags: {} });
      await store.logBatch(run.runId, { params: { a: "1" }, metrics: [{ key: "loss", value: 0.5, timestamp: Date.now(), step: 1 }] });
      await writeFile(path.join(scratch, "weights.bin"), Buffer.alloc(100_000, 7));
      await store.logArtifacts(run.runId, scratch, "model");
      await store.updateRun(run.runId, { status: "FINISHED", endTime: Date.now() });
      const data = await store.getRun(run.runId);
      expect(data).toMatchObject({ params: { a: "1" }, metrics: { loss: 0.5 }, info: { status: "FINISHED" } });
      expect(await store.listArtifacts(run.runId)).toEqual(["model/weights.bin"]);
      const injected = proxy.log.filter((entry) => entry.action !== "forward");
      console.info(`flaky proxy: ${injected.length} of ${proxy.log.length} requests failed on purpose`);
      expect(new Set(injected.map((entry) => entry.action))).toEqual(new Set(["fail-503", "drop"]));
      expect(injected.length).toBeGreaterThanOrEqual(4);
    } finally {
      await proxy.close();
    }
  });

  it("does not create a second run or model version when a create's response is lost", async () => {
    const dropped = new Set<string>();
    const proxy = await startFlakyProxy(server.uri, (_index, request) => {
      const url = request.url ?? "";
      const isCreate = url.endsWith("/runs/create") || url.endsWith("/model-versions/create");
      if (isCreate && !dropped.has(url)) {
        dropped.add(url);
        return "drop-response";
      }
      return "forward";
    });
    try {
      const store = new RestTrackingStore(proxy.uri, { environment: {}, retryPolicy: FAST_RETRIES });
      const experimentId = await store.getOrCreateExperiment("lost-responses");
      const run = await store.createRun({ experimentId, runName: "once", startTime: Date.now(), tags: { "airflow.try": "1" } });
      expect((await store.findRunsByTag(experimentId, "airflow.try", "1")).map((found) => found.runId)).toEqual([run.runId]);
      const version = await store.registry.createModelVersion({ name: "lost_response_model", source: `runs:/${run.runId}/model`, runId: run.runId, tags: {} });
      expect(version.version).toBe("1");
      expect(await store.registry.findModelVersionsByRun("lost_response_model", run.runId)).toHaveLength(1);
      expect(proxy.log.filter((entry) => entry.action === "drop-response")).toHaveLength(2);
    } finally {
      await proxy.close();
    }
  });

  it("gives up after the retry budget with an UnavailableError naming the endpoint and status", async () => {
    const proxy = await startFlakyProxy(server.uri, () => "fail-503");
    try {
      const store = new RestTrackingStore(proxy.uri, { environment: { MLFLOW_HTTP_REQUEST_MAX_RETRIES: "3" }, retryPolicy: FAST_RETRIES });
      const error = await store.getOrCreateExperiment("never").catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UnavailableError);
      expect((error as Error).message).toMatch(/^MLflow getExperimentByName \(GET \/api\/2\.0\/mlflow\/experiments\/get-by-name\) at http:\/\/127\.0\.0\.1:\d+ failed after 4 attempt\(s\) in [\d.]+ s: HTTP 503$/);
      expect(proxy.log).toHaveLength(4);
    } finally {
      await proxy.close();
    }
  });
});

describe("server restarted between two calls", () => {
  it("the second call waits for the server and succeeds", async () => {
    const store = new RestTrackingStore(server.uri, { environment: { MLFLOW_HTTP_REQUEST_MAX_RETRIES: "30" } });
    const experimentId = await store.getOrCreateExperiment("restart");
    const restarting = server.restart();
    while (await fetch(`${server.uri}/health`).then(() => true, () => false)) await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const run = await store.createRun({ experimentId, runName: "after-restart", startTime: Date.now(), tags: {} });
    console.info(`createRun waited ${((Date.now() - started) / 1000).toFixed(1)} s for the restart (server start ${server.startSeconds.toFixed(1)} s)`);
    await restarting;
    expect((await store.getRun(run.runId)).info.runName).toBe("after-restart");
  });
});

describe("credentials", () => {
  async function recordingServer(status: number) {
    const seen: Array<string | undefined> = [];
    const recorder = http.createServer((request, response) => {
      seen.push(request.headers.authorization);
      request.resume();
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error_code: "UNAUTHENTICATED", message: "no" }));
    });
    await new Promise<void>((resolve) => recorder.listen(0, "127.0.0.1", resolve));
    const uri = `http://127.0.0.1:${(recorder.address() as net.AddressInfo).port}`;
    return { uri, seen, close: () => new Promise((resolve) => recorder.close(resolve)) };
  }

  it("sends the bearer token, read per request, and never puts it in an error", async () => {
    const recorder = await recordingServer(500);
    try {
      const environment: Record<string, string> = { MLFLOW_TRACKING_TOKEN: "first-secret-token" };
      const store = new RestTrackingStore(recorder.uri, { environment, retryPolicy: { ...FAST_RETRIES, maxRetries: 1 } });
      const first = await store.getRun("a".repeat(32)).catch((caught: Error) => caught);
      environment.MLFLOW_TRACKING_TOKEN = "rotated-secret-token";
      const second = await store.checkAvailable().catch((caught: Error) => caught);
      expect(recorder.seen.slice(0, 2)).toEqual(["Bearer first-secret-token", "Bearer first-secret-token"]);
      expect(recorder.seen.at(-1)).toBe("Bearer rotated-secret-token");
      for (const error of [first, second]) {
        expect(error).toBeInstanceOf(UnavailableError);
        expect(`${(error as Error).message} ${(error as Error).stack}`).not.toMatch(/secret-token/);
      }
    } finally {
      await recorder.close();
    }
  });

  it("sends basic auth from the environment or the URI, keeps both out of location and messages", async () => {
    const recorder = await recordingServer(401);
    try {
      const withUserInfo = recorder.uri.replace("http://", "http://uri-user:uri-password@");
      const store = new RestTrackingStore(withUserInfo, { environment: {} });
      expect(store.location).toBe(recorder.uri);
      const refused = (await store.getRun("b".repeat(32)).catch((caught: unknown) => caught)) as Error;
      expect(refused.message).toMatch(/HTTP 401 UNAUTHENTICATED: no \(check MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME\/MLFLOW_TRACKING_PASSWORD\)/);
      expect(refused.message).not.toMatch(/uri-password|uri-user/);
      const fromEnvironment = new RestTrackingStore(recorder.uri, { environment: { MLFLOW_TRACKING_USERNAME: "alice", MLFLOW_TRACKING_PASSWORD: "env-password" } });
      const error = (await fromEnvironment.getRun("c".repeat(32)).catch((caught: unknown) => caught)) as Error;
      expect(error.message).not.toMatch(/env-password/);
      expect(recorder.seen).toEqual([`Basic ${Buffer.from("uri-user:uri-password").toString("base64")}`, `Basic ${Buffer.from("alice:env-password").toString("base64")}`]);
    } finally {
      await recorder.close();
    }
  });
});
