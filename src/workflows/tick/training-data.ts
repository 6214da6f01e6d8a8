import path from "node:path";
import { DataError, UsageError } from "../../core/errors.js";
import type { Reporter } from "../../runtime/reporter.js";
import type { Once, WorkflowContext } from "../types.js";
import { loadDesignMatrix, selectRows, upTarget, type TickDesignMatrix } from "./design-matrix.js";
import { positiveRate } from "./classification-metrics.js";
import type { TickParams } from "./params.js";
import { resolveTrainingWindow, type TrainingWindow } from "./training-window.js";
import { keepRows, walkForwardSplit } from "./walk-forward-split.js";
import { DATA_VERSION_TAG } from "../../tracking/tags.js";
import { withFeaturesRoot } from "./object-store-features.js";

// Window → design matrix → walk-forward split, shared by fit and evaluate. Evaluate rebuilds it
// from the same params instead of receiving it from fit, so that the DAG's evaluate step (its
// own pod, its own process) scores exactly the rows fit held out.

export interface LabelledRows {
  rows: Int32Array;
  values: Float64Array;
  /** 1 = up (label +1), 0 = flat or down. */
  target: Float32Array;
}

export interface TickTrainingData {
  window: TrainingWindow;
  matrix: TickDesignMatrix;
  labelHorizonBars: number;
  train: LabelledRows;
  validation: LabelledRows;
  test: LabelledRows;
  trainingPositiveRate: number;
  /** Rows without a label (no forward window at the end of each day), dropped after the split. */
  droppedNullLabels: number;
  purgedRows: number;
  /** First bar time (ms) of the validation and of the test period. */
  validationStart: number;
  testStart: number;
}

function labelled(matrix: TickDesignMatrix, indices: Int32Array): LabelledRows & { dropped: number } {
  const { rows, dropped } = keepRows(indices, matrix.labelValid);
  return { rows, values: selectRows(matrix, rows), target: upTarget(matrix, rows), dropped };
}

function isoTime(milliseconds: number): string {
  return new Date(milliseconds).toISOString();
}

/** Reads the window and splits it; no tracking (the DAG's validate step runs this alone). */
export async function readTickTrainingData(params: TickParams, reporter: Reporter): Promise<TickTrainingData> {
  // An s3:// features root is mirrored for the window's partitions while they are read (object-store-features.ts).
  const { window, matrix } = await withFeaturesRoot(params.features_dir, params, async (root, display) => {
    const local = await resolveTrainingWindow({ ...params, features_dir: root });
    const labelHorizonBars = Number(local.partitions[0]?.manifest.feature_set.params.label_horizon_bars);
    if (!(params.purge_gap_bars >= labelHorizonBars)) {
      throw new UsageError(`--purge-gap-bars ${params.purge_gap_bars} is shorter than the label horizon of the features (${labelHorizonBars} bars): training labels would overlap the validation and test periods`);
    }
    const loaded = await loadDesignMatrix(local);
    // The tags name where the partitions live, not the temporary mirror (gone after this).
    const renamed = (directory: string) => (directory.startsWith(`${root}${path.sep}`) ? `${display}${directory.slice(root.length).split(path.sep).join("/")}` : directory);
    return { window: { ...local, featuresRoot: display, partitions: local.partitions.map((partition) => ({ ...partition, directory: renamed(partition.directory) })) }, matrix: loaded };
  });
  const labelHorizonBars = Number(window.partitions[0]?.manifest.feature_set.params.label_horizon_bars);
  const split = walkForwardSplit(matrix, { validationFraction: params.validation_fraction, testFraction: params.test_fraction, purgeGapBars: params.purge_gap_bars });
  const train = labelled(matrix, split.train);
  const validation = labelled(matrix, split.validation);
  const test = labelled(matrix, split.test);
  for (const [name, rows] of Object.entries({ train, validation, test })) {
    if (rows.rows.length === 0) throw new DataError(`the ${name} period of ${window.from}..${window.asOf} has no labelled rows: widen --window`);
  }
  const data: TickTrainingData = {
    window, matrix, labelHorizonBars, train, validation, test,
    trainingPositiveRate: positiveRate(train.target),
    droppedNullLabels: train.dropped + validation.dropped + test.dropped,
    purgedRows: split.purgedRows,
    validationStart: split.validationStart,
    testStart: split.testStart,
  };
  reporter.log.info(
    {
      from: window.from, as_of: window.asOf, partitions: window.partitions.length, rows: matrix.rowCount, features: matrix.featureNames.length,
      train: train.rows.length, validation: validation.rows.length, test: test.rows.length, purged: split.purgedRows, null_labels: data.droppedNullLabels,
      validation_start: isoTime(split.validationStart), test_start: isoTime(split.testStart),
    },
    "training window split walk-forward",
  );
  return data;
}

/** What identifies the data of a run: MLflow tags, and the validate step's result. */
export function dataTags(data: TickTrainingData): Record<string, string> {
  const { window, matrix } = data;
  return {
    [DATA_VERSION_TAG]: window.dataVersion,
    "data.features_dir": window.featuresRoot,
    "data.from": window.from,
    "data.as_of": window.asOf,
    "data.dates": window.partitions.map((partition) => partition.date).join(","),
    "data.partitions": String(window.partitions.length),
    "data.feature_set_hash": window.featureSetHash,
    "data.features": matrix.featureNames.join(","),
    "data.symbols": matrix.symbols.join(","),
    "data.rows": String(matrix.rowCount),
    "data.rows_train": String(data.train.rows.length),
    "data.rows_validation": String(data.validation.rows.length),
    "data.rows_test": String(data.test.rows.length),
    "data.rows_null_label_dropped": String(data.droppedNullLabels),
    "data.rows_purged": String(data.purgedRows),
    "data.validation_start": isoTime(data.validationStart),
    "data.test_start": isoTime(data.testStart),
  };
}

const READ_KEY = "tick.read";

/** Before the run exists: the window (gaps, feature-set hash, purge gap) is read and checked once. */
export async function preflightTick(params: TickParams, reporter: Reporter, once: Once): Promise<void> {
  await once(READ_KEY, () => readTickTrainingData(params, reporter));
}

async function buildTrainingData(context: WorkflowContext<TickParams>): Promise<TickTrainingData> {
  const data = await context.once(READ_KEY, () => readTickTrainingData(context.params, context.reporter));
  await context.setTags(dataTags(data));
  return data;
}

/** The training window, read once per run: fit and evaluate of one process share it. */
export function tickTrainingData(context: WorkflowContext<TickParams>): Promise<TickTrainingData> {
  return context.once("tick.trainingData", () => buildTrainingData(context));
}
