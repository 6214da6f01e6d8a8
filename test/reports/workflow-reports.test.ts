import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnist } from "../../src/data/mnist/dataset.js";
import { writeSyntheticPowerFile } from "../../src/data/power/synthetic-file.js";
import { REPORT_SECONDS_METRIC } from "../../src/reports/log-reports.js";
import { writeFixture } from "../workflows/cifar10/fixtures.js";
import { errorLines, runTrain } from "../support/cli.js";
import { startMlflowServer, type MlflowServer } from "../support/mlflow-server.js";
import { runPythonJson } from "../support/python.js";
import { pngFacts } from "./png.js";

// Each workflow's run, trained through the real CLI, carries its evaluation report under
// reports/: listed and downloaded with Python's MLflow client (local store and a real server),
// every PNG decoded and checked, the JSON behind it checked against the run's own metrics.

interface SeenReports {
  artifacts: string[];
  metrics: Record<string, number>;
  folder: string;
}

function readReports(trackingUri: string, experiment: string, destination: string): Promise<SeenReports> {
  return runPythonJson<SeenReports>(`
import json, os
from mlflow import MlflowClient
client = MlflowClient(${JSON.stringify(trackingUri)})
run = client.search_runs([client.get_experiment_by_name(${JSON.stringify(experiment)}).experiment_id], order_by=["attributes.start_time DESC"])[0]
os.makedirs(${JSON.stringify(destination)}, exist_ok=True)
folder = client.download_artifacts(run.info.run_id, "reports", ${JSON.stringify(destination)})
print(json.dumps({"artifacts": sorted(f.path for f in client.list_artifacts(run.info.run_id, "reports")), "metrics": run.data.metrics, "folder": folder}))`);
}

const readJson = async <T>(folder: string, file: string) => JSON.parse(await readFile(path.join(folder, file), "utf8")) as T;

async function expectReadablePngs(seen: SeenReports): Promise<void> {
  const pngs = seen.artifacts.filter((file) => file.endsWith(".png"));
  expect(pngs.length).toBeGreaterThan(0);
  for (const file of pngs) {
    const facts = await pngFacts(path.join(seen.folder, path.basename(file)));
    expect(facts.width, file).toBeGreaterThan(400);
    expect(facts.height, file).toBeGreaterThan(300);
    expect(facts.inked / (facts.width * facts.height), file).toBeGreaterThan(0.03);
    expect(facts.dark, file).toBeGreaterThan(1000); // axis labels and titles: the font was found
  }
}

function rowSums(matrix: number[][]): number[] {
  return matrix.map((row) => row.reduce((total, count) => total + count, 0));
}

function classCounts(labels: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let index = 0; index < labels.length; index += 1) counts[labels[index]!]! += 1;
  return counts;
}

async function expectCnnReports(seen: SeenReports, labels: ArrayLike<number>): Promise<void> {
  expect(seen.artifacts).toEqual(["reports/confidently_wrong_images.json", "reports/confidently_wrong_images.png", "reports/confusion_matrix.json", "reports/confusion_matrix.png", "reports/per_class_metrics.json"]);
  const { matrix } = await readJson<{ matrix: number[][] }>(seen.folder, "confusion_matrix.json");
  expect(rowSums(matrix)).toEqual(classCounts(labels, 10));
  const correct = matrix.reduce((total, row, index) => total + row[index]!, 0);
  expect(correct / labels.length).toBeCloseTo(seen.metrics.test_accuracy!, 6);
  const perClass = await readJson<Array<{ support: number }>>(seen.folder, "per_class_metrics.json");
  expect(perClass.map((row) => row.support)).toEqual(rowSums(matrix));
  const wrong = await readJson<Array<{ label: string; predicted: string }>>(seen.folder, "confidently_wrong_images.json");
  expect(wrong.length).toBe(Math.min(16, labels.length - correct));
  for (const row of wrong) expect(row.predicted).not.toBe(row.label);
  await expectReadablePngs(seen);
}

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), "podtrain-workflow-reports-"));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

describe("evaluation reports of each workflow's run", () => {
  it("mnist: confusion matrix rows are the test set's class counts", { timeout: 600_000 }, async () => {
    const store = path.join(directory, "mnist-mlruns");
    const result = await runTrain(["mnist", "--epochs", "1", "--train-limit", "2000", "--test-limit", "1000", "--tracking-uri", store, "--log-format", "json"]);
    expect(errorLines(result.stderr)).toEqual([]);
    expect(result.exitCode).toBe(0);
    const seen = await readReports(`file://${store}`, "mnist-cnn", path.join(directory, "mnist-reports"));
    const dataset = await loadMnist({ trainLimit: 2000, testLimit: 1000 });
    await expectCnnReports(seen, dataset.test.labels);
    expect(seen.metrics[REPORT_SECONDS_METRIC]).toBeGreaterThan(0);
    expect(seen.metrics[REPORT_SECONDS_METRIC]).toBeLessThan(30);
  });

  it("cifar10: the same report from the batches of the binary format", { timeout: 600_000 }, async () => {
    const fixture = await writeFixture(path.join(directory, "cifar10-data"), 20, 60, 3);
    const store = path.join(directory, "cifar10-mlruns");
    const result = await runTrain(["cifar10", "--data-dir", fixture.root, "--allow-partial-batches", "--tracking-uri", store, "--epochs", "1", "--batch-size", "20", "--validation-split", "0", "--log-format", "json"]);
    expect(errorLines(result.stderr)).toEqual([]);
    expect(result.exitCode).toBe(0);
    const seen = await readReports(`file://${store}`, "cifar10-cnn", path.join(directory, "cifar10-reports"));
    await expectCnnReports(seen, fixture.test.labels);
  });

  it("tick: ROC area is the run's test AUC, calibration bins count the test rows, importance is the fit's gain", { timeout: 600_000 }, async () => {
    const trades = path.join(directory, "trades");
    const features = path.join(directory, "features");
    expect((await runTrain(["tick", "generate", "--out", trades, "--from", "2026-01-05", "--to", "2026-01-30", "--symbols", "3", "--trades-per-day", "20000"])).exitCode).toBe(0);
    expect((await runTrain(["tick", "features", "--input", trades, "--output", features, "--from", "2026-01-05", "--to", "2026-01-30"])).exitCode).toBe(0);
    const store = path.join(directory, "tick-mlruns");
    const result = await runTrain(["tick", "--features-dir", features, "--as-of", "2026-01-30", "--window", "20d", "--tracking-uri", store, "--log-format", "json"]);
    expect(errorLines(result.stderr)).toEqual([]);
    expect(result.exitCode).toBe(0);
    const seen = await readReports(`file://${store}`, "tick-production", path.join(directory, "tick-reports"));
    expect(seen.artifacts).toEqual(["reports/calibration_curve.json", "reports/calibration_curve_plot.png", "reports/feature_importance.json", "reports/feature_importance.png", "reports/roc_curve.json", "reports/roc_curve_plot.png"]);
    const roc = await readJson<{ auc: number }>(seen.folder, "roc_curve.json");
    expect(roc.auc).toBeCloseTo(seen.metrics.test_auc!, 10);
    const { bins } = await readJson<{ bins: Array<{ count: number; fraction_positive: number }> }>(seen.folder, "calibration_curve.json");
    expect(bins.reduce((total, bin) => total + bin.count, 0)).toBe(seen.metrics.test_rows);
    expect(bins.reduce((total, bin) => total + bin.count * bin.fraction_positive, 0) / seen.metrics.test_rows!).toBeCloseTo(seen.metrics.test_positive_rate!, 10);
    const importance = await readJson<{ features: Array<{ feature: string; gain: number }> }>(seen.folder, "feature_importance.json");
    expect(importance.features.length).toBeGreaterThan(3);
    // The fit logged them from its booster; evaluate reads the saved model text, whose split gains carry fewer digits.
    for (const { feature, gain } of importance.features) {
      const logged = seen.metrics[`importance_gain_${feature}`]!;
      expect(Math.abs(gain - logged), feature).toBeLessThanOrEqual(1e-5 * Math.max(1, logged));
    }
    await expectReadablePngs(seen);
  });

  describe("power, on the local store and on a real MLflow server", () => {
    let server: MlflowServer;
    let dataFile: string;
    beforeAll(async () => {
      server = await startMlflowServer();
      dataFile = path.join(directory, "household_power_consumption.txt");
      await writeSyntheticPowerFile(dataFile, { days: 365, seed: 2 });
    }, 300_000);
    afterAll(() => server?.stop());

    for (const where of ["local store", "server"] as const) {
      it(`${where}: the forecast rows give the run's test RMSE, the residuals count every test hour`, { timeout: 600_000 }, async () => {
        const tracking = where === "server" ? server.uri : path.join(directory, "power-mlruns");
        const result = await runTrain(["power", "--data-file", dataFile, "--tracking-uri", tracking, "--log-format", "json"]);
        expect(errorLines(result.stderr)).toEqual([]);
        expect(result.exitCode).toBe(0);
        const seen = await readReports(where === "server" ? server.uri : `file://${tracking}`, "power-forecast", path.join(directory, `power-reports-${where.replace(" ", "-")}`));
        expect(seen.artifacts).toEqual(["reports/feature_importance.json", "reports/feature_importance.png", "reports/forecast_vs_actual.json", "reports/forecast_vs_actual.png", "reports/residuals_by_hour.json", "reports/residuals_by_hour.png"]);
        const { rows } = await readJson<{ rows: Array<{ actual: number; model: number; naive_24h: number | null; naive_168h: number | null }> }>(seen.folder, "forecast_vs_actual.json");
        expect(rows).toHaveLength(seen.metrics.test_rows!);
        const scored = rows.filter((row) => row.naive_24h !== null && row.naive_168h !== null);
        expect(scored).toHaveLength(seen.metrics.test_rows_scored!);
        const rmse = Math.sqrt(scored.reduce((total, row) => total + (row.model - row.actual) ** 2, 0) / scored.length);
        expect(rmse).toBeCloseTo(seen.metrics.test_rmse!, 10);
        const { hours } = await readJson<{ hours: Array<{ count: number }> }>(seen.folder, "residuals_by_hour.json");
        expect(hours).toHaveLength(24);
        expect(hours.reduce((total, hour) => total + hour.count, 0)).toBe(seen.metrics.test_rows);
        const importance = await readJson<{ features: Array<{ share: number }> }>(seen.folder, "feature_importance.json");
        expect(importance.features.reduce((total, row) => total + row.share, 0)).toBeCloseTo(1, 10);
        await expectReadablePngs(seen);
      });
    }

    it("server, as separate DAG steps: fit logs no report, evaluate in a new process logs it once", { timeout: 600_000 }, async () => {
      const common = ["power", "--data-file", dataFile, "--tracking-uri", server.uri, "--run-key", "power_lgbm_training/reports-1", "--no-register"];
      const listReports = () => runPythonJson<string[]>(`
import json
from mlflow import MlflowClient
client = MlflowClient("${server.uri}")
runs = client.search_runs([client.get_experiment_by_name("power-forecast").experiment_id], filter_string="tags.\`podtrain.run_key\` = 'power_lgbm_training/reports-1'")
print(json.dumps(sorted(f.path for f in client.list_artifacts(runs[0].info.run_id, "reports"))))`);
      expect((await runTrain([...common, "--stage", "fit"])).exitCode).toBe(0);
      expect(await listReports()).toEqual([]);
      const evaluate = await runTrain([...common, "--stage", "evaluate"]);
      expect(errorLines(evaluate.stderr)).toEqual([]);
      expect(evaluate.exitCode).toBe(0);
      expect(evaluate.stdout).toMatch(/evaluate_report_seconds\s+\d/);
      expect(await listReports()).toEqual(["reports/feature_importance.json", "reports/feature_importance.png", "reports/forecast_vs_actual.json", "reports/forecast_vs_actual.png", "reports/residuals_by_hour.json", "reports/residuals_by_hour.png"]);
    });
  });
});
