// Forecast errors on the held-out period. The model and the seasonal-naive baselines are scored
// on the same rows (those where every baseline has a value), so the skill compares like with like.

export interface ErrorMetrics {
  mae: number;
  rmse: number;
  /** Mean absolute percentage error as a fraction (0.25 = 25 %), over targets that are not 0. */
  mape: number;
}

export function errorMetrics(targets: ArrayLike<number>, predictions: ArrayLike<number>, rows: readonly number[]): ErrorMetrics {
  let absolute = 0;
  let squared = 0;
  let percentage = 0;
  let percentageRows = 0;
  for (const row of rows) {
    const error = predictions[row]! - targets[row]!;
    absolute += Math.abs(error);
    squared += error * error;
    if (targets[row] !== 0) {
      percentage += Math.abs(error / targets[row]!);
      percentageRows += 1;
    }
  }
  const count = rows.length;
  return { mae: absolute / count, rmse: Math.sqrt(squared / count), mape: percentageRows > 0 ? percentage / percentageRows : Number.NaN };
}

/** 1 − RMSE_model / RMSE_best_baseline: above 0 means the model beats every seasonal-naive forecast. */
export function skillScore(modelRmse: number, baselineRmses: readonly number[]): number {
  return 1 - modelRmse / Math.min(...baselineRmses);
}
