import { Booster } from "./booster.js";
import type { Dataset } from "./dataset.js";
import { EarlyStoppingTracker, isHigherBetter } from "./early-stopping.js";
import type { LightGBMParameters } from "./parameters.js";

export interface Evaluation {
  /** "training" or the validation set's name. */
  dataName: string;
  metricName: string;
  value: number;
}

export interface IterationReport {
  /** 1-based boosting round just finished. */
  iteration: number;
  evaluations: Evaluation[];
}

export interface TrainOptions {
  parameters: LightGBMParameters;
  train: Dataset;
  /** Validation sets, each built with `reference: train`. */
  valid?: readonly Dataset[];
  /** Names for the validation sets in reports; default valid_0, valid_1, ... as in Python. */
  validNames?: readonly string[];
  /** Boosting rounds; default `parameters.num_iterations`, else LightGBM's default 100. */
  numIterations?: number;
  /** Stop when a validation metric has not improved for this many rounds. Needs `valid`. */
  earlyStoppingRounds?: number;
  /** Also compute metrics on the training data each round (costs time, as in Python). */
  evaluateTraining?: boolean;
  /** Called after every round with that round's metrics. */
  onIteration?: (report: IterationReport) => void;
  /**
   * Stops boosting between rounds once aborted (SIGTERM from Airflow or Kubernetes). Boosting
   * yields to the event loop every YIELD_INTERVAL_MS so that signal handlers get to run at all.
   */
  signal?: AbortSignal;
}

export interface TrainResult {
  booster: Booster;
  /** Best iteration under early stopping, else the number of rounds trained. */
  bestIteration: number;
  /** Metrics of the last round. */
  lastEvaluations: Evaluation[];
  /** True when `signal` stopped boosting before the last round. */
  aborted: boolean;
}

const LIGHTGBM_DEFAULT_NUM_ITERATIONS = 100;
// Short enough that a SIGTERM is acted on well within Kubernetes' default 30 s grace period, long
// enough that yielding costs nothing measurable (one setImmediate per 50 ms of boosting).
const YIELD_INTERVAL_MS = 50;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Trains a booster the way Python's `lightgbm.train` does: `numIterations` rounds of
 * LGBM_BoosterUpdateOneIter, metrics from LGBM_BoosterGetEval after each, optional early
 * stopping on the validation sets. Under early stopping every tree is kept and
 * `booster.bestIteration` is set, so predict and save use the best iteration by default.
 * The caller disposes the returned booster and the datasets.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const valid = options.valid ?? [];
  const validNames = valid.map((_, index) => options.validNames?.[index] ?? `valid_${index}`);
  const numIterations = options.numIterations ?? options.parameters.num_iterations ?? LIGHTGBM_DEFAULT_NUM_ITERATIONS;
  if (!Number.isInteger(numIterations) || numIterations < 0) {
    throw new RangeError(`numIterations must be a non-negative integer, got ${numIterations}`);
  }
  if (options.earlyStoppingRounds !== undefined && valid.length === 0) {
    throw new RangeError("earlyStoppingRounds needs at least one validation set in `valid`");
  }
  // num_iterations is driven from here, round by round; LightGBM must not see it twice.
  const { num_iterations: _ignored, ...boosterParameters } = options.parameters;
  const booster = Booster.create(options.train, boosterParameters);
  try {
    for (const dataset of valid) booster.addValidData(dataset);
    const metricNames = booster.evalNames();
    // Data sets whose metrics are read each round: index 0 is the training data.
    const evaluated: { index: number; name: string }[] = [
      ...(options.evaluateTraining ? [{ index: 0, name: "training" }] : []),
      ...validNames.map((name, position) => ({ index: position + 1, name })),
    ];
    const tracker = options.earlyStoppingRounds === undefined ? undefined
      : new EarlyStoppingTracker(
        options.earlyStoppingRounds,
        validNames.flatMap(() => metricNames.map(isHigherBetter)),
      );
    let lastEvaluations: Evaluation[] = [];
    let roundsTrained = 0;
    let lastYield = performance.now();
    for (let iteration = 1; iteration <= numIterations; iteration += 1) {
      if (options.signal && performance.now() - lastYield >= YIELD_INTERVAL_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
      if (options.signal?.aborted) {
        booster.bestIteration = tracker ? tracker.bestIteration() : 0;
        return { booster, bestIteration: tracker ? tracker.bestIteration() : roundsTrained, lastEvaluations, aborted: true };
      }
      const finished = booster.updateOneIteration();
      if (finished) break; // no split left: further rounds would add nothing
      roundsTrained = iteration;
      const valuesByData = evaluated.map(({ index }) => booster.evaluate(index));
      lastEvaluations = evaluated.flatMap(({ name }, position) =>
        metricNames.map((metricName, metricIndex) => ({
          dataName: name, metricName, value: valuesByData[position]?.[metricIndex] as number,
        })));
      options.onIteration?.({ iteration, evaluations: lastEvaluations });
      if (tracker) {
        // Early stopping looks at validation sets only, never at the training data.
        const validScores = valuesByData.slice(options.evaluateTraining ? 1 : 0).flatMap((values) => [...values]);
        const stopAt = tracker.update(iteration, validScores);
        if (stopAt !== undefined) {
          booster.bestIteration = stopAt;
          return { booster, bestIteration: stopAt, lastEvaluations, aborted: false };
        }
      }
    }
    booster.bestIteration = tracker ? tracker.bestIteration() : 0;
    return { booster, bestIteration: tracker ? tracker.bestIteration() : roundsTrained, lastEvaluations, aborted: false };
  } catch (error) {
    booster.dispose();
    throw error;
  }
}
