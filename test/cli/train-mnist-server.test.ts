import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/core/errors.js";
import { errorLines, runTrain } from "../support/cli.js";
import { startFlakyProxy } from "../support/flaky-proxy.js";
import { writeMnistFolder } from "../support/idx-fixtures.js";
import { freePort, startMlflowServer, type MlflowServer } from "../support/mlflow-server.js";
import { REPOSITORY_ROOT, runPythonJson } from "../support/python.js";

interface ServerView {
  runs: Array<{ id: string; status: string; params: Record<string, string>; history: number[]; artifacts: string[]; loggedModel: string | null }>;
  versions: Array<{ version: string; tags: Record<string, string>; source: string; runId: string }>;
  candidate: string | null;
  champion: string | null;
  loggedModelStatus: string | null;
}

function readServer(uri: string): Promise<ServerView> {
  return runPythonJson<ServerView>(`
import json
from mlflow import MlflowClient
client = MlflowClient("${uri}")
experiment = client.get_experiment_by_name("mnist-cnn")
runs = client.search_runs([experiment.experiment_id]) if experiment else []
def alias(name):
    try:
        return client.get_model_version_by_alias("mnist_cnn", name).version
    except Exception:
        return None
versions = client.search_model_versions("name='mnist_cnn'") if runs else []
logged = runs[0].data.tags.get("podtrain.logged_model_id") if runs else None
print(json.dumps({
  "runs": [{"id": r.info.run_id, "status": r.info.status, "params": r.data.params,
            "history": [m.step for m in client.get_metric_history(r.info.run_id, "train_loss")],
            # MLflow 3 lists the run's model/ files and those of the logged model linked to the run together.
            "artifacts": sorted(set(f.path for f in client.list_artifacts(r.info.run_id, "model"))),
            "loggedModel": r.data.tags.get("podtrain.logged_model_id")} for r in runs],
  "versions": sorted([{"version": v.version, "tags": v.tags, "source": v.source, "runId": v.run_id} for v in versions], key=lambda v: v["version"]),
  "candidate": alias("candidate"), "champion": alias("champion"),
  "loggedModelStatus": str(client.get_logged_model(logged).status) if logged else None}))`,
    // MLflow 3.17's get_logged_model uses the default store, not the client's URI.
    { MLFLOW_TRACKING_URI: uri },
  );
}

describe("train mnist against a real MLflow server", () => {
  let server: MlflowServer;
  let work: string;
  let dataDirectory: string;
  let specFile: string;

  beforeAll(async () => {
    server = await startMlflowServer();
    work = await mkdtemp(path.join(os.tmpdir(), "podtrain-server-cli-"));
    dataDirectory = path.join(work, "data");
    await mkdir(dataDirectory);
    await writeMnistFolder(dataDirectory, { train: 600, test: 200 });
    // The synthetic digits are easy; a threshold they reach exercises the registration path.
    specFile = path.join(work, "mnist_cnn.yaml");
    const original = await readFile(path.join(REPOSITORY_ROOT, "models/mnist_cnn.yaml"), "utf8");
    await writeFile(specFile, original.replace("threshold: 0.985", "threshold: 0.5"));
  });
  afterAll(async () => server?.stop());

  const train = (args: string[], env: Record<string, string> = {}) =>
    runTrain(["mnist", "--spec", specFile, "--data-dir", dataDirectory, "--epochs", "2", "--log-format", "json", ...args], { cwd: work, env });

  it("tracks the run, logs the model, registers a candidate with lineage, and is idempotent per run key", async () => {
    const xcom = path.join(work, "xcom.json");
    const environment = { AIRFLOW_CTX_DAG_ID: "mnist_cnn_training", AIRFLOW_CTX_DAG_RUN_ID: "manual__1", AIRFLOW_CTX_TASK_ID: "fit" };
    const first = await train(["--tracking-uri", server.uri, "--xcom", xcom], environment);
    expect(errorLines(first.stderr)).toEqual([]);
    expect(first.exitCode).toBe(0);
    const second = await train(["--tracking-uri", server.uri], environment);
    expect(second.exitCode).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ reused: true });

    const view = await readServer(server.uri);
    expect(view.runs).toHaveLength(1);
    const [run] = view.runs;
    expect(run).toMatchObject({ status: "FINISHED", history: [0, 1], artifacts: ["model/MLmodel", "model/conda.yaml", "model/model.json", "model/model.onnx", "model/python_env.yaml", "model/requirements.txt", "model/weights.bin"] });
    expect(run?.params).toMatchObject({ epochs: "2", resolved_backend: "tensorflow" });
    expect(view.loggedModelStatus).toMatch(/READY/);
    expect(view.versions).toHaveLength(1);
    expect(view.versions[0]).toMatchObject({ version: "1", runId: run?.id, source: `models:/${run?.loggedModel}` });
    expect(view.versions[0]?.tags).toMatchObject({ "airflow.dag_id": "mnist_cnn_training", "airflow.run_id": "manual__1", "podtrain.gate.metric": "test_accuracy" });
    expect(view.versions[0]?.tags["data.version"]).toMatch(/^[0-9a-f]{64}$/);
    expect(view.versions[0]?.tags["mlflow.source.git.commit"]).toMatch(/^[0-9a-f]{40}$/);
    expect([view.candidate, view.champion]).toEqual(["1", null]);
    expect(JSON.parse(await readFile(xcom, "utf8"))).toMatchObject({ run_id: run?.id, registered_version: "1", gate_passed: true });

    const promoted = await runTrain(["promote", "mnist_cnn", "1", "--reason", "first approved model", "--approver", "ci", "--tracking-uri", server.uri]);
    expect(promoted.stdout).toBe("mnist_cnn version 1 is now champion; approved by ci: first approved model\n");
    expect((await readServer(server.uri)).champion).toBe("1");
  });

  it("fails fast with one line when the server is down, leaving nothing behind", async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const result = await train(["--tracking-uri", nowhere]);
    expect(result.exitCode).toBe(EXIT_CODES.UNAVAILABLE);
    expect(errorLines(result.stderr)).toEqual([`train: error: cannot reach the MLflow tracking server at ${nowhere} (ECONNREFUSED): start it or drop --tracking-uri to use ./mlruns`]);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("retries through injected 503s and finishes one run", async () => {
    const proxy = await startFlakyProxy(server.uri, (index) => (index % 4 === 1 ? "fail-503" : "forward"));
    try {
      const result = await train(["--tracking-uri", proxy.uri, "--run-key", "flaky-1", "--no-register"]);
      expect(errorLines(result.stderr)).toEqual([]);
      expect(result.exitCode).toBe(0);
      expect(proxy.log.filter((entry) => entry.action === "fail-503").length).toBeGreaterThan(3);
    } finally {
      await proxy.close();
    }
  });

  it("completes a run while the server restarts in the middle, with the default retry policy", async () => {
    const child = spawn(process.execPath, [path.join(REPOSITORY_ROOT, "bin/train.js"), "mnist", "--spec", specFile, "--data-dir", dataDirectory, "--epochs", "6", "--tracking-uri", server.uri, "--run-key", "restart-1", "--no-register", "--log-format", "json"], {
      cwd: work,
      env: { ...process.env, MLFLOW_HTTP_REQUEST_MAX_RETRIES: "", MLFLOW_TRACKING_URI: "" },
    });
    let stderr = "";
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const restarted = new Promise<void>((resolve, reject) => {
      child.stderr.on("data", (chunk: Buffer) => {
        const already = stderr.includes("epoch 1/6 done");
        stderr += chunk.toString();
        if (!already && stderr.includes("epoch 1/6 done")) server.restart().then(resolve, reject);
      });
    });
    const exitCode = await new Promise<number | null>((resolve) => child.on("close", resolve));
    await restarted;
    expect(errorLines(stderr)).toEqual([]);
    expect(exitCode).toBe(0);
    const view = await readServer(server.uri);
    const run = view.runs.find((candidate) => stdout.includes(candidate.id));
    expect(run).toMatchObject({ status: "FINISHED", history: [0, 1, 2, 3, 4, 5] });
  });
});
