import { InterruptedError } from "../core/errors.js";
import { Dataset, train, type Booster, type DatasetOptions, type IterationReport, type LightGBMParameters } from "../lightgbm/index.js";
import type { Reporter } from "../runtime/reporter.js";

// The one LightGBM fit body of the LightGBM workflows (power, tick): training and validation
// sets binned alike, boosting with early stopping on the validation set under a progress bar,
// stopped between rounds by SIGTERM (the run is then marked KILLED and nothing is saved).

export interface LightGBMFitInput {
  parameters: LightGBMParameters;
  train: Omit<DatasetOptions, "parameters" | "reference">;
  validation: Omit<DatasetOptions, "parameters" | "reference">;
  /** The validation set's name in reports (metric keys such as validation_auc). */
  validationName: string;
  numIterations: number;
  earlyStoppingRounds: number;
  reporter: Reporter;
  signal: AbortSignal;
  /** Extra fields the progress bar shows after each round (power: the validation RMSE). */
  progressFields?: (report: IterationReport) => Record<string, string>;
}

export interface LightGBMFit {
  /** The caller disposes it. */
  booster: Booster;
  bestIteration: number;
  /** One report per round trained. */
  history: IterationReport[];
  /** Wall time of building the data sets and boosting. */
  seconds: number;
}

export async function fitLightGBM(input: LightGBMFitInput): Promise<LightGBMFit> {
  const { parameters, reporter, signal } = input;
  const started = performance.now();
  const trainSet = await Dataset.fromMatrix({ ...input.train, parameters });
  const history: IterationReport[] = [];
  const progress = reporter.startProgress("boosting", input.numIterations);
  let validationSet: Dataset | undefined;
  try {
    validationSet = await Dataset.fromMatrix({ ...input.validation, parameters, reference: trainSet });
    const result = await train({
      parameters,
      train: trainSet,
      valid: [validationSet],
      validNames: [input.validationName],
      numIterations: input.numIterations,
      earlyStoppingRounds: input.earlyStoppingRounds,
      signal,
      onIteration: (report) => {
        history.push(report);
        progress.update(report.iteration, input.progressFields?.(report));
      },
    });
    if (result.aborted || signal.aborted) {
      result.booster.dispose();
      throw new InterruptedError(String(signal.reason ?? "signal"));
    }
    return { booster: result.booster, bestIteration: result.bestIteration, history, seconds: (performance.now() - started) / 1000 };
  } finally {
    progress.stop();
    trainSet.dispose();
    validationSet?.dispose();
  }
}
