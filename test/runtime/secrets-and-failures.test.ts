import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSyntheticPowerFile } from "../../src/data/power/synthetic-file.js";
import { EXIT_CODES } from "../../src/core/errors.js";
import { RUN_KEY_TAG } from "../../src/tracking/tags.js";
import { FileTrackingStore } from "../../src/tracking/file-store.js";
import { RestTrackingStore } from "../../src/tracking/rest/rest-store.js";
import type { TrackingStore } from "../../src/tracking/store.js";
import { errorLines, runTrain, type CliResult } from "../support/cli.js";
import { startMlflowServer, type MlflowServer } from "../support/mlflow-server.js";
import { echoHeadersBody, startRefusingProxy, type RefusalPlan } from "../support/refusing-proxy.js";
import { temporaryDirectory } from "../workflows/power/fixtures.js";

// A gateway in front of the real MLflow server that echoes the request's credentials in its
// error bodies: none of them may reach stdout, stderr, the run's tags on the server (its SQLite
// file and artifacts) or the local store. And a run whose logging is refused still ends FAILED.

const TOKEN = "tok-Zq81xP0wL3rT5vN7";
const USERNAME = "alice-podtrain";
const PASSWORD = "pw-K9s2m4Q6e8";
const URL_USER = "bob-in-url";
const URL_PASSWORD = "pw-url-7Hc3Jd5";

let directory: string;
let dataFile: string;
let server: MlflowServer;

beforeAll(async () => {
  directory = await temporaryDirectory("podtrain-secrets-");
  dataFile = path.join(directory, "household_power_consumption.txt");
  await writeSyntheticPowerFile(dataFile, { days: 40, seed: 4 });
  server = await startMlflowServer();
});

afterAll(async () => {
  await server?.stop();
});

function train(trackingUri: string, runKey: string, env: Record<string, string> = {}, extra: string[] = []): Promise<CliResult> {
  return runTrain(["power", "--data-file", dataFile, "--tracking-uri", trackingUri, "--run-key", runKey, "--test-weeks", "1", "--validation-weeks", "1", "--log-format", "json", ...extra], {
    cwd: directory,
    env: { MLFLOW_HTTP_REQUEST_MAX_RETRIES: "1", ...env },
  });
}

/** Every form a credential travels in. */
function forms(...secrets: string[]): string[] {
  const pairs = secrets.length === 2 ? [Buffer.from(`${secrets[0]}:${secrets[1]}`).toString("base64")] : [];
  return [...secrets, ...pairs];
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

async function expectNowhere(secrets: string[], texts: string[], roots: string[]): Promise<void> {
  for (const secret of secrets) {
    for (const text of texts) expect(text.includes(secret), `"${secret}" leaked in:\n${text}`).toBe(false);
    for (const root of roots) {
      for (const file of await filesUnder(root)) {
        const bytes = await readFile(file);
        expect(bytes.includes(Buffer.from(secret)), `"${secret}" stored in ${file}`).toBe(false);
      }
    }
  }
}

async function runOf(store: TrackingStore, runKey: string) {
  const experimentId = await store.getOrCreateExperiment("power-forecast");
  const [run] = await store.findRunsByTag(experimentId, RUN_KEY_TAG, runKey);
  expect(run).toBeDefined();
  return store.getRun(run!.runId);
}

/** Refuses the log-batch that carries metrics (the training's own logging), echoing the headers. */
const refuseMetrics = (status: number): RefusalPlan => ({ url, headers, body }) =>
  url.includes("/runs/log-batch") && body.includes('"metrics":[{') ? { status, body: echoHeadersBody(headers, status === 401 ? "UNAUTHENTICATED" : "INVALID_PARAMETER_VALUE") } : undefined;

describe("credentials never leave the process", () => {
  const cases: Array<{ name: string; status: number; env: Record<string, string>; secrets: string[]; userInfo: string }> = [
    { name: "bearer token (400 echoing it)", status: 400, env: { MLFLOW_TRACKING_TOKEN: TOKEN }, secrets: [TOKEN], userInfo: "" },
    { name: "basic auth from the environment (401 echoing it)", status: 401, env: { MLFLOW_TRACKING_USERNAME: USERNAME, MLFLOW_TRACKING_PASSWORD: PASSWORD }, secrets: forms(USERNAME, PASSWORD), userInfo: "" },
    { name: "basic auth from the tracking URI's user info (400)", status: 400, env: {}, secrets: forms(URL_USER, URL_PASSWORD), userInfo: `${URL_USER}:${URL_PASSWORD}@` },
  ];
  for (const [index, testCase] of cases.entries()) {
    it(testCase.name, async () => {
      const proxy = await startRefusingProxy(server.uri, refuseMetrics(testCase.status));
      try {
        const uri = proxy.uri.replace("http://", `http://${testCase.userInfo}`);
        const runKey = `secret-${index}`;
        const result = await train(uri, runKey, testCase.env);
        expect(proxy.refused).toBeGreaterThan(0);
        expect(result.exitCode, result.stderr).toBe(EXIT_CODES.USAGE);
        const [line, ...more] = errorLines(result.stderr);
        expect(more).toEqual([]);
        expect(line).toMatch(new RegExp(`^train: error: MLflow logBatch \\(POST /api/2.0/mlflow/runs/log-batch\\) was refused with HTTP ${testCase.status}`));
        expect(line).toContain("[REDACTED]");
        const run = await runOf(new RestTrackingStore(server.uri), runKey);
        expect(run.info.status).toBe("FAILED");
        // The error tag landed (it is not a metrics batch), redacted.
        expect(run.tags["podtrain.error"]).toContain("[REDACTED]");
        await expectNowhere(testCase.secrets, [result.stdout, result.stderr, JSON.stringify(run)], [server.directory]);
      } finally {
        await proxy.close();
      }
    });
  }

  it("a data error carrying the token is redacted on stderr and, checked before the run exists, leaves no run", async () => {
    const root = path.join(directory, "mlruns");
    // A file whose first line is not the header: the error quotes that line, token included.
    const leaky = path.join(directory, "leaky-header.txt");
    await writeFile(leaky, `Authorization: Bearer ${TOKEN}\n16/12/2006;17:24:00;4.216;0.418;234.840;18.400;0.000;1.000;17.000\n`);
    const result = await runTrain(["power", "--data-file", leaky, "--tracking-uri", root, "--run-key", "local-secret"], { cwd: directory, env: { MLFLOW_TRACKING_TOKEN: TOKEN } });
    expect(result.exitCode).toBe(EXIT_CODES.DATA);
    expect(errorLines(result.stderr)).toEqual([expect.stringMatching(/leaky-header\.txt:1: header .*\[REDACTED\].* is not the household power header/)]);
    // The header is checked before a run is created: nothing is tracked at all.
    expect(existsSync(root)).toBe(false);
    await expectNowhere([TOKEN], [result.stdout, result.stderr], []);
  });
});

describe("a failing run always ends FAILED", () => {
  it("every log-batch refused, server otherwise up: the run is FAILED, not RUNNING", async () => {
    const proxy = await startRefusingProxy(server.uri, ({ url }) => (url.includes("/runs/log-batch") ? { status: 400, body: JSON.stringify({ error_code: "INVALID_PARAMETER_VALUE", message: "log-batch disabled" }) } : undefined));
    try {
      const result = await train(proxy.uri, "all-log-batch-refused");
      expect(result.exitCode).toBe(EXIT_CODES.USAGE);
      expect(errorLines(result.stderr)).toEqual([expect.stringContaining("train: error: MLflow logBatch (POST /api/2.0/mlflow/runs/log-batch) was refused with HTTP 400 INVALID_PARAMETER_VALUE: log-batch disabled")]);
      expect((await runOf(new RestTrackingStore(server.uri), "all-log-batch-refused")).info.status).toBe("FAILED");
    } finally {
      await proxy.close();
    }
  });

  it("server unreachable when the run fails: the line says the run is left RUNNING, a later attempt continues it", async () => {
    // log-batch refused and the status update answered 503 until the retries run out.
    const proxy = await startRefusingProxy(server.uri, ({ url }) =>
      url.includes("/runs/log-batch") ? { status: 400, body: "{}" } : url.includes("/runs/update") ? { status: 503, body: "down" } : undefined,
    );
    let runId: string;
    try {
      const result = await train(proxy.uri, "unreachable-at-failure", { PODTRAIN_LEASE_SECONDS: "1", MLFLOW_HTTP_REQUEST_MAX_RETRIES: "0" });
      expect(result.exitCode).toBe(EXIT_CODES.USAGE);
      const [line, ...more] = errorLines(result.stderr);
      expect(more).toEqual([]);
      const run = await runOf(new RestTrackingStore(server.uri), "unreachable-at-failure");
      runId = run.info.runId;
      expect(run.info.status).toBe("RUNNING");
      expect(line).toContain(`run ${runId} is left RUNNING on ${proxy.uri}: marking it FAILED failed too`);
    } finally {
      await proxy.close();
    }
    // The failed attempt's lease (1 s) runs out; then the next attempt takes the run over.
    await sleep(1_500);
    const later = await train(server.uri, "unreachable-at-failure", { PODTRAIN_LEASE_SECONDS: "1" });
    expect(later.exitCode, later.stderr).toBe(0);
    expect(JSON.parse(later.stdout)).toMatchObject({ run_id: runId, stage: "all", reused: true });
    expect((await new RestTrackingStore(server.uri).getRun(runId)).info.status).toBe("FINISHED");
  });
});

describe("a proxy page instead of the tracking server", () => {
  it("an HTML login page answered with 200 is 'unavailable' (69) with one line, not an internal error", async () => {
    const proxy = await startRefusingProxy(server.uri, () => ({ status: 200, body: `<html><body>Sign in (session for Bearer ${TOKEN})</body></html>` }));
    try {
      const result = await train(proxy.uri, "html-page", { MLFLOW_TRACKING_TOKEN: TOKEN });
      expectOneErrorLine(result, EXIT_CODES.UNAVAILABLE, /^train: error: MLflow searchExperiments at http:\/\/127\.0\.0\.1:\d+ answered HTTP 200 with a body that is not JSON \("<html><body>Sign in/);
      expect(result.stderr).not.toContain(TOKEN);
    } finally {
      await proxy.close();
    }
  });
});

function expectOneErrorLine(result: CliResult, exitCode: number, pattern: RegExp): void {
  expect(result.exitCode, result.stderr).toBe(exitCode);
  const lines = errorLines(result.stderr);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}
