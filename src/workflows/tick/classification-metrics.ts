// Binary classification metrics, written out so that their tie and edge-case behaviour is ours
// to test: the gate compares AUCs across runs, and a direction model's scores tie often (few
// trees, few distinct leaf values).

/**
 * Area under the ROC curve: the probability that a random positive scores above a random
 * negative, counting a tie as one half (Mann–Whitney U with average ranks for tied scores).
 * NaN when either class is absent, since the AUC is undefined then.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const count = scores.length;
  if (labels.length !== count) throw new RangeError(`${count} scores for ${labels.length} labels`);
  for (let index = 0; index < count; index += 1) if (Number.isNaN(scores[index])) throw new RangeError(`score ${index} is NaN`);
  const order = Array.from({ length: count }, (_, index) => index).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < count; ) {
    let end = start + 1;
    while (end < count && scores[order[end] as number] === scores[order[start] as number]) end += 1;
    // Ranks start..end-1 (0-based) share their average, 1-based: (start + 1 + end) / 2.
    const averageRank = (start + 1 + end) / 2;
    for (let position = start; position < end; position += 1) {
      if ((labels[order[position] as number] as number) === 1) {
        positives += 1;
        positiveRankSum += averageRank;
      }
    }
    start = end;
  }
  const negatives = count - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** sklearn's clipping, so that one confident miss costs a large but finite loss. */
const PROBABILITY_EPSILON = 1e-15;

/** Mean negative log-likelihood of 0/1 labels under predicted P(label = 1). */
export function logLoss(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (probabilities.length !== labels.length) throw new RangeError(`${probabilities.length} probabilities for ${labels.length} labels`);
  if (labels.length === 0) return Number.NaN;
  let total = 0;
  for (let index = 0; index < labels.length; index += 1) {
    const probability = Math.min(1 - PROBABILITY_EPSILON, Math.max(PROBABILITY_EPSILON, probabilities[index] as number));
    total -= labels[index] === 1 ? Math.log(probability) : Math.log(1 - probability);
  }
  return total / labels.length;
}

/** Share of rows where (P >= threshold) matches the 0/1 label. */
export function accuracy(probabilities: ArrayLike<number>, labels: ArrayLike<number>, threshold = 0.5): number {
  if (labels.length === 0) return Number.NaN;
  let correct = 0;
  for (let index = 0; index < labels.length; index += 1) if (((probabilities[index] as number) >= threshold ? 1 : 0) === labels[index]) correct += 1;
  return correct / labels.length;
}

export function positiveRate(labels: ArrayLike<number>): number {
  let positives = 0;
  for (let index = 0; index < labels.length; index += 1) if (labels[index] === 1) positives += 1;
  return labels.length === 0 ? Number.NaN : positives / labels.length;
}

export interface BinaryMetrics {
  auc: number;
  log_loss: number;
  accuracy: number;
  /** Always predicting the training set's majority class. */
  baseline_accuracy: number;
  /** Always predicting the training set's positive rate (the prior). */
  baseline_log_loss: number;
  positive_rate: number;
  rows: number;
}

/**
 * Metrics of `probabilities` against `labels`, with the baselines a model must beat. The
 * baselines use the *training* prior, as a model would have to: the test prior is not known
 * when the model is deployed.
 */
export function binaryMetrics(probabilities: ArrayLike<number>, labels: ArrayLike<number>, trainingPositiveRate: number): BinaryMetrics {
  const prior = Array.from({ length: labels.length }, () => trainingPositiveRate);
  return {
    auc: rocAuc(probabilities, labels),
    log_loss: logLoss(probabilities, labels),
    accuracy: accuracy(probabilities, labels),
    baseline_accuracy: accuracy(Array.from({ length: labels.length }, () => (trainingPositiveRate >= 0.5 ? 1 : 0)), labels),
    baseline_log_loss: logLoss(prior, labels),
    positive_rate: positiveRate(labels),
    rows: labels.length,
  };
}
