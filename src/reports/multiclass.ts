import type { TopLevelSpec } from "vega-lite";
import type { ReportSet } from "./report-set.js";

// The CNN workflows' evaluation report, named like MLflow's default evaluator's artifacts:
// confusion_matrix.png (+ .json), per_class_metrics.json, and a grid of the test images the
// model got wrong with the highest confidence (confidently_wrong_images.png + .json).

export interface PerClassMetrics {
  class: string;
  /** Of the images predicted as this class, the share that are; 0 when none is (sklearn's zero_division=0). */
  precision: number;
  recall: number;
  f1: number;
  /** Test images of this class. */
  support: number;
}

/** matrix[true][predicted] counts. */
export function confusionMatrix(labels: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): number[][] {
  if (labels.length !== predicted.length) throw new RangeError(`${labels.length} labels for ${predicted.length} predictions`);
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let index = 0; index < labels.length; index += 1) matrix[labels[index]!]![predicted[index]!]! += 1;
  return matrix;
}

export function perClassMetrics(matrix: number[][], classNames: readonly string[]): PerClassMetrics[] {
  return classNames.map((name, index) => {
    const truePositives = matrix[index]![index]!;
    const support = matrix[index]!.reduce((total, count) => total + count, 0);
    const predictedAs = matrix.reduce((total, row) => total + row[index]!, 0);
    const precision = predictedAs > 0 ? truePositives / predictedAs : 0;
    const recall = support > 0 ? truePositives / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { class: name, precision, recall, f1, support };
  });
}

/** Row-wise argmax of `probabilities` ([count × classes], row-major). */
export function argmaxRows(probabilities: ArrayLike<number>, classes: number): Int32Array {
  const count = probabilities.length / classes;
  const predicted = new Int32Array(count);
  for (let row = 0; row < count; row += 1) {
    let best = 0;
    for (let column = 1; column < classes; column += 1) if (probabilities[row * classes + column]! > probabilities[row * classes + best]!) best = column;
    predicted[row] = best;
  }
  return predicted;
}

export interface WrongPrediction {
  /** Position in the test set. */
  index: number;
  label: string;
  predicted: string;
  /** The probability the model gave its (wrong) prediction. */
  probability: number;
}

/** The `limit` misclassified images with the highest predicted probability, most confident first. */
export function confidentlyWrong(probabilities: ArrayLike<number>, labels: ArrayLike<number>, classNames: readonly string[], limit: number): WrongPrediction[] {
  const classes = classNames.length;
  const predicted = argmaxRows(probabilities, classes);
  const wrong: WrongPrediction[] = [];
  for (let index = 0; index < labels.length; index += 1) {
    if (predicted[index] === labels[index]) continue;
    wrong.push({ index, label: classNames[labels[index]!]!, predicted: classNames[predicted[index]!]!, probability: probabilities[index * classes + predicted[index]!]! });
  }
  return wrong.sort((a, b) => b.probability - a.probability || a.index - b.index).slice(0, limit);
}

/** One test image as pixels: `side × side`, `channels` 1 (grey) or 3 (RGB), values 0–255. */
export interface ImagePixels {
  side: number;
  channels: 1 | 3;
  /** Row-major, channel-last (HWC). */
  pixels: ArrayLike<number>;
}

function confusionMatrixSpec(matrix: number[][], classNames: readonly string[]): TopLevelSpec {
  const values = matrix.flatMap((row, actual) => row.map((count, predicted) => ({ actual: classNames[actual]!, predicted: classNames[predicted]!, count })));
  const largest = Math.max(1, ...values.map((value) => value.count));
  const order = [...classNames];
  return {
    title: "Confusion matrix (test set)",
    width: 360,
    height: 360,
    data: { values },
    encoding: {
      x: { field: "predicted", type: "nominal", sort: order, title: "Predicted label" },
      y: { field: "actual", type: "nominal", sort: order, title: "True label" },
    },
    layer: [
      { mark: "rect", encoding: { color: { field: "count", type: "quantitative", scale: { scheme: "blues" }, title: "Images" } } },
      {
        mark: { type: "text", fontSize: 10 },
        encoding: {
          text: { field: "count", type: "quantitative" },
          color: { condition: { test: `datum.count > ${largest / 2}`, value: "white" }, value: "black" },
        },
      },
    ],
  };
}

/** The images as raster marks: one square per pixel, coloured from the pixel values, one panel per image. */
function wrongImagesSpec(wrong: readonly WrongPrediction[], images: readonly ImagePixels[]): TopLevelSpec {
  const values = wrong.flatMap((prediction, panel) => {
    const image = images[panel]!;
    // Faceted by caption: the test-set index keeps two look-alike mistakes in two panels.
    const caption = `#${prediction.index}: ${prediction.label} → ${prediction.predicted} (${prediction.probability.toFixed(3)})`;
    const cells = [];
    for (let row = 0; row < image.side; row += 1) {
      for (let column = 0; column < image.side; column += 1) {
        const at = (row * image.side + column) * image.channels;
        const [red, green, blue] = image.channels === 1 ? [image.pixels[at]!, image.pixels[at]!, image.pixels[at]!] : [image.pixels[at]!, image.pixels[at + 1]!, image.pixels[at + 2]!];
        cells.push({ caption, panel, row, column, color: `rgb(${Math.round(red)},${Math.round(green)},${Math.round(blue)})` });
      }
    }
    return cells;
  });
  return {
    title: { text: "Most confidently wrong test images", subtitle: "#test image: true label → predicted label (predicted probability)" },
    data: { values },
    facet: { field: "caption", type: "nominal", sort: { field: "panel" }, title: null, header: { labelFontSize: 11, labelLimit: 0 } },
    columns: 4,
    spec: {
      width: IMAGE_PANEL_SIDE,
      height: IMAGE_PANEL_SIDE,
      // Each square stroked in its own colour: no anti-aliased seams between neighbouring pixels.
      mark: { type: "rect", strokeWidth: 0.5 },
      encoding: {
        x: { field: "column", type: "ordinal", axis: null, scale: { paddingInner: 0, paddingOuter: 0 } },
        y: { field: "row", type: "ordinal", axis: null, scale: { paddingInner: 0, paddingOuter: 0 } },
        color: { field: "color", type: "nominal", scale: null, legend: null },
        stroke: { field: "color", type: "nominal", scale: null, legend: null },
      },
    },
  };
}

export const CONFIDENTLY_WRONG_IMAGES = 16;
/** Chart pixels per image panel, whatever the image size. */
const IMAGE_PANEL_SIDE = 150;

export interface MulticlassEvaluation {
  /** [count × classes] probabilities, row-major. */
  probabilities: ArrayLike<number>;
  labels: ArrayLike<number>;
  classNames: readonly string[];
  image(index: number): ImagePixels;
}

export async function writeMulticlassReports(reports: ReportSet, evaluation: MulticlassEvaluation): Promise<void> {
  const { probabilities, labels, classNames } = evaluation;
  const classes = classNames.length;
  const matrix = confusionMatrix(labels, argmaxRows(probabilities, classes), classes);
  await reports.json("confusion_matrix.json", { labels: classNames, matrix, rows: "true label", columns: "predicted label" });
  await reports.chart("confusion_matrix.png", confusionMatrixSpec(matrix, classNames));
  await reports.json("per_class_metrics.json", perClassMetrics(matrix, classNames));
  const wrong = confidentlyWrong(probabilities, labels, classNames, CONFIDENTLY_WRONG_IMAGES);
  await reports.json("confidently_wrong_images.json", wrong);
  if (wrong.length > 0) await reports.chart("confidently_wrong_images.png", wrongImagesSpec(wrong, wrong.map((prediction) => evaluation.image(prediction.index))));
}
