import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { writeSyntheticPowerFile } from "../../src/data/power/synthetic-file.js";
import { EXIT_CODES } from "../../src/core/errors.js";
import { writeFixture } from "../workflows/cifar10/fixtures.js";
import { errorLines, runTrain } from "../support/cli.js";
import { REPOSITORY_ROOT, runPythonJson } from "../support/python.js";

// `train predict` on each kind of registered model, from the local store (the server path is
// covered with the MNIST model in test/onnx/pyfunc.test.ts), and its hostile cases.

interface Summary {
  run_id: string;
  registered_version?: string;
  metrics: Record<string, number>;
}

async function specWithThreshold(work: string, spec: string, from: string, to: string): Promise<string> {
  const file = path.join(work, `${spec}.yaml`);
  const original = await readFile(path.join(REPOSITORY_ROOT, "models", `${spec}.yaml`), "utf8");
  if (!original.includes(from)) throw new Error(`models/${spec}.yaml has no "${from}"`);
  await writeFile(file, original.replace(from, to));
  return file;
}

function parseCsv(text: string): { header: string[]; rows: number[][] } {
  const [head = "", ...lines] = text.trim().split("\n");
  return { header: head.split(","), rows: lines.map((line) => line.split(",").map(Number)) };
}

describe("train predict", () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "podtrain-predict-"));
  });

  it("cifar10: the registered CNN's predictions on the test batch give the run's test accuracy, with ONNX and tfjs alike", async () => {
    const fixture = await writeFixture(path.join(work, "cifar-data"), 40, 50, 5);
    const store = path.join(work, "cifar-mlruns");
    const spec = await specWithThreshold(work, "cifar10_cnn", "threshold: 0.85", "threshold: 0.0");
    const xcom = path.join(work, "cifar-xcom.json");
    const trained = await runTrain(["cifar10", "--spec", spec, "--data-dir", fixture.root, "--allow-partial-batches", "--tracking-uri", store, "--xcom", xcom, "--epochs", "3", "--batch-size", "20", "--learning-rate", "0.01", "--no-augment", "--weight-decay", "0", "--validation-split", "0.1", "--backend", "tensorflow"]);
    expect(errorLines(trained.stderr)).toEqual([]);
    const summary = JSON.parse(await readFile(xcom, "utf8")) as Summary;
    expect(summary.registered_version).toBe("1");
    const testBatch = path.join(fixture.batchFolder, "test_batch.bin");
    const outputs: Record<string, number[][]> = {};
    for (const flavor of ["onnx", "tfjs"]) {
      const output = path.join(work, `cifar-${flavor}.csv`);
      const result = await runTrain(["predict", "cifar10", "--model-uri", "models:/cifar10_cnn@candidate", "--input", testBatch, "--out", output, "--flavor", flavor, "--tracking-uri", store]);
      expect(errorLines(result.stderr)).toEqual([]);
      expect(result.stdout).toBe(`50 predictions of models:/cifar10_cnn@candidate (version 1, ${flavor}) written to ${output}\n`);
      const { header, rows } = parseCsv(await readFile(output, "utf8"));
      expect(header).toEqual(["row", "class", ...Array.from({ length: 10 }, (_, index) => `p_${index}`)]);
      outputs[flavor] = rows;
    }
    const labels = fixture.test.labels;
    const accuracy = outputs.onnx!.filter((row, index) => row[1] === labels[index]).length / labels.length;
    expect(accuracy.toFixed(4)).toBe(summary.metrics.test_accuracy!.toFixed(4));
    expect(outputs.onnx!.map((row) => row[1])).toEqual(outputs.tfjs!.map((row) => row[1]));
    const maxDifference = Math.max(...outputs.onnx!.flatMap((row, index) => row.slice(2).map((p, k) => Math.abs(p - outputs.tfjs![index]![k + 2]!))));
    expect(maxDifference).toBeLessThanOrEqual(1e-5);

    // Hostile: an alias nobody set, a truncated batch, a model of another kind, and no output left behind.
    const missing = await runTrain(["predict", "cifar10", "--model-uri", "models:/cifar10_cnn@champion", "--input", testBatch, "--tracking-uri", store]);
    expect(missing.exitCode).toBe(EXIT_CODES.USAGE);
    expect(errorLines(missing.stderr)).toEqual([`train: error: models:/cifar10_cnn@champion does not exist on ${store}: no version of "cifar10_cnn" has the alias "champion"`]);
    const truncated = path.join(work, "truncated.bin");
    await writeFile(truncated, (await readFile(testBatch)).subarray(0, 5000));
    const corruptOutput = path.join(work, "never.csv");
    const corrupt = await runTrain(["predict", "cifar10", "--model-uri", "models:/cifar10_cnn@candidate", "--input", truncated, "--out", corruptOutput, "--tracking-uri", store]);
    expect(corrupt.exitCode).toBe(EXIT_CODES.DATA);
    expect(errorLines(corrupt.stderr)).toHaveLength(1);
    expect(errorLines(corrupt.stderr)[0]).toMatch(/^train: error: truncated\.bin: 5000 bytes is not a whole number of 3073-byte CIFAR-10 records/);
    expect(existsSync(corruptOutput)).toBe(false);
    const wrongKind = await runTrain(["predict", "power", "--model-uri", "models:/cifar10_cnn@candidate", "--input", testBatch, "--tracking-uri", store]);
    expect(wrongKind.exitCode).toBe(EXIT_CODES.USAGE);
    expect(errorLines(wrongKind.stderr)).toEqual(["train: error: models:/cifar10_cnn@candidate has no lightgbm flavor (it has tfjs, onnx, python_function): not a power/tick model"]);
    const badUri = await runTrain(["predict", "cifar10", "--model-uri", "runs:/abc/model", "--input", testBatch, "--tracking-uri", store]);
    expect(errorLines(badUri.stderr)).toEqual(['train: error: --model-uri "runs:/abc/model" is not models:/<name>@<alias> or models:/<name>/<version>']);
  });

  it("power: the registered LightGBM model predicts what the run wrote for its test weeks", async () => {
    const dataFile = path.join(work, "household_power_consumption.txt");
    await writeSyntheticPowerFile(dataFile, { days: 365, seed: 2 });
    const store = path.join(work, "power-mlruns");
    const spec = await specWithThreshold(work, "power_lgbm", "threshold: 0.05", "threshold: -100");
    const predictions = path.join(work, "power-test-predictions.csv");
    const xcom = path.join(work, "power-xcom.json");
    const trained = await runTrain(["power", "--spec", spec, "--data-file", dataFile, "--tracking-uri", store, "--predictions-file", predictions, "--xcom", xcom]);
    expect(errorLines(trained.stderr)).toEqual([]);
    expect((JSON.parse(await readFile(xcom, "utf8")) as Summary).registered_version).toBe("1");
    const result = await runTrain(["predict", "power", "--model-uri", "models:/power_lgbm@candidate", "--input", predictions, "--tracking-uri", store]);
    expect(errorLines(result.stderr)).toEqual([]);
    const predicted = result.stdout.trim().split("\n").map((line) => JSON.parse(line) as { row: number; prediction: number });
    const written = parseCsv(await readFile(predictions, "utf8"));
    const column = written.header.indexOf("prediction");
    expect(predicted).toHaveLength(written.rows.length);
    expect(Math.max(...predicted.map((row, index) => Math.abs(row.prediction - written.rows[index]![column]!)))).toBeLessThan(1e-9);
  });

  it("tick: the registered LightGBM classifier gives Python MLflow's probabilities on a feature CSV", async () => {
    const trades = path.join(work, "trades");
    const features = path.join(work, "features");
    expect((await runTrain(["tick", "generate", "--out-dir", trades, "--from", "2026-01-05", "--to", "2026-01-23", "--symbols", "2", "--trades-per-day", "8000"])).exitCode).toBe(0);
    expect((await runTrain(["tick", "features", "--input", trades, "--out-dir", features, "--from", "2026-01-05", "--to", "2026-01-23"])).exitCode).toBe(0);
    const store = path.join(work, "tick-mlruns");
    const spec = await specWithThreshold(work, "tick_model", "threshold: 0.52", "threshold: 0.0");
    const xcom = path.join(work, "tick-xcom.json");
    const trained = await runTrain(["tick", "--spec", spec, "--features-dir", features, "--as-of", "2026-01-23", "--window", "15d", "--tracking-uri", store, "--xcom", xcom]);
    expect(errorLines(trained.stderr)).toEqual([]);
    expect((JSON.parse(await readFile(xcom, "utf8")) as Summary).registered_version).toBe("1");
    // Feature rows drawn at random over the signature's columns (an empty cell is a missing value).
    const { names } = await runPythonJson<{ names: string[] }>(`
import json, mlflow
print(json.dumps({"names": mlflow.models.get_model_info("models:/tick_model@candidate").signature.inputs.input_names()}))`, { MLFLOW_TRACKING_URI: `file://${store}` });
    let state = 17;
    const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 4 - 2;
    const csv = path.join(work, "tick-features.csv");
    await writeFile(csv, `${names.join(",")}\n${Array.from({ length: 50 }, (_, row) => names.map((_, column) => (row === 3 && column === 0 ? "" : random().toFixed(6))).join(",")).join("\n")}\n`);
    const output = path.join(work, "tick-predictions.csv");
    const result = await runTrain(["predict", "tick", "--model-uri", "models:/tick_model@candidate", "--input", csv, "--out", output, "--tracking-uri", store]);
    expect(errorLines(result.stderr)).toEqual([]);
    const ours = parseCsv(await readFile(output, "utf8")).rows.map((row) => row[1]!);
    const python = await runPythonJson<number[]>(`
import json, mlflow, numpy as np, pandas as pd
model = mlflow.pyfunc.load_model("models:/tick_model@candidate")
print(json.dumps(np.asarray(model.predict(pd.read_csv("${csv}", float_precision="round_trip"))).tolist()))`, { MLFLOW_TRACKING_URI: `file://${store}` });
    expect(ours).toHaveLength(50);
    expect(Math.max(...ours.map((value, index) => Math.abs(value - python[index]!)))).toBeLessThan(1e-9);
    expect(ours.every((probability) => probability > 0 && probability < 1)).toBe(true);
  });
});
