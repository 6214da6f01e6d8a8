import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDags } from "../../src/dags/generate.js";
import { freePort, startMlflowServer, type MlflowServer } from "../support/mlflow-server.js";
import { runPythonJson } from "../support/python.js";
import { AIRFLOW_PYTHON, airflowEnvironment, ensureAirflowVenv, PYTHON_TESTS, REPOSITORY, run, scratchRepository } from "./helpers.js";

// The approval tail for real on the local target: `airflow dags test` trains MNIST with the built
// CLI against a real MLflow server, `approve` waits for a person, and the person answers through
// Airflow's own REST API (what the UI's Required actions page calls), as a named user of the
// simple auth manager. Then promote moves the champion with that user in the audit tags; a
// second run is rejected: reject tags the version and clears its candidate alias, nothing is
// promoted. A third run gets no answer: the scheduler's own timeout sweep (which `dags test`
// does not run, so the test runs it beside) fails approve, the failure alert reaches a loopback
// webhook, and the champion stays.

const AIRFLOW = path.join(REPOSITORY, ".venv/airflow/bin/airflow");
const REVIEWER = { username: "reviewer", password: "a-test-password-1" };
// Short enough for the third run to time out quickly, long enough for the test to answer the first two.
const APPROVAL_TIMEOUT = "45s";

/** A loopback Slack-style webhook recording what is posted to it. */
async function startWebhook(): Promise<{ url: string; messages: Array<{ text?: string; task_id?: string | null }>; close: () => Promise<void> }> {
  const messages: Array<{ text?: string; task_id?: string | null }> = [];
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      messages.push(JSON.parse(body) as { text?: string });
      response.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/services/T000/B000/XXX`, messages, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(args: string[], environment: NodeJS.ProcessEnv, cwd: string): Running {
  // Own process group: the api-server forks workers; stopping the group stops them all.
  const child = spawn(AIRFLOW, args, { env: environment, cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { child, output: () => output, exited };
}

async function stop(running: Running | undefined): Promise<void> {
  if (!running?.child.pid || running.child.exitCode !== null) return;
  process.kill(-running.child.pid, "SIGTERM");
  const done = await Promise.race([running.exited.then(() => true), sleep(10_000).then(() => false)]);
  if (!done) process.kill(-running.child.pid, "SIGKILL");
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, limitMs: number): Promise<T> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(1_000);
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface HitlDetail {
  task_instance: { task_id: string; dag_run_id: string; logical_date: string | null };
  subject: string;
  body: string;
  response_received: boolean;
}

describe("approve -> promote through Airflow's REST API (local target, real MLflow server)", () => {
  let server: MlflowServer;
  let api: Running | undefined;
  let environment: NodeJS.ProcessEnv;
  let root: string;
  let apiUrl: string;
  let token: string;
  let webhook: Awaited<ReturnType<typeof startWebhook>>;

  beforeAll(async () => {
    await ensureAirflowVenv();
    server = await startMlflowServer();
    webhook = await startWebhook();
    root = await scratchRepository();
    for (const folder of ["bin", "dist"]) await symlink(path.join(REPOSITORY, folder), path.join(root, folder));
    // Small real MNIST, a threshold it reaches; no champion comparison, so the second run also registers.
    const spec = (await readFile(path.join(REPOSITORY, "models/mnist_cnn.yaml"), "utf8"))
      .replace("  epochs: 12\n", "  epochs: 1\n  train_limit: 2000\n  test_limit: 1000\n")
      .replace("threshold: 0.985", "threshold: 0.5")
      .replace("compare_to_champion: true", "compare_to_champion: false")
      .replace("approval_timeout: 3d", `approval_timeout: ${APPROVAL_TIMEOUT}`);
    expect(spec).toContain(`approval_timeout: ${APPROVAL_TIMEOUT}`);
    await writeFile(path.join(root, "models/mnist_cnn.yaml"), spec);
    const { out } = await generateDags({ root, target: "local" });
    const port = await freePort();
    apiUrl = `http://127.0.0.1:${port}`;
    const passwords = path.join(root, "passwords.json");
    await writeFile(passwords, JSON.stringify({ [REVIEWER.username]: REVIEWER.password }));
    environment = await airflowEnvironment({
      AIRFLOW__CORE__DAGS_FOLDER: out,
      PYTHONPATH: path.join(REPOSITORY, "dags"),
      MLFLOW_TRACKING_URI: server.uri,
      // No alert connection in this Airflow: the alerts fall back to this variable.
      PODTRAIN_ALERT_WEBHOOK_URL: webhook.url,
      AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS: `${REVIEWER.username}:admin`,
      AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE: passwords,
      AIRFLOW__API__HOST: "127.0.0.1",
      AIRFLOW__API__PORT: String(port),
    });
    await run(AIRFLOW, ["db", "migrate"], { env: environment, maxBuffer: 64 << 20 });
    await run(AIRFLOW, ["pools", "import", path.join(REPOSITORY, "dags/pools.json")], { env: environment, maxBuffer: 64 << 20 });
    api = start(["api-server", "--host", "127.0.0.1", "--port", String(port)], environment, root);
    await until("the api-server", async () => ((await fetch(`${apiUrl}/api/v2/monitor/health`)).ok ? true : undefined), 180_000);
    const login = await fetch(`${apiUrl}/auth/token`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(REVIEWER) });
    token = ((await login.json()) as { access_token: string }).access_token;
  }, 400_000);

  afterAll(async () => {
    await stop(api);
    await server?.stop();
    await webhook?.close();
  });

  const call = (method: string, route: string, body?: unknown) =>
    fetch(`${apiUrl}/api/v2${route}`, { method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, ...(body ? { body: JSON.stringify(body) } : {}) });

  /**
   * Runs the DAG for one logical date and answers its approval the way a person would, or, with
   * no choice, leaves it unanswered while the scheduler's timeout sweep runs.
   */
  async function runAndAnswer(logicalDate: string, answer?: { choice: "Approve" | "Reject"; reason: string }) {
    const dagTest = start(["dags", "test", "mnist_cnn_training", logicalDate], environment, root);
    let sweep: Running | undefined;
    try {
      const detail = await until(
        "approve to wait for input",
        async () => {
          const response = await call("GET", "/dags/mnist_cnn_training/dagRuns/~/hitlDetails");
          const details = ((await response.json()) as { hitl_details: HitlDetail[] }).hitl_details;
          // `dags test` names its run after the time it started; the logical date is the one asked for.
          return details.find((entry) => entry.task_instance.task_id === "approve" && !entry.response_received && (entry.task_instance.logical_date ?? "").startsWith(logicalDate));
        },
        600_000,
      );
      const runId = encodeURIComponent(detail.task_instance.dag_run_id);
      if (answer) {
        const response = await call("PATCH", `/dags/mnist_cnn_training/dagRuns/${runId}/taskInstances/approve/-1/hitlDetails`, { chosen_options: [answer.choice], params_input: { reason: answer.reason } });
        expect(response.status, await response.clone().text()).toBe(200);
      } else {
        sweep = startPython([path.join(PYTHON_TESTS, "sweep_approval_timeouts.py")]);
      }
      const exitCode = await Promise.race([dagTest.exited, sleep(300_000).then(() => "timeout")]);
      // The task errors (train's one error line, Python exceptions) and the end of the log.
      const diagnostics = () => [...dagTest.output().split("\n").filter((line) => /train: error|Error|Exception|Traceback/.test(line)).slice(-20), dagTest.output().slice(-1500)].join("\n");
      // A timed-out approval fails the run; `dags test` still exits once the run is over.
      if (answer) expect(exitCode, diagnostics()).toBe(0);
      else expect(exitCode, diagnostics()).not.toBe("timeout");
      const states = await call("GET", `/dags/mnist_cnn_training/dagRuns/${runId}/taskInstances`);
      const tasks = ((await states.json()) as { task_instances: Array<{ task_id: string; state: string }> }).task_instances;
      return { detail, states: Object.fromEntries(tasks.map((task) => [task.task_id, task.state])) };
    } finally {
      await stop(sweep);
      await stop(dagTest);
    }
  }

  function startPython(args: string[]): Running {
    const child = spawn(AIRFLOW_PYTHON, args, { env: environment, cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    return { child, output: () => output, exited: new Promise((resolve) => child.on("close", resolve)) };
  }

  const readRegistry = () =>
    runPythonJson<{ champion: string | null; candidate: string | null; versions: Array<{ version: string; tags: Record<string, string> }> }>(`
import json
from mlflow import MlflowClient
client = MlflowClient("${server.uri}")
def alias(name):
    try:
        return client.get_model_version_by_alias("mnist_cnn", name).version
    except Exception:
        return None
champion, candidate = alias("champion"), alias("candidate")
versions = sorted(({"version": v.version, "tags": v.tags} for v in client.search_model_versions("name='mnist_cnn'")), key=lambda v: int(v["version"]))
print(json.dumps({"champion": champion, "candidate": candidate, "versions": versions}))`);

  it("an approval promotes the candidate with the reviewer and reason in the audit tags; a rejection tags the version and promotes nothing; a timeout alerts and promotes nothing", { timeout: 1_800_000 }, async () => {
    const approved = await runAndAnswer("2026-01-12", { choice: "Approve", reason: "accuracy is good enough" });
    expect(approved.detail.subject).toBe("Promote mnist_cnn version 1 to champion?");
    expect(approved.detail.body).toMatch(/\*\*Gate\*\* `test_accuracy` = 0\.\d+: test_accuracy=/);
    expect(approved.states).toMatchObject({ register: "success", has_candidate: "success", approve: "success", promote: "success", reject: "skipped" });
    let registry = await readRegistry();
    expect(registry.champion).toBe("1");
    expect(registry.candidate).toBe("1"); // promote leaves the candidate alias; the next register moves it
    const audit = JSON.parse(registry.versions[0]?.tags["podtrain.promotion.latest"] ?? "{}") as Record<string, unknown>;
    expect(audit).toMatchObject({ version: "1", alias: "champion", approved_by: REVIEWER.username, reason: "accuracy is good enough", previous_version: null });
    expect(audit.airflow).toMatchObject({ dag_id: "mnist_cnn_training", task_id: "promote" });

    const rejected = await runAndAnswer("2026-01-19", { choice: "Reject", reason: "not this week" });
    expect(rejected.detail.subject).toBe("Promote mnist_cnn version 2 to champion?");
    expect(rejected.states).toMatchObject({ register: "success", approve: "success", promote: "skipped", reject: "success" });
    registry = await readRegistry();
    expect(registry.champion).toBe("1");
    expect(registry.versions.map((version) => version.version)).toEqual(["1", "2"]);
    const second = registry.versions[1];
    expect(second?.tags["podtrain.promotion.latest"]).toBeUndefined();
    expect(second?.tags).toMatchObject({ "podtrain.rejected_by": REVIEWER.username, "podtrain.rejection_reason": "not this week" });
    expect(Date.parse(second?.tags["podtrain.rejected_at"] ?? "")).toBeGreaterThan(Date.now() - 3_600_000);
    expect(JSON.parse(second?.tags["podtrain.rejection.airflow"] ?? "{}")).toMatchObject({ dag_id: "mnist_cnn_training", task_id: "reject" });
    // registry.on_reject defaults to clear_candidate: the rejected version is no longer the candidate.
    expect(registry.candidate).toBeNull();

    const alertsBefore = webhook.messages.length;
    const timedOut = await runAndAnswer("2026-01-26");
    expect(timedOut.detail.subject).toBe("Promote mnist_cnn version 3 to champion?");
    expect(timedOut.states).toMatchObject({ register: "success", has_candidate: "success", approve: "failed", promote: "upstream_failed", reject: "upstream_failed" });
    registry = await readRegistry();
    expect(registry.champion).toBe("1");
    // Nobody decided: the version stays the candidate, neither promoted nor rejected.
    expect(registry.candidate).toBe("3");
    expect(registry.versions[2]?.tags["podtrain.rejected_by"]).toBeUndefined();
    const alerts = webhook.messages.slice(alertsBefore).map((message) => message.text ?? "");
    expect(alerts).toContainEqual(expect.stringMatching(/^:hourglass: mnist_cnn_training\.approve: no decision within the approval timeout \(run .+\); nothing promoted, the champion is unchanged$/));

    // The closing note's evidence: the registry as the Python MLflow client reads it.
    if (process.env.PODTRAIN_APPROVAL_REPORT) {
      await mkdir(path.dirname(process.env.PODTRAIN_APPROVAL_REPORT), { recursive: true });
      await writeFile(process.env.PODTRAIN_APPROVAL_REPORT, `${JSON.stringify({ registry, alerts }, null, 2)}\n`);
    }
  });
});
