import type { TopLevelSpec } from "vega-lite";
import type { ReportSet } from "./report-set.js";

// The tick workflow's report for a binary classifier, named like MLflow's default evaluator's:
// roc_curve_plot.png and calibration_curve_plot.png, each with the JSON it was drawn from.

export interface RocPoint {
  /** Predicted positive when score >= threshold (Infinity: nothing is). */
  threshold: number;
  false_positive_rate: number;
  true_positive_rate: number;
}

/**
 * ROC points from the highest threshold down, tied scores taken together, dropping the points
 * that lie on a straight line between their neighbours (sklearn's drop_intermediate): the
 * curve and its area are unchanged, the file stays small.
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): { points: RocPoint[]; auc: number } {
  const count = scores.length;
  if (labels.length !== count) throw new RangeError(`${count} scores for ${labels.length} labels`);
  const order = Array.from({ length: count }, (_, index) => index).sort((a, b) => scores[b]! - scores[a]!);
  let positives = 0;
  for (let index = 0; index < count; index += 1) if (labels[index] === 1) positives += 1;
  const negatives = count - positives;
  const truePositives = [0];
  const falsePositives = [0];
  const thresholds = [Number.POSITIVE_INFINITY];
  for (let start = 0; start < count; ) {
    let end = start;
    let tp = truePositives.at(-1)!;
    let fp = falsePositives.at(-1)!;
    while (end < count && scores[order[end]!] === scores[order[start]!]) {
      if (labels[order[end]!] === 1) tp += 1;
      else fp += 1;
      end += 1;
    }
    truePositives.push(tp);
    falsePositives.push(fp);
    thresholds.push(scores[order[start]!]!);
    start = end;
  }
  const kept = thresholds
    .map((_, index) => index)
    .filter((index) => {
      if (index === 0 || index === thresholds.length - 1) return true;
      const bends = (values: number[]) => values[index - 1]! - 2 * values[index]! + values[index + 1]! !== 0;
      return bends(truePositives) || bends(falsePositives);
    });
  const points = kept.map((index) => ({
    threshold: thresholds[index]!,
    false_positive_rate: negatives > 0 ? falsePositives[index]! / negatives : Number.NaN,
    true_positive_rate: positives > 0 ? truePositives[index]! / positives : Number.NaN,
  }));
  return { points, auc: trapezoidArea(points) };
}

function trapezoidArea(points: readonly RocPoint[]): number {
  let area = 0;
  for (let index = 1; index < points.length; index += 1) {
    const [left, right] = [points[index - 1]!, points[index]!];
    area += ((right.false_positive_rate - left.false_positive_rate) * (right.true_positive_rate + left.true_positive_rate)) / 2;
  }
  return area;
}

export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  mean_predicted: number;
  fraction_positive: number;
}

/** Uniform bins over [0, 1] (sklearn's calibration_curve, strategy "uniform"); empty bins are left out. */
export function calibrationCurve(probabilities: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): CalibrationBin[] {
  const sums = new Float64Array(bins);
  const positives = new Float64Array(bins);
  const counts = new Float64Array(bins);
  for (let index = 0; index < probabilities.length; index += 1) {
    const probability = probabilities[index]!;
    const bin = Math.min(bins - 1, Math.max(0, Math.floor(probability * bins)));
    sums[bin]! += probability;
    counts[bin]! += 1;
    if (labels[index] === 1) positives[bin]! += 1;
  }
  const result: CalibrationBin[] = [];
  for (let bin = 0; bin < bins; bin += 1) {
    if (counts[bin] === 0) continue;
    result.push({ lower: bin / bins, upper: (bin + 1) / bins, count: counts[bin]!, mean_predicted: sums[bin]! / counts[bin]!, fraction_positive: positives[bin]! / counts[bin]! });
  }
  return result;
}

const DIAGONAL = { data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: { type: "line", strokeDash: [4, 4], color: "#999" }, encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } } } as const;

function rocSpec(points: readonly RocPoint[], auc: number): TopLevelSpec {
  return {
    title: { text: "ROC curve (test period)", subtitle: `AUC = ${auc.toFixed(4)}` },
    width: 360,
    height: 360,
    layer: [
      DIAGONAL,
      {
        data: { values: points.map(({ false_positive_rate, true_positive_rate }) => ({ false_positive_rate, true_positive_rate })) },
        mark: { type: "line", color: "#4c78a8", strokeWidth: 2 },
        encoding: {
          x: { field: "false_positive_rate", type: "quantitative", title: "False positive rate", scale: { domain: [0, 1] } },
          y: { field: "true_positive_rate", type: "quantitative", title: "True positive rate", scale: { domain: [0, 1] } },
        },
      },
    ],
  } as TopLevelSpec;
}

function calibrationSpec(bins: readonly CalibrationBin[]): TopLevelSpec {
  return {
    title: { text: "Calibration curve (test period)", subtitle: "fraction of up moves per bin of predicted probability" },
    width: 360,
    height: 360,
    layer: [
      DIAGONAL,
      {
        data: { values: bins },
        mark: { type: "line", point: { size: 50, color: "#f58518" }, color: "#f58518", strokeWidth: 2 },
        encoding: {
          x: { field: "mean_predicted", type: "quantitative", title: "Mean predicted probability", scale: { domain: [0, 1] } },
          y: { field: "fraction_positive", type: "quantitative", title: "Fraction of positives", scale: { domain: [0, 1] } },
        },
      },
    ],
  } as TopLevelSpec;
}

export async function writeBinaryReports(reports: ReportSet, probabilities: ArrayLike<number>, labels: ArrayLike<number>): Promise<void> {
  const roc = rocCurve(probabilities, labels);
  // JSON has no Infinity: the first point's threshold is written as null.
  await reports.json("roc_curve.json", { auc: roc.auc, points: roc.points.map((point) => ({ ...point, threshold: Number.isFinite(point.threshold) ? point.threshold : null })) });
  await reports.chart("roc_curve_plot.png", rocSpec(roc.points, roc.auc));
  const calibration = calibrationCurve(probabilities, labels);
  await reports.json("calibration_curve.json", { strategy: "uniform", bins: calibration });
  await reports.chart("calibration_curve_plot.png", calibrationSpec(calibration));
}
