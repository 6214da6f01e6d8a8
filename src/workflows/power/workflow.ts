import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { CALENDAR_FEATURES, targetLagName } from "./features.js";
import { sliceRows, type RowRange } from "./split.js";
import { Booster, defaultThreads, type LightGBMParameters } from "../../lightgbm/index.js";
import { fitLightGBM } from "../lightgbm-fit.js";
import { DataError, InterruptedError } from "../../core/errors.js";
import { roundMetrics } from "../../core/metrics.js";
import { writeForecastReports } from "../../reports/forecast.js";
import { writeFeatureImportanceReports } from "../../reports/importance.js";
import { logEvaluationReports } from "../../reports/log-reports.js";
import type { WorkflowModule } from "../types.js";
import { errorMetrics, skillScore, type ErrorMetrics } from "./metrics.js";
import { MODEL_FILE, writeLightGBMModelFolder } from "../../tracking/model-formats/lightgbm.js";
import type { PowerParams } from "./params.js";
import { preflightPower, preparePower, validatePower, type PreparedPower } from "./prepare.js";

// `train power`: LightGBM regression of next hour's household active power, scored on the
// held-out weeks against the seasonal-naive forecasts (same hour yesterday, same hour last week).

function lightgbmParameters(params: PowerParams): LightGBMParameters {
  return {
    objective: "regression",
    metric: "rmse",
    num_leaves: params.num_leaves,
    learning_rate: params.learning_rate,
    min_data_in_leaf: params.min_data_in_leaf,
    feature_fraction: params.feature_fraction,
    seed: params.seed,
    // Same data + seed → same trees, on any machine (LightGBM's documented recipe).
    deterministic: true,
    force_row_wise: true,
    num_threads: params.threads ?? defaultThreads(),
    verbosity: -1,
  };
}

function rowsOf(prepared: PreparedPower, range: RowRange) {
  const { table } = prepared;
  return { values: sliceRows(table.values, table.columns.length, range), numColumns: table.columns.length, labels: table.targets.slice(range.begin, range.end) };
}

export const powerWorkflow: WorkflowModule<PowerParams> = {
  validate: validatePower,
  preflight: preflightPower,

  async fit(context) {
    const { params, reporter, signal } = context;
    const prepared = await preparePower(context);
    const parameters = lightgbmParameters(params);
    // The run records the thread count it trained with, also when it came from the pod's CPUs.
    if (params.threads === undefined) await context.logParams({ threads: parameters.num_threads as number });
    const fit = await fitLightGBM({
      parameters,
      train: rowsOf(prepared, prepared.split.train),
      validation: rowsOf(prepared, prepared.split.validation),
      validationName: "validation",
      numIterations: params.num_iterations,
      earlyStoppingRounds: params.early_stopping_rounds,
      reporter,
      signal,
      progressFields: ({ evaluations }) => ({ rmse: (evaluations[0]?.value ?? Number.NaN).toFixed(4) }),
    });
    const { booster, bestIteration, seconds } = fit;
    const history = fit.history.map(({ evaluations }) => evaluations[0]?.value ?? Number.NaN);
    try {
      // The per-round validation curve, as metric steps (MLflow charts it).
      for (const [index, rmse] of history.entries()) await context.logMetrics({ validation_rmse: rmse }, index + 1);
      await context.logMetrics({ best_iteration: bestIteration, iterations_trained: history.length, fit_seconds: seconds, best_validation_rmse: history[bestIteration - 1] ?? Number.NaN });
      reporter.log.info({ best_iteration: bestIteration, rounds: history.length, validation_rmse: history[bestIteration - 1], seconds: Math.round(seconds * 10) / 10 }, "LightGBM trained");
      const modelDirectory = path.join(context.workDirectory, "model");
      // saveModelToString keeps the best iteration's trees only (early stopping), as Python does.
      const { flavors, signature } = await writeLightGBMModelFolder(modelDirectory, booster.saveModelToString(), prepared.table.columns, CALENDAR_FEATURES);
      return { modelDirectory, flavors, signature };
    } finally {
      booster.dispose();
    }
  },

  async evaluate(context, modelDirectory) {
    const { params, reporter, signal } = context;
    const prepared = await preparePower(context);
    const { table, split } = prepared;
    const booster = await Booster.loadModelFromString(await readFile(path.join(modelDirectory, MODEL_FILE), "utf8"), { numThreads: params.threads ?? defaultThreads() });
    const test = rowsOf(prepared, split.test);
    let predictions: Float64Array;
    let gain: Float64Array;
    try {
      predictions = booster.predict({ values: test.values, numColumns: test.numColumns });
      gain = booster.featureImportance("gain");
    } finally {
      booster.dispose();
    }
    const column = (name: string) => {
      const index = table.columns.indexOf(name);
      return Float64Array.from({ length: test.labels.length }, (_, row) => test.values[row * test.numColumns + index]!);
    };
    const naiveDay = column(targetLagName(24));
    const naiveWeek = column(targetLagName(168));
    const scored = [...test.labels.keys()].filter((row) => !Number.isNaN(naiveDay[row]!) && !Number.isNaN(naiveWeek[row]!));
    if (scored.length === 0) throw new DataError("no test hour has both seasonal-naive forecasts (24 h and 168 h earlier): too much missing data in the test period");
    const model = errorMetrics(test.labels, predictions, scored);
    const day = errorMetrics(test.labels, naiveDay, scored);
    const week = errorMetrics(test.labels, naiveWeek, scored);
    const metrics: Record<string, number> = {
      test_rows: test.labels.length,
      test_rows_scored: scored.length,
      ...prefixed("test_", model),
      ...prefixed("test_naive_24h_", day),
      ...prefixed("test_naive_168h_", week),
      test_skill_vs_seasonal_naive: skillScore(model.rmse, [day.rmse, week.rmse]),
    };
    reporter.log.info(roundMetrics(metrics), "evaluated on the held-out weeks");
    const testTimes = table.targetTimes.subarray(split.test.begin, split.test.end);
    const reportMetrics = await logEvaluationReports(context, async (reports) => {
      await writeForecastReports(reports, { times: testTimes, actual: test.labels, model: predictions, naive24h: naiveDay, naive168h: naiveWeek, hourOfDay: column("hour") });
      await writeFeatureImportanceReports(reports, table.columns, gain);
    });
    if (params.predictions_file) {
      await writePredictions(params.predictions_file, table.columns, test.values, test.labels, predictions, testTimes);
      reporter.log.info({ file: params.predictions_file }, "wrote test features and predictions");
    }
    return { ...metrics, ...reportMetrics };
  },
};

function prefixed(prefix: string, metrics: ErrorMetrics): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).map(([key, value]) => [`${prefix}${key}`, value]));
}

/** CSV with full precision (JavaScript's shortest round-trip form); an empty field is a missing value. */
async function writePredictions(file: string, columns: string[], values: Float64Array, targets: Float64Array, predictions: Float64Array, times: Float64Array): Promise<void> {
  const format = (value: number) => (Number.isNaN(value) ? "" : String(value));
  const lines = [["target_time", ...columns, "target", "prediction"].join(",")];
  for (let row = 0; row < targets.length; row += 1) {
    const features = Array.from(values.subarray(row * columns.length, (row + 1) * columns.length), format);
    lines.push([new Date(times[row]!).toISOString().slice(0, 16), ...features, format(targets[row]!), format(predictions[row]!)].join(","));
  }
  await writeFile(file, `${lines.join("\n")}\n`);
}
