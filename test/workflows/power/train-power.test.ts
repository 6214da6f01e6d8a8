import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { writeSyntheticPowerFile } from "../../../src/data/power/synthetic-file.js";
import { EXIT_CODES } from "../../../src/core/errors.js";
import { errorLines, runTrain } from "../../support/cli.js";
import { REPOSITORY_ROOT, runPythonJson } from "../../support/python.js";
import { runTrainWithSignals } from "../../support/signals.js";
import { temporaryDirectory } from "./fixtures.js";

interface SeenRun {
  status: string;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  validationSteps: number;
  artifacts: string[];
  flavors: Record<string, Record<string, unknown>>;
  inputs: string[];
  parity: { rows: number; max_difference: number; nan_features: number };
}

/** Reads the run with the real MLflow, then loads the logged model with mlflow.pyfunc and predicts the CSV's test rows. */
function inspectRun(store: string, predictions: string): Promise<SeenRun[]> {
  return runPythonJson<SeenRun[]>(`
import json, numpy as np, pandas as pd, mlflow.pyfunc, yaml, os
from mlflow import MlflowClient
client = MlflowClient("file://${store}")
experiment = client.get_experiment_by_name("power-forecast")
out = []
for run in client.search_runs([experiment.experiment_id]):
    model_dir = client.download_artifacts(run.info.run_id, "model")
    model = mlflow.pyfunc.load_model(model_dir)
    columns = model.metadata.get_input_schema().input_names()
    frame = pd.read_csv("${predictions}", float_precision="round_trip")
    predicted = np.asarray(model.predict(frame[columns]))  # as read: calendar columns are int64
    flavors = yaml.safe_load(open(os.path.join(model_dir, "MLmodel")))["flavors"]
    out.append({"status": run.info.status, "metrics": run.data.metrics, "tags": run.data.tags,
      "validationSteps": len(client.get_metric_history(run.info.run_id, "validation_rmse")),
      "artifacts": sorted(set(f.path for f in client.list_artifacts(run.info.run_id, "model"))),
      "flavors": flavors, "inputs": columns,
      "parity": {"rows": len(frame), "max_difference": float(np.max(np.abs(predicted - frame["prediction"].to_numpy()))),
                 "nan_features": int(frame[columns].isna().sum().sum())}})
print(json.dumps(out))`,
    // MLflow 3.17 resolves the run's logged model through the default store, not the client's URI.
    { MLFLOW_TRACKING_URI: `file://${store}` },
  );
}

describe("train power (CLI, end to end)", () => {
  let directory: string;
  let dataFile: string;
  beforeAll(async () => {
    directory = await temporaryDirectory();
    dataFile = path.join(directory, "household_power_consumption.txt");
    // Seed 2 has an outage in the test weeks, so the parity check covers missing inputs too.
    await writeSyntheticPowerFile(dataFile, { days: 365, seed: 2 });
  });

  it("trains on a synthetic year, beats the seasonal-naive baselines, and logs a model Python MLflow loads and predicts identically", async () => {
    const store = path.join(directory, "mlruns");
    const predictions = path.join(directory, "test-predictions.csv");
    const xcom = path.join(directory, "xcom.json");
    const started = performance.now();
    const result = await runTrain(["power", "--data-file", dataFile, "--tracking-uri", store, "--predictions-file", predictions, "--xcom", xcom, "--log-format", "json"]);
    const seconds = (performance.now() - started) / 1000;
    expect(errorLines(result.stderr)).toEqual([]);
    expect(result.exitCode).toBe(0);
    const [run] = await inspectRun(store, predictions);
    expect(run?.status).toBe("FINISHED");
    const metrics = run!.metrics;
    expect(metrics.test_skill_vs_seasonal_naive).toBeGreaterThan(0);
    expect(metrics.test_rmse).toBeLessThan(Math.min(metrics.test_naive_24h_rmse!, metrics.test_naive_168h_rmse!));
    expect(metrics.test_rows).toBeLessThanOrEqual(4 * 168); // the last 4 weeks, less hours whose target is missing
    expect(metrics.data_rows).toBe(365 * 1440);
    expect(metrics.data_missing_global_active_power).toBeGreaterThan(0);
    expect(run!.validationSteps).toBe(metrics.iterations_trained);
    expect(run!.tags["data.version"]).toMatch(/^[0-9a-f]{64}$/);
    expect(run!.tags["data.first_timestamp"]).toBe("2006-12-16 00:00");
    expect(run!.artifacts).toEqual(["model/MLmodel", "model/conda.yaml", "model/model.lgb", "model/python_env.yaml", "model/requirements.txt"]);
    expect(run!.flavors.lightgbm).toMatchObject({ data: "model.lgb", lgb_version: "4.6.0", model_class: "lightgbm.basic.Booster", code: null });
    expect(run!.flavors.python_function).toMatchObject({ loader_module: "mlflow.lightgbm", data: "model.lgb" });
    expect(run!.inputs[0]).toBe("global_active_power_lag_1h");
    expect(run!.inputs).toContain("hour");
    // The same numbers from Python's LightGBM (via MLflow) as from our WebAssembly LightGBM.
    expect(run!.parity.rows).toBe(metrics.test_rows);
    expect(run!.parity.max_difference).toBeLessThan(1e-9);
    expect(run!.parity.nan_features).toBeGreaterThan(0);
    const summary = JSON.parse(await readFile(xcom, "utf8")) as { gate_passed: boolean };
    expect(typeof summary.gate_passed).toBe("boolean");
    process.stdout.write(`train power on a synthetic year: ${seconds.toFixed(1)} s; test RMSE ${metrics.test_rmse!.toFixed(4)} vs naive 24h ${metrics.test_naive_24h_rmse!.toFixed(4)} / 168h ${metrics.test_naive_168h_rmse!.toFixed(4)}; skill ${metrics.test_skill_vs_seasonal_naive!.toFixed(3)}\n`);
  });

  it("runs as separate DAG steps: fit, then evaluate from the logged model in a new process", async () => {
    const store = path.join(directory, "staged-mlruns");
    const common = ["power", "--data-file", dataFile, "--tracking-uri", store, "--run-key", "power_lgbm_training/manual-1"];
    const fit = await runTrain([...common, "--stage", "fit"]);
    expect(fit.exitCode).toBe(0);
    expect(fit.stdout).not.toMatch(/test_skill/);
    const evaluate = await runTrain([...common, "--stage", "evaluate"]);
    expect(errorLines(evaluate.stderr)).toEqual([]);
    expect(evaluate.stdout).toMatch(/continued an existing run/);
    expect(evaluate.stdout).toMatch(/test_skill_vs_seasonal_naive\s+0\.\d+/);
  });

  it("stops boosting on SIGTERM, exits 143 and marks the run KILLED with no model registered", async () => {
    const store = path.join(directory, "sigterm-mlruns");
    // Far more rounds than the test waits for, and no early stop: only the signal can end boosting.
    const child = spawn(process.execPath, [path.join(REPOSITORY_ROOT, "bin/train.js"), "power", "--data-file", dataFile, "--tracking-uri", store,
      "--num-iterations", "1000000", "--early-stopping-rounds", "1000000", "--log-format", "json"], { env: { ...process.env, MLFLOW_TRACKING_URI: "" } });
    let stderr = "";
    let killed = false;
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!killed && stderr.includes("hourly features and time split ready")) {
        killed = true;
        setTimeout(() => child.kill("SIGTERM"), 1500);
      }
    });
    const started = Date.now();
    const exitCode = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(exitCode).toBe(EXIT_CODES.TERMINATED);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(errorLines(stderr)).toEqual(["train: error: interrupted by SIGTERM"]);
    const seen = await runPythonJson<{ statuses: string[]; models: number }>(`
import json
from mlflow import MlflowClient
client = MlflowClient("file://${store}")
runs = [run for experiment in client.search_experiments() for run in client.search_runs([experiment.experiment_id])]
print(json.dumps({"statuses": [run.info.status for run in runs], "models": len(client.search_registered_models())}))`);
    expect(seen).toEqual({ statuses: ["KILLED"], models: 0 });
  }, 120_000);

  it("SIGTERM right after evaluation: nothing is registered and candidate does not move (the same run without a signal registers)", async () => {
    // A gate every run passes: only the signal can keep the version out of the registry.
    const spec = path.join(directory, "power_lgbm.yaml");
    await writeFile(spec, (await readFile(path.join(REPOSITORY_ROOT, "models/power_lgbm.yaml"), "utf8")).replace("threshold: 0.05", "threshold: -1000"));
    const registered = async (store: string) => runPythonJson<{ statuses: string[]; versions: number }>(`
import json
from mlflow import MlflowClient
client = MlflowClient("file://${store}")
runs = [run for experiment in client.search_experiments() for run in client.search_runs([experiment.experiment_id])]
print(json.dumps({"statuses": [run.info.status for run in runs], "versions": len(client.search_model_versions("name='power_lgbm'")) if client.search_registered_models() else 0}))`);
    const args = (store: string) => ["power", "--spec", spec, "--data-file", dataFile, "--tracking-uri", store, "--log-format", "json"];
    const control = path.join(directory, "after-evaluation-control");
    expect((await runTrainWithSignals(args(control))).exitCode).toBe(0);
    expect(await registered(control)).toEqual({ statuses: ["FINISHED"], versions: 1 });
    const store = path.join(directory, "after-evaluation-sigterm");
    const stopped = await runTrainWithSignals(args(store), { after: /"msg":"evaluated on the held-out weeks"/, signals: ["SIGTERM"] });
    expect(stopped.exitCode).toBe(EXIT_CODES.TERMINATED);
    expect(errorLines(stopped.stderr)).toEqual(["train: error: interrupted by SIGTERM"]);
    expect(await registered(store)).toEqual({ statuses: ["KILLED"], versions: 0 });
  }, 240_000);

  it("fails clearly without data, and with a corrupt file names file and line", async () => {
    const store = path.join(directory, "failing-mlruns");
    const none = await runTrain(["power", "--tracking-uri", store]);
    expect(none.exitCode).toBe(EXIT_CODES.USAGE);
    expect(errorLines(none.stderr)).toEqual([expect.stringMatching(/no household power data given: pass --data-file .*train power generate --out power\.txt/)]);
    const corrupt = path.join(directory, "corrupt.txt");
    await import("node:fs/promises").then(({ writeFile }) => writeFile(corrupt, "Date;Time;Global_active_power;Global_reactive_power;Voltage;Global_intensity;Sub_metering_1;Sub_metering_2;Sub_metering_3\n1/1/2007;00:00:00;1;1;1;1;1;1;1\n1/1/2007;00:01:00;1;1\n"));
    const bad = await runTrain(["power", "--data-file", corrupt, "--tracking-uri", store]);
    expect(bad.exitCode).toBe(EXIT_CODES.DATA);
    expect(errorLines(bad.stderr)).toEqual([`train: error: ${corrupt}:3: 4 columns, expected 9 separated by ";"`]);
  });
});
