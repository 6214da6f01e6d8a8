/**
 * Metrics where larger is better, by name prefix, as Python lightgbm decides it
 * (`Booster.__inner_eval`): auc, ndcg@k, map@k, average_precision, auc_mu.
 */
const HIGHER_IS_BETTER_PREFIXES = ["auc", "ndcg@", "map@", "average_precision"];

export function isHigherBetter(metricName: string): boolean {
  return HIGHER_IS_BETTER_PREFIXES.some((prefix) => metricName.startsWith(prefix));
}

/**
 * Tracks the best score of every (validation set, metric) pair. Training stops when one of
 * them has not improved for `stoppingRounds` rounds, the rule of Python's `early_stopping`
 * callback (with first_metric_only=false, min_delta=0).
 */
export class EarlyStoppingTracker {
  private readonly bestScores: number[] = [];
  private readonly bestIterations: number[] = [];

  constructor(
    readonly stoppingRounds: number,
    private readonly higherBetter: readonly boolean[],
  ) {
    if (!Number.isInteger(stoppingRounds) || stoppingRounds <= 0) {
      throw new RangeError(`earlyStoppingRounds must be a positive integer, got ${stoppingRounds}`);
    }
  }

  /**
   * Records the scores after 1-based `iteration`. Returns the best iteration when training
   * should stop, else undefined.
   */
  update(iteration: number, scores: readonly number[]): number | undefined {
    for (let index = 0; index < scores.length; index += 1) {
      const score = scores[index] as number;
      const best = this.bestScores[index];
      const improved = best === undefined
        || (this.higherBetter[index] ? score > best : score < best);
      if (improved) {
        this.bestScores[index] = score;
        this.bestIterations[index] = iteration;
      } else if (iteration - (this.bestIterations[index] as number) >= this.stoppingRounds) {
        return this.bestIterations[index];
      }
    }
    return undefined;
  }

  /** Best iteration of the first tracked score (Python reports the same at the end of training). */
  bestIteration(): number {
    return this.bestIterations[0] ?? 0;
  }
}
