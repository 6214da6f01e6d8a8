import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorLines, runTrain } from "../support/cli.js";
import { writeMnistFolder } from "../support/idx-fixtures.js";
import { startMlflowServer, type MlflowServer } from "../support/mlflow-server.js";
import { runPythonJson } from "../support/python.js";

// The DAGs run fit on a GPU pod and evaluate on a CPU pod of the same MLflow run. A real
// tracking server refuses to change a logged param, so what each stage ran on must not be a
// param every stage logs; and evaluate's own data read must not rewrite fit's lineage tags.
// Here the two stages differ in backend (native TensorFlow, then pure-JS cpu), as GPU and CPU
// pods differ in device and build.

interface RunView {
  status: string;
  params: Record<string, string>;
  tags: Record<string, string>;
}

function readRuns(uri: string): Promise<RunView[]> {
  return runPythonJson<RunView[]>(`
import json
from mlflow import MlflowClient
client = MlflowClient("${uri}")
experiment = client.get_experiment_by_name("mnist-cnn")
runs = client.search_runs([experiment.experiment_id]) if experiment else []
print(json.dumps([{"status": r.info.status, "params": r.data.params, "tags": r.data.tags} for r in runs]))`);
}

describe("device and build facts per stage against a real MLflow server", () => {
  let server: MlflowServer;
  let work: string;
  let dataDirectory: string;

  beforeAll(async () => {
    server = await startMlflowServer();
    work = await mkdtemp(path.join(os.tmpdir(), "podtrain-stage-facts-"));
    dataDirectory = path.join(work, "data");
    await mkdir(dataDirectory);
    await writeMnistFolder(dataDirectory, { train: 300, test: 100 });
  });
  afterAll(async () => {
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("a tensorflow fit then a cpu evaluate of one run: no param conflict, stage tags, lineage from fit", { timeout: 300_000 }, async () => {
    const stage = (name: string, backend: string, extra: string[] = []) =>
      runTrain(["mnist", "--stage", name, "--run-key", "stage-facts-1", "--backend", backend, "--data-dir", dataDirectory, "--epochs", "1", "--tracking-uri", server.uri, "--log-format", "json", ...extra], { cwd: work });

    const fit = await stage("fit", "tensorflow");
    expect(errorLines(fit.stderr)).toEqual([]);
    expect(fit.exitCode).toBe(0);
    // Evaluate reads fewer training images than fit did (its own read): fit's lineage must stay.
    const evaluate = await stage("evaluate", "cpu", ["--train-limit", "50"]);
    expect(errorLines(evaluate.stderr)).toEqual([]);
    expect(evaluate.exitCode).toBe(0);

    const runs = await readRuns(server.uri);
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect(run?.tags["podtrain.stages_done"]).toBe("evaluate,fit");
    // Params describe how the model was trained: fit's backend, never overwritten.
    expect(run?.params).toMatchObject({ resolved_backend: "tensorflow", resolved_device: "cpu", tensorflow_version: "2.21.0", tensorflow_build: "cpu" });
    expect(run?.tags).toMatchObject({
      "podtrain.fit.backend": "tensorflow",
      "podtrain.fit.device": "cpu",
      "podtrain.fit.tensorflow_version": "2.21.0",
      "podtrain.fit.tensorflow_build": "cpu",
      "podtrain.evaluate.backend": "cpu",
      "podtrain.evaluate.device": "cpu",
      "podtrain.evaluate.tensorflow_version": "none",
      "podtrain.evaluate.tensorflow_build": "none",
      "podtrain.evaluate.test_images": "100",
      "data.train_images": "300",
      "data.test_images": "100",
    });
    expect(run?.tags["podtrain.evaluate.data_version"]).toMatch(/^[0-9a-f]{64}$/);
    expect(run?.tags["data.version"]).toMatch(/^[0-9a-f]{64}$/);
  });
});
