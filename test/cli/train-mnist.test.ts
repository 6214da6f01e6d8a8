import { existsSync } from "node:fs";
import { mkdtemp, readFile, truncate, writeFile } from "node:fs/promises";
import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/core/errors.js";
import { errorLines, runTrain } from "../support/cli.js";
import { writeMnistFolder } from "../support/idx-fixtures.js";
import { REPOSITORY_ROOT, runPythonJson } from "../support/python.js";

interface SeenRun {
  status: string;
  params: Record<string, string>;
  history: number[][];
  artifacts: string[];
  tags: Record<string, string>;
}

async function readRuns(store: string): Promise<SeenRun[]> {
  return runPythonJson<SeenRun[]>(`
import json
from mlflow import MlflowClient
client = MlflowClient("file://${store}")
experiment = client.get_experiment_by_name("mnist-cnn")
runs = client.search_runs([experiment.experiment_id]) if experiment else []
print(json.dumps([{"status": run.info.status, "params": run.data.params, "tags": run.data.tags,
  "history": [[m.step, m.value] for m in client.get_metric_history(run.info.run_id, "val_accuracy")],
  "artifacts": sorted(set(f.path for f in client.list_artifacts(run.info.run_id, "model")))} for run in runs]))`,
    // MLflow 3.17 resolves the run's logged model through the default store, not the client's URI.
    { MLFLOW_TRACKING_URI: `file://${store}` },
  );
}

describe("train mnist (CLI)", () => {
  let workDirectory: string;
  let dataDirectory: string;
  beforeAll(async () => {
    workDirectory = await mkdtemp(path.join(os.tmpdir(), "podtrain-cli-"));
    dataDirectory = path.join(workDirectory, "data");
    await import("node:fs/promises").then(({ mkdir }) => mkdir(dataDirectory));
    await writeMnistFolder(dataDirectory, { train: 600, test: 200 });
  });

  it("trains on the real embedded MNIST subset and tracks a run MLflow can read", async () => {
    const store = path.join(workDirectory, "real-mlruns");
    const xcom = path.join(workDirectory, "xcom", "return.json");
    const result = await runTrain(["mnist", "--epochs", "2", "--train-limit", "2000", "--test-limit", "1000", "--tracking-uri", store, "--xcom", xcom, "--log-format", "json"]);
    expect(result.stderr).not.toMatch(/train: error/);
    expect(result.exitCode).toBe(0);
    // --log-format json: the summary on stdout is one JSON object.
    expect(JSON.parse(result.stdout)).toMatchObject({ run_id: expect.stringMatching(/^[0-9a-f]{32}$/), stage: "all", wall_seconds: expect.any(Number) });
    const [run] = await readRuns(store);
    expect(run?.status).toBe("FINISHED");
    expect(run?.params).toMatchObject({ epochs: "2", batch_size: "128", resolved_backend: "tensorflow", tensorflow_version: "2.21.0", tensorflow_build: "cpu" });
    expect(run?.history.map(([step]) => step)).toEqual([0, 1]);
    expect(run?.artifacts).toEqual(["model/MLmodel", "model/conda.yaml", "model/model.json", "model/model.onnx", "model/python_env.yaml", "model/requirements.txt", "model/weights.bin"]);
    expect(run?.tags["data.sha256.train-images-idx3-ubyte"]).toMatch(/^ba891046/);
    expect(run?.tags["podtrain.version"]).toBe("0.1.0");
    expect(run?.tags["podtrain.execution"]).toBe("graph");
    // Fit and evaluate in one process share one read of the data.
    expect(result.stderr.match(/"msg":"data and backend ready"/g)).toHaveLength(1);
    const returned = JSON.parse(await readFile(xcom, "utf8")) as { run_id: string; metrics: Record<string, number>; gate_passed: boolean };
    expect(returned.metrics.test_accuracy).toBeGreaterThan(0.8);
    // 2000 images cannot reach the spec's 0.985 threshold: gated, nothing registered.
    expect(returned.gate_passed).toBe(false);
  });

  it("continues the same run for the same run key instead of duplicating it", async () => {
    const store = path.join(workDirectory, "key-mlruns");
    const args = ["mnist", "--data-dir", dataDirectory, "--epochs", "1", "--tracking-uri", store, "--run-key", "dag/run-1", "--no-register"];
    const first = await runTrain(args);
    const second = await runTrain(args);
    expect([first.exitCode, second.exitCode]).toEqual([0, 0]);
    expect(second.stdout).toMatch(/continued an existing run/);
    expect(first.stdout.split(" ")[1]).toBe(second.stdout.split(" ")[1]);
    expect(await readRuns(store)).toHaveLength(1);
  });

  it("fails a truncated IDX file with one actionable line before any run exists", async () => {
    const broken = path.join(workDirectory, "broken");
    await import("node:fs/promises").then(({ mkdir }) => mkdir(broken));
    await writeMnistFolder(broken, { train: 50, test: 20 });
    await truncate(path.join(broken, "train-images-idx3-ubyte"), 5000);
    const store = path.join(workDirectory, "broken-mlruns");
    const result = await runTrain(["mnist", "--data-dir", broken, "--tracking-uri", store]);
    expect(result.exitCode).toBe(EXIT_CODES.DATA);
    expect(errorLines(result.stderr)).toEqual([expect.stringMatching(/^train: error: .*train-images-idx3-ubyte: truncated: header says 50×28×28 = 39200 values, file holds 4984; download the file again$/)]);
    // Checked before the run is created: no FAILED run, not even the store's folder.
    expect(existsSync(store)).toBe(false);
  });

  it("fails a wrong magic number the same way", async () => {
    const wrong = path.join(workDirectory, "wrong");
    await import("node:fs/promises").then(({ mkdir }) => mkdir(wrong));
    await writeMnistFolder(wrong, { train: 50, test: 20 });
    // A labels file where an images file belongs.
    await writeFile(path.join(wrong, "train-images-idx3-ubyte"), await readFile(path.join(wrong, "train-labels-idx1-ubyte")));
    const store = path.join(workDirectory, "wrong-mlruns");
    const result = await runTrain(["mnist", "--data-dir", wrong, "--tracking-uri", store]);
    expect(result.exitCode).toBe(EXIT_CODES.DATA);
    expect(errorLines(result.stderr)).toEqual([expect.stringMatching(/wrong magic number 0x00000801, expected 0x00000803/)]);
    expect(existsSync(store)).toBe(false);
  });

  it("stops at a batch boundary on SIGTERM, exits 143 and marks the run KILLED", async () => {
    const store = path.join(workDirectory, "sigterm-mlruns");
    const child = spawn(process.execPath, [path.join(REPOSITORY_ROOT, "bin/train.js"), "mnist", "--data-dir", dataDirectory, "--epochs", "50", "--tracking-uri", store, "--log-format", "json"], {
      env: { ...process.env, MLFLOW_TRACKING_URI: "" },
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      const before = stderr.includes("epoch 1/50 done");
      stderr += chunk.toString();
      if (!before && stderr.includes("epoch 1/50 done")) child.kill("SIGTERM");
    });
    const exitCode = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(exitCode).toBe(EXIT_CODES.TERMINATED);
    expect(errorLines(stderr)).toEqual(["train: error: interrupted by SIGTERM"]);
    const runs = await readRuns(store);
    expect(runs.map((run) => run.status)).toEqual(["KILLED"]);
    expect(runs[0]?.history.length).toBeLessThan(50);
  });

  it("rejects an unknown workflow, a bad flag value and an invalid spec before any run starts", async () => {
    const store = path.join(workDirectory, "usage-mlruns");
    const unknown = await runTrain(["mnst", "--tracking-uri", store]);
    expect(unknown.exitCode).toBe(EXIT_CODES.USAGE);
    expect(unknown.stderr).toMatch(/unknown command 'mnst'/);
    const badFlag = await runTrain(["mnist", "--epochs", "two", "--tracking-uri", store]);
    expect(badFlag.exitCode).toBe(EXIT_CODES.USAGE);
    expect(badFlag.stderr).toMatch(/option '--epochs <number>' argument 'two' is invalid\. expected a number\./);
    const fractional = await runTrain(["mnist", "--epochs", "0", "--tracking-uri", store]);
    expect(errorLines(fractional.stderr)).toEqual([expect.stringMatching(/^train: error: --epochs: Too small/)]);
    const specFile = path.join(workDirectory, "bad-spec.yaml");
    const original = await readFile(path.join(import.meta.dirname, "../../models/mnist_cnn.yaml"), "utf8");
    await writeFile(specFile, original.replace("queue: gpu_queue", "queue: 7"));
    const badSpec = await runTrain(["mnist", "--spec", specFile, "--tracking-uri", store]);
    expect(badSpec.exitCode).toBe(EXIT_CODES.CONFIG);
    expect(errorLines(badSpec.stderr)).toEqual([expect.stringMatching(/bad-spec\.yaml:\d+: orchestration\.queue: Invalid input: expected string, received number$/)]);
    expect(await readRuns(store)).toEqual([]);
  });

});
