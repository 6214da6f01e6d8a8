import { describe, expect, it } from "vitest";
import { seededRandomSfc32 as seededRandom } from "../../../src/data/random.js";
import { accuracy, binaryMetrics, logLoss, rocAuc } from "../../../src/workflows/tick/classification-metrics.js";

/** AUC by definition: over all positive × negative pairs, 1 for a win, 1/2 for a tie. */
function pairwiseAuc(scores: number[], labels: number[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((positive, i) => {
    if (labels[i] !== 1) return;
    scores.forEach((negative, j) => {
      if (labels[j] !== 0) return;
      pairs += 1;
      wins += positive > negative ? 1 : positive === negative ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

describe("rocAuc", () => {
  it("is 1 for a perfect ranking, 0 for a reversed one, 0.5 when every score ties", () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
  });

  it("counts a tied positive–negative pair as one half", () => {
    // Pairs (pos, neg): (0.4 vs 0.1) win, (0.4 vs 0.4) tie, (0.8 vs 0.1) win, (0.8 vs 0.4) win → 3.5 / 4.
    expect(rocAuc([0.1, 0.4, 0.4, 0.8], [0, 0, 1, 1])).toBe(0.875);
    // (0.5 vs 0.5) tie, (0.5 vs 0.1) win, (0.2 vs 0.5) loss, (0.2 vs 0.1) win → 2.5 / 4, as
    // sklearn.metrics.roc_auc_score([0, 1, 1, 0], [0.5, 0.5, 0.2, 0.1]) gives.
    expect(rocAuc([0.5, 0.5, 0.2, 0.1], [0, 1, 1, 0])).toBe(0.625);
  });

  it("matches the pairwise definition on random data with many ties", () => {
    const random = seededRandom(11);
    const scores = Array.from({ length: 400 }, () => Math.round(random() * 10) / 10);
    const labels = scores.map((score) => (random() < 0.3 + 0.4 * score ? 1 : 0));
    expect(rocAuc(scores, labels)).toBeCloseTo(pairwiseAuc(scores, labels), 12);
  });

  it("does not depend on the row order, and is NaN with one class", () => {
    const scores = [0.3, 0.7, 0.7, 0.2, 0.9];
    const labels = [0, 1, 0, 0, 1];
    expect(rocAuc([...scores].reverse(), [...labels].reverse())).toBe(rocAuc(scores, labels));
    expect(rocAuc([0.1, 0.2], [1, 1])).toBeNaN();
    expect(() => rocAuc([0.1, Number.NaN], [0, 1])).toThrow(/NaN/);
  });
});

describe("logLoss, accuracy and the baselines", () => {
  it("computes the log loss with clipping and the accuracy at 0.5", () => {
    expect(logLoss([0.8, 0.3], [1, 0])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.7)) / 2, 12);
    expect(logLoss([0, 1], [1, 0])).toBeCloseTo(-Math.log(1e-15), 2); // clipped: large, finite
    expect(accuracy([0.8, 0.3, 0.6, 0.5], [1, 0, 0, 1])).toBe(0.75);
  });

  it("scores the prior baseline with the training positive rate", () => {
    const labels = [1, 0, 0, 0];
    const metrics = binaryMetrics([0.9, 0.1, 0.2, 0.3], labels, 0.4);
    expect(metrics.baseline_accuracy).toBe(0.75); // training majority is 0
    expect(metrics.baseline_log_loss).toBeCloseTo(-(Math.log(0.4) + 3 * Math.log(0.6)) / 4, 12);
    expect(metrics.positive_rate).toBe(0.25);
    expect(metrics.auc).toBe(1);
    expect(metrics.rows).toBe(4);
  });
});
