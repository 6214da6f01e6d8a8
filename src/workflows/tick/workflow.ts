import path from "node:path";
import { Booster, defaultThreads, type LightGBMParameters } from "../../lightgbm/index.js";
import { fitLightGBM } from "../lightgbm-fit.js";
import { DataError, InterruptedError } from "../../core/errors.js";
import { roundMetrics } from "../../core/metrics.js";
import { MODEL_FILE, writeLightGBMModelFolder } from "../../tracking/model-formats/lightgbm.js";
import { writeBinaryReports } from "../../reports/binary.js";
import { writeFeatureImportanceReports } from "../../reports/importance.js";
import { logEvaluationReports } from "../../reports/log-reports.js";
import type { WorkflowContext, WorkflowModule } from "../types.js";
import { binaryMetrics } from "./classification-metrics.js";
import type { TickParams } from "./params.js";
import { dataTags, preflightTick, readTickTrainingData, tickTrainingData } from "./training-data.js";
import { readTextFileOr } from "../../core/files.js";

// `train tick`: LightGBM binary classifier "next label_horizon_bars bars go up beyond the dead
// band" on the window's bar features, early-stopped on the validation period and scored on the
// test period against the prior (the majority class and the base rate) it has to beat.

const VALIDATION_NAME = "validation";
const METRICS = ["binary_logloss", "auc"];
/**
 * MLflow names follow `<split>_<metric>` with the test metrics' spelling: LightGBM's
 * binary_logloss is logged as validation_log_loss, next to test_log_loss.
 */
const TRACKED_METRIC_NAME: Record<string, string> = { binary_logloss: "log_loss" };
const trackedName = (dataName: string, metricName: string) => `${dataName}_${TRACKED_METRIC_NAME[metricName] ?? metricName}`;

function lightgbmParameters(params: TickParams): LightGBMParameters {
  return {
    objective: "binary",
    metric: METRICS,
    num_leaves: params.num_leaves,
    learning_rate: params.learning_rate,
    min_data_in_leaf: params.min_data_in_leaf,
    feature_fraction: params.feature_fraction,
    // One seed for every random choice, deterministic mode and a fixed histogram layout make a
    // re-run (an Airflow retry) produce the same trees byte for byte.
    seed: params.seed,
    feature_fraction_seed: params.seed,
    bagging_seed: params.seed,
    data_random_seed: params.seed,
    deterministic: true,
    force_col_wise: true,
    // The pod's CPUs (resolved once per process), said explicitly so that the logged
    // lightgbm_parameters record the thread count the model was trained with.
    num_threads: defaultThreads(),
    verbosity: -1,
  };
}

export const tickWorkflow: WorkflowModule<TickParams> = {
  preflight: preflightTick,
  async validate(params, reporter) {
    return dataTags(await readTickTrainingData(params, reporter));
  },

  async fit(context: WorkflowContext<TickParams>) {
    const { params, reporter, signal } = context;
    const data = await tickTrainingData(context);
    const parameters = lightgbmParameters(params);
    const numColumns = data.matrix.featureNames.length;
    const fit = await fitLightGBM({
      parameters,
      train: { values: data.train.values, numColumns, labels: data.train.target },
      validation: { values: data.validation.values, numColumns, labels: data.validation.target },
      validationName: VALIDATION_NAME,
      numIterations: params.num_iterations,
      earlyStoppingRounds: params.early_stopping_rounds,
      reporter,
      signal,
    });
    const { booster, history } = fit;
    try {
      const fitSeconds = fit.seconds;
      for (const report of history) {
        await context.logMetrics(Object.fromEntries(report.evaluations.map((evaluation) => [trackedName(evaluation.dataName, evaluation.metricName), evaluation.value])), report.iteration);
      }
      const best = history[fit.bestIteration - 1]?.evaluations ?? [];
      const summary: Record<string, number> = {
        best_iteration: fit.bestIteration,
        // The same name as train power's: boosting rounds are LightGBM iterations (num_iterations).
        iterations_trained: history.length,
        fit_seconds: fitSeconds,
        ...Object.fromEntries(best.map((evaluation) => [`best_${trackedName(evaluation.dataName, evaluation.metricName)}`, evaluation.value])),
      };
      await context.logMetrics(summary);
      await context.logParams({ lightgbm_parameters: JSON.stringify(parameters), features: data.matrix.featureNames.join(",") });
      reporter.log.info(roundMetrics(summary), "LightGBM trained");
      // Which bar features carry the signal, per run: drift in these is the first thing to look at.
      const gain = booster.featureImportance("gain");
      await context.logMetrics(Object.fromEntries(data.matrix.featureNames.map((name, index) => [`importance_gain_${name}`, gain[index] ?? 0])));
      const modelDirectory = path.join(context.workDirectory, "model");
      // The MLflow lightgbm flavor folder shared with `train power` (features named in the model text).
      const { flavors, signature } = await writeLightGBMModelFolder(modelDirectory, booster.saveModelToString(), data.matrix.featureNames);
      return { modelDirectory, flavors, signature };
    } finally {
      booster.dispose();
    }
  },

  async evaluate(context, modelDirectory) {
    const data = await tickTrainingData(context);
    const modelFile = path.join(modelDirectory, MODEL_FILE);
    const modelText = await readTextFileOr(modelFile, (reason) => new DataError(`no LightGBM model at ${modelFile}: ${reason}`));
    const booster = await Booster.loadModelFromString(modelText);
    try {
      const numColumns = data.matrix.featureNames.length;
      if (booster.numFeatures() !== numColumns) {
        throw new DataError(`the model in ${modelDirectory} takes ${booster.numFeatures()} features; the window has ${numColumns} (${data.matrix.featureNames.join(", ")})`);
      }
      const probabilities = booster.predict({ values: data.test.values, numColumns });
      const metrics = binaryMetrics(probabilities, data.test.target, data.trainingPositiveRate);
      if (Number.isNaN(metrics.auc)) throw new DataError(`the test period has only one class (positive rate ${metrics.positive_rate}): AUC is undefined; widen --window`);
      const result = Object.fromEntries(Object.entries(metrics).map(([key, value]) => [`test_${key}`, value]));
      context.reporter.log.info(roundMetrics(result), "evaluated on the test period");
      const gain = booster.featureImportance("gain");
      const reportMetrics = await logEvaluationReports(context, async (reports) => {
        await writeBinaryReports(reports, probabilities, data.test.target);
        await writeFeatureImportanceReports(reports, data.matrix.featureNames, gain);
      });
      return { ...result, ...reportMetrics };
    } finally {
      booster.dispose();
    }
  },
};
