import { afterEach, describe, expect, it } from "vitest";
import { Dataset, LightGBMError, train, type Booster, type IterationReport } from "../../src/lightgbm/index.js";
import { makeBinaryProblem, makeRegressionProblem, meanSquaredError, sliceRows } from "./fixtures.js";

const disposables: (Dataset | Booster)[] = [];
afterEach(() => {
  for (const item of disposables.splice(0)) item.dispose();
});

async function trainAndValidData(problem: ReturnType<typeof makeRegressionProblem>, split: number) {
  const trainData = await Dataset.fromMatrix({ ...sliceRows(problem, 0, split) });
  const validData = await Dataset.fromMatrix({ ...sliceRows(problem, split, problem.numRows), reference: trainData });
  disposables.push(validData, trainData);
  return { trainData, validData };
}

describe("train", () => {
  it("reduces l2 on a regression problem, round after round", async () => {
    const problem = makeRegressionProblem(2000, 5);
    const { trainData, validData } = await trainAndValidData(problem, 1500);
    const reports: IterationReport[] = [];
    const result = await train({
      parameters: { objective: "regression", num_leaves: 15, learning_rate: 0.1, seed: 7, deterministic: true },
      train: trainData, valid: [validData], numIterations: 40, onIteration: (report) => reports.push(report),
    });
    disposables.push(result.booster);
    expect(reports).toHaveLength(40);
    expect(reports[0]?.evaluations[0]).toMatchObject({ dataName: "valid_0", metricName: "l2" });
    const first = reports[0]?.evaluations[0]?.value as number;
    const last = reports[39]?.evaluations[0]?.value as number;
    expect(last).toBeLessThan(first * 0.2);
    expect(result.booster.currentIteration()).toBe(40);
    expect(result.bestIteration).toBe(40);
  });

  it("reduces binary log loss and reports training metrics when asked", async () => {
    const problem = makeBinaryProblem(2000, 5);
    const { trainData, validData } = await trainAndValidData(problem, 1500);
    const reports: IterationReport[] = [];
    const result = await train({
      parameters: { objective: "binary", metric: ["binary_logloss", "auc"], num_leaves: 15, seed: 3 },
      train: trainData, valid: [validData], validNames: ["holdout"], numIterations: 30, evaluateTraining: true,
      onIteration: (report) => reports.push(report),
    });
    disposables.push(result.booster);
    const names = reports[0]?.evaluations.map((evaluation) => `${evaluation.dataName}:${evaluation.metricName}`);
    expect(names).toEqual(["training:binary_logloss", "training:auc", "holdout:binary_logloss", "holdout:auc"]);
    const holdoutLoss = (report: IterationReport | undefined) => report?.evaluations[2]?.value as number;
    expect(holdoutLoss(reports[29])).toBeLessThan(holdoutLoss(reports[0]) * 0.7);
    expect(reports[29]?.evaluations[3]?.value).toBeGreaterThan(0.9);
  });

  it("stops early and keeps the best iteration for predict and save", async () => {
    // Pure noise labels: the validation loss is best after a few rounds and then gets worse.
    const problem = makeRegressionProblem(1200, 5);
    const noisy = { ...problem, labels: problem.labels.map((_, index) => Math.sin(index * 12.9898) * 43758.5453 % 1) };
    const { trainData, validData } = await trainAndValidData(noisy, 800);
    let roundsSeen = 0;
    const result = await train({
      parameters: { objective: "regression", num_leaves: 31, learning_rate: 0.3, min_data_in_leaf: 5 },
      train: trainData, valid: [validData], numIterations: 200, earlyStoppingRounds: 5,
      onIteration: () => { roundsSeen += 1; },
    });
    disposables.push(result.booster);
    expect(result.bestIteration).toBeGreaterThan(0);
    expect(roundsSeen).toBe(result.bestIteration + 5);
    expect(result.booster.bestIteration).toBe(result.bestIteration);
    expect(result.booster.saveModelToString()).toContain(`Tree=${result.bestIteration - 1}\n`);
    expect(result.booster.saveModelToString()).not.toContain(`Tree=${result.bestIteration}\n`);
  });

  it("needs a validation set for early stopping", async () => {
    const { trainData } = await trainAndValidData(makeRegressionProblem(100, 2), 80);
    await expect(train({ parameters: {}, train: trainData, earlyStoppingRounds: 3 }))
      .rejects.toThrow("earlyStoppingRounds needs at least one validation set in `valid`");
  });

  it("reports a bad parameter with LightGBM's message, and the module keeps working", async () => {
    const problem = makeRegressionProblem(300, 3);
    const trainData = await Dataset.fromMatrix({ ...problem });
    disposables.push(trainData);
    let failure: unknown;
    try {
      await train({ parameters: { objective: "no_such_objective" }, train: trainData, numIterations: 2 });
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(LightGBMError);
    expect((failure as LightGBMError).message).toMatch(/^LGBM_BoosterCreate failed: Unknown objective type name: no_such_objective/);
    expect((failure as LightGBMError).returnCode).toBe(-1);

    const result = await train({ parameters: { objective: "regression" }, train: trainData, numIterations: 5 });
    disposables.push(result.booster);
    const predictions = result.booster.predict(problem);
    expect(meanSquaredError(predictions, problem.labels)).toBeLessThan(meanSquaredError(new Float64Array(300), problem.labels));
  });

  it("yields to the event loop while boosting and stops between rounds once the signal aborts", async () => {
    const problem = makeRegressionProblem(2000, 5);
    const trainData = await Dataset.fromMatrix({ ...problem });
    disposables.push(trainData);
    const controller = new AbortController();
    let rounds = 0;
    // A timer can only fire if train() gives the event loop a turn: that is what lets a SIGTERM in.
    const timer = setTimeout(() => controller.abort(), 150);
    const result = await train({
      parameters: { objective: "regression", learning_rate: 0.001, min_data_in_leaf: 1 }, train: trainData, numIterations: 1_000_000,
      signal: controller.signal, onIteration: ({ iteration }) => void (rounds = iteration),
    });
    clearTimeout(timer);
    disposables.push(result.booster);
    expect(result.aborted).toBe(true);
    expect(rounds).toBeGreaterThan(0);
    expect(rounds).toBeLessThan(1_000_000);
    expect(result.bestIteration).toBe(rounds);
  });
});
