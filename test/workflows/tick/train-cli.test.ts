import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { partitionDirectory } from "../../../src/data/tick/partitions.js";
import { EXIT_CODES } from "../../../src/core/errors.js";
import { errorLines, runTrain } from "../../support/cli.js";
import { runPythonJson } from "../../support/python.js";
import { runTrainWithSignals } from "../../support/signals.js";
import { temporaryDirectory } from "./fixtures.js";

// generate → features → `train tick`, all through the real CLI, then the run read back with the
// real MLflow. 2026-01-05..2026-01-30 is four weeks of weekdays; --window 20d ending 2026-01-30
// takes the 15 weekdays from 2026-01-12.

interface SeenRun {
  status: string;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  history: number[][];
  artifacts: string[];
  prediction: number[];
  features: string[];
}

async function readRun(store: string): Promise<SeenRun[]> {
  return runPythonJson<SeenRun[]>(`
import json, numpy as np, mlflow.lightgbm
from mlflow import MlflowClient
client = MlflowClient("file://${store}")
experiment = client.get_experiment_by_name("tick-production")
runs = client.search_runs([experiment.experiment_id]) if experiment else []
def seen(run):
    model = mlflow.lightgbm.load_model(f"runs:/{run.info.run_id}/model") if run.info.status == "FINISHED" else None
    return {"status": run.info.status, "metrics": run.data.metrics, "tags": run.data.tags,
      "history": [[m.step, m.value] for m in client.get_metric_history(run.info.run_id, "validation_auc")],
      "artifacts": sorted(set(f.path for f in client.list_artifacts(run.info.run_id, "model"))),
      "prediction": model.predict(np.zeros((2, model.num_feature()))).tolist() if model else [],
      "features": model.feature_name() if model else []}
print(json.dumps([seen(run) for run in runs]))`, { MLFLOW_TRACKING_URI: `file://${store}` });
}

/** The model.lgb files under a local tracking store. */
function modelFiles(store: string): string[] {
  return readdirSync(store, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(path.join("model", "model.lgb"))).map((file) => path.join(store, file));
}

function printedMetric(stdout: string, name: string): string | undefined {
  return stdout.split("\n").find((line) => line.trim().startsWith(`${name} `))?.trim().split(/\s+/)[1];
}

describe("train tick (CLI, end to end)", () => {
  let root: string;
  let features: string;
  beforeAll(async () => {
    root = temporaryDirectory("tick-train-cli-");
    const trades = path.join(root, "trades");
    features = path.join(root, "features");
    const generated = await runTrain(["tick", "generate", "--out", trades, "--from", "2026-01-05", "--to", "2026-01-30", "--symbols", "3", "--trades-per-day", "20000"]);
    expect(generated.exitCode, generated.stderr).toBe(0);
    const computed = await runTrain(["tick", "features", "--input", trades, "--output", features, "--from", "2026-01-05", "--to", "2026-01-30"]);
    expect(computed.exitCode, computed.stderr).toBe(0);
  });

  it("trains, scores the test period above chance, tracks the data version and logs a model Python's MLflow loads", async () => {
    const store = path.join(root, "mlruns");
    const started = performance.now();
    const result = await runTrain(["tick", "--features-dir", features, "--as-of", "2026-01-30", "--window", "20d", "--tracking-uri", store, "--log-format", "json"]);
    const seconds = (performance.now() - started) / 1000;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(errorLines(result.stderr)).toEqual([]);
    const [run] = await readRun(store);
    expect(run?.status).toBe("FINISHED");
    const metrics = run?.metrics ?? {};
    // Measured 0.543 on this data (the generator's persistent order flow makes direction
    // somewhat predictable); a coin flip scores 0.5 ± 0.01 on this many test rows.
    expect(metrics.test_auc).toBeGreaterThan(0.5);
    expect(metrics.test_log_loss).toBeLessThan(metrics.test_baseline_log_loss as number);
    for (const key of ["test_accuracy", "test_baseline_accuracy", "test_positive_rate", "best_iteration"]) expect(metrics[key]).toBeTypeOf("number");
    expect(run?.history.length).toBe(metrics.iterations_trained);
    expect(metrics.best_validation_log_loss).toBeGreaterThan(0);
    expect(metrics).not.toHaveProperty("validation_binary_logloss");
    expect(run?.history.map(([step]) => step)).toEqual(Array.from({ length: run?.history.length ?? 0 }, (_, index) => index + 1));
    const tags = run?.tags ?? {};
    expect(tags["data.version"]).toMatch(/^[0-9a-f]{64}$/);
    expect(tags["data.feature_set_hash"]).toMatch(/^[0-9a-f]{64}$/);
    expect(tags["data.dates"]?.split(",")).toHaveLength(15);
    expect(tags["data.from"]).toBe("2026-01-11");
    expect(Number(tags["data.rows"])).toBeGreaterThan(15 * 3 * 380);
    expect(Number(tags["data.rows_null_label_dropped"])).toBe(15 * 3 * 5);
    expect(run?.artifacts).toEqual(["model/MLmodel", "model/conda.yaml", "model/model.lgb", "model/python_env.yaml", "model/requirements.txt"]);
    expect(run?.prediction.every((probability) => probability > 0 && probability < 1)).toBe(true);
    expect(run?.features).toEqual(tags["data.features"]?.split(","));
    expect(metrics.importance_gain_trade_sign_imbalance).toBeGreaterThan(0);
    process.stdout.write(`train tick end to end: ${seconds.toFixed(1)} s, test AUC ${metrics.test_auc?.toFixed(4)}, log loss ${metrics.test_log_loss?.toFixed(4)} vs prior ${metrics.test_baseline_log_loss?.toFixed(4)}, accuracy ${metrics.test_accuracy?.toFixed(4)} vs majority ${metrics.test_baseline_accuracy?.toFixed(4)}\n`);
  });

  it("runs fit and evaluate as separate DAG steps of one run, and re-training gives the same model bytes", async () => {
    const store = path.join(root, "mlruns-stages");
    const common = ["tick", "--features-dir", features, "--as-of", "2026-01-30", "--window", "20d", "--tracking-uri", store, "--run-key", "tick-2026-01-30"];
    const fit = await runTrain([...common, "--stage", "fit"]);
    expect(fit.exitCode, fit.stderr).toBe(0);
    expect(printedMetric(fit.stdout, "test_auc")).toBeUndefined();
    const evaluate = await runTrain([...common, "--stage", "evaluate"]);
    expect(evaluate.exitCode, evaluate.stderr).toBe(0);
    expect(evaluate.stdout).toMatch(/\(evaluate\) finished \(continued an existing run\)/);
    const single = await runTrain(["tick", "--features-dir", features, "--as-of", "2026-01-30", "--window", "20d", "--tracking-uri", path.join(root, "mlruns-single"), "--no-register"]);
    expect(printedMetric(evaluate.stdout, "test_auc")).toBe(printedMetric(single.stdout, "test_auc"));
    const [staged] = modelFiles(store);
    const [again] = modelFiles(path.join(root, "mlruns-single"));
    expect(readFileSync(staged as string, "utf8")).toBe(readFileSync(again as string, "utf8"));
  });

  it("fails with the missing dates named, before any run exists, when a partition of the window is missing", async () => {
    const holed = path.join(root, "features-holed");
    cpSync(features, holed, { recursive: true });
    rmSync(partitionDirectory(holed, "2026-01-21"), { recursive: true });
    const store = path.join(root, "mlruns-missing");
    const result = await runTrain(["tick", "--features-dir", holed, "--as-of", "2026-01-30", "--window", "20d", "--tracking-uri", store]);
    expect(result.exitCode).toBe(EXIT_CODES.DATA);
    expect(errorLines(result.stderr)).toEqual([
      `train: error: missing feature partitions for 1 date(s) of the window 2026-01-11..2026-01-30 under ${holed}: 2026-01-21. ` +
        `Compute them with \`train tick features --input TRADES_DIR --out-dir ${holed} --from 2026-01-21 --to 2026-01-21\` (TRADES_DIR: the trades folder the other partitions came from), or list market holidays in closed_dates`,
    ]);
    // A usage mistake is checked before the run is created: no FAILED run, no store folder.
    expect(existsSync(store)).toBe(false);
  });

  it("stops boosting between rounds on SIGTERM: exit 143 within seconds, run KILLED, nothing registered", async () => {
    const store = path.join(root, "mlruns-sigterm");
    // Rounds without end: only the signal stops boosting.
    const stopped = await runTrainWithSignals(["tick", "--features-dir", features, "--as-of", "2026-01-30", "--window", "20d", "--num-iterations", "1000000", "--early-stopping-rounds", "1000000",
      "--tracking-uri", store, "--log-format", "json"], { after: /"msg":"boosting 1\/1000000"/, delayMs: 1000, signals: ["SIGTERM"] });
    expect(stopped.exitCode).toBe(EXIT_CODES.TERMINATED);
    expect(stopped.msToExit!).toBeLessThan(10_000);
    expect(errorLines(stopped.stderr)).toEqual(["train: error: interrupted by SIGTERM"]);
    const runs = await readRun(store);
    expect(runs.map((run) => run.status)).toEqual(["KILLED"]);
    expect(modelFiles(store)).toEqual([]);
  });
});
