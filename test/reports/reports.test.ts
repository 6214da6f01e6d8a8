import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calibrationCurve, rocCurve, writeBinaryReports } from "../../src/reports/binary.js";
import { residualsByHour, writeForecastReports } from "../../src/reports/forecast.js";
import { featureImportance, writeFeatureImportanceReports } from "../../src/reports/importance.js";
import { confidentlyWrong, confusionMatrix, perClassMetrics, writeMulticlassReports } from "../../src/reports/multiclass.js";
import { renderChart } from "../../src/reports/render.js";
import { ReportSet } from "../../src/reports/report-set.js";
import { rocAuc } from "../../src/workflows/tick/classification-metrics.js";
import { pngFacts } from "./png.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), "podtrain-reports-"));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

/** Park–Miller: deterministic test data without a dependency. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 16807) % 2147483647) / 2147483647;
}

const readJson = async <T>(folder: string, file: string) => JSON.parse(await readFile(path.join(folder, file), "utf8")) as T;

describe("report numbers", () => {
  it("confusion matrix and per-class metrics match a hand count", () => {
    const labels = [0, 0, 0, 1, 1, 2];
    const predicted = [0, 0, 1, 1, 2, 2];
    const matrix = confusionMatrix(labels, predicted, 3);
    expect(matrix).toEqual([[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
    const metrics = perClassMetrics(matrix, ["a", "b", "c"]);
    expect(metrics.map((row) => row.support)).toEqual([3, 2, 1]);
    expect(metrics[0]).toMatchObject({ precision: 1, recall: 2 / 3 });
    expect(metrics[0]!.f1).toBeCloseTo(0.8, 12);
    expect(metrics[1]).toMatchObject({ precision: 0.5, recall: 0.5, f1: 0.5 });
    expect(metrics[2]).toMatchObject({ precision: 0.5, recall: 1 });
    // A class never predicted has precision 0, not NaN (JSON cannot hold NaN).
    expect(perClassMetrics(confusionMatrix([0, 1], [0, 0], 2), ["a", "b"])[1]).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 1 });
  });

  it("confidently wrong: only misclassified images, most confident first", () => {
    const probabilities = [0.9, 0.1, /**/ 0.2, 0.8, /**/ 0.6, 0.4, /**/ 0.05, 0.95];
    const labels = [0, 0, 1, 0];
    expect(confidentlyWrong(probabilities, labels, ["zero", "one"], 5)).toEqual([
      { index: 3, label: "zero", predicted: "one", probability: 0.95 },
      { index: 1, label: "zero", predicted: "one", probability: 0.8 },
      { index: 2, label: "one", predicted: "zero", probability: 0.6 },
    ]);
  });

  it("ROC curve: its trapezoid area is the rank AUC (ties included), from (0,0) to (1,1)", () => {
    const next = random(3);
    const labels = Array.from({ length: 2000 }, () => (next() < 0.4 ? 1 : 0));
    // Few distinct scores, as from a small LightGBM model: many ties.
    const scores = labels.map((label) => Math.round((next() + label * 0.3) * 20) / 20);
    const { points, auc } = rocCurve(scores, labels);
    expect(auc).toBeCloseTo(rocAuc(scores, labels), 12);
    expect(points[0]).toMatchObject({ false_positive_rate: 0, true_positive_rate: 0 });
    expect(points.at(-1)).toMatchObject({ false_positive_rate: 1, true_positive_rate: 1 });
    expect(points.length).toBeLessThanOrEqual(new Set(scores).size + 1);
  });

  it("calibration bins count every row and average to the overall rates", () => {
    const next = random(5);
    const probabilities = Array.from({ length: 1000 }, () => next());
    const labels = probabilities.map((probability) => (next() < probability ? 1 : 0));
    const bins = calibrationCurve(probabilities, labels, 10);
    expect(bins.reduce((total, bin) => total + bin.count, 0)).toBe(1000);
    expect(bins.reduce((total, bin) => total + bin.fraction_positive * bin.count, 0)).toBeCloseTo(labels.reduce<number>((a, b) => a + b, 0), 9);
    for (const bin of bins) {
      expect(bin.mean_predicted).toBeGreaterThanOrEqual(bin.lower);
      expect(bin.mean_predicted).toBeLessThan(bin.upper);
    }
    expect(calibrationCurve([1, 0], [1, 0], 10).map((bin) => bin.upper)).toEqual([0.1, 1]); // p = 1 is in the last bin
  });

  it("residuals by hour: count, mean and quantiles per hour; missing values skipped", () => {
    const hours = residualsByHour({ times: [0, 0, 0, 0, 0], actual: [1, 2, 3, Number.NaN, 5], model: [2, 2, 5, 1, 4], naive24h: [], naive168h: [], hourOfDay: [0, 0, 0, 0, 7] });
    expect(hours).toEqual([
      { hour: 0, count: 3, mean: 1, mae: 1, p10: 0.2, median: 1, p90: 1.8 },
      { hour: 7, count: 1, mean: -1, mae: 1, p10: -1, median: -1, p90: -1 },
    ]);
  });

  it("feature importance: sorted by gain, shares sum to 1", () => {
    const importance = featureImportance(["a", "b", "c"], [1, 3, 0]);
    expect(importance.map((row) => row.feature)).toEqual(["b", "a", "c"]);
    expect(importance.map((row) => row.share)).toEqual([0.75, 0.25, 0]);
    expect(() => featureImportance(["a"], [1, 2])).toThrow(RangeError);
  });
});

describe("rendering", () => {
  it("draws text with the packaged font (no system fonts are loaded)", async () => {
    const blank = await renderChart({ width: 200, height: 50, data: { values: [{ text: "" }] }, mark: { type: "text", fontSize: 30 }, encoding: { text: { field: "text" } }, config: { view: { stroke: null } } });
    const written = await renderChart({ width: 200, height: 50, data: { values: [{ text: "Podtrain 0123" }] }, mark: { type: "text", fontSize: 30, color: "black" }, encoding: { text: { field: "text" } }, config: { view: { stroke: null } } });
    expect((await pngFacts(blank.png)).dark).toBe(0);
    expect((await pngFacts(written.png)).dark).toBeGreaterThan(500);
  });

  it("CNN report: confusion matrix, per-class table and the wrong-image grid, drawn from their JSON", async () => {
    const folder = path.join(directory, "cnn");
    const next = random(11);
    const count = 300;
    const classes = 10;
    const labels = Array.from({ length: count }, (_, index) => index % classes);
    const probabilities = new Float32Array(count * classes);
    for (let row = 0; row < count; row += 1) {
      let total = 0;
      for (let column = 0; column < classes; column += 1) total += probabilities[row * classes + column] = next() + (column === labels[row] ? 1.5 * next() : 0);
      for (let column = 0; column < classes; column += 1) probabilities[row * classes + column]! /= total;
    }
    const reports = new ReportSet(folder);
    // Image i is black with one white pixel row: the grid must show dark panels.
    await writeMulticlassReports(reports, { probabilities, labels, classNames: [..."0123456789"], image: () => ({ side: 28, channels: 1, pixels: Uint8Array.from({ length: 784 }, (_, at) => (at >= 392 && at < 420 ? 255 : 0)) }) });
    expect((await readdir(folder)).sort()).toEqual(["confidently_wrong_images.json", "confidently_wrong_images.png", "confusion_matrix.json", "confusion_matrix.png", "per_class_metrics.json"]);
    const { matrix } = await readJson<{ matrix: number[][] }>(folder, "confusion_matrix.json");
    expect(matrix.map((row) => row.reduce((a, b) => a + b, 0))).toEqual(Array.from({ length: classes }, () => count / classes));
    const perClass = await readJson<Array<{ support: number; recall: number }>>(folder, "per_class_metrics.json");
    expect(perClass.map((row) => row.support)).toEqual(matrix.map((row) => row.reduce((a, b) => a + b, 0)));
    expect(perClass.map((row) => row.recall)).toEqual(matrix.map((row, index) => row[index]! / (count / classes)));
    const wrong = await readJson<Array<{ probability: number }>>(folder, "confidently_wrong_images.json");
    expect(wrong).toHaveLength(16);
    expect(wrong.map((row) => row.probability)).toEqual([...wrong.map((row) => row.probability)].sort((a, b) => b - a));

    const matrixPng = await pngFacts(path.join(folder, "confusion_matrix.png"));
    expect(matrixPng.width).toBeGreaterThan(700);
    expect(matrixPng.height).toBeGreaterThan(700);
    expect(matrixPng.inked / (matrixPng.width * matrixPng.height)).toBeGreaterThan(0.2); // the cells are shaded
    expect(matrixPng.colours).toBeGreaterThan(20);
    const grid = await pngFacts(path.join(folder, "confidently_wrong_images.png"));
    // 16 panels of 150 × 150 chart pixels at 2×, mostly black: at least 16 × 250² dark device pixels.
    expect(grid.dark).toBeGreaterThan(16 * 250 * 250);
    expect(grid.width).toBeGreaterThan(4 * 300);
    expect(reports.timings.map((timing) => timing.file)).toEqual(["confusion_matrix.png", "confidently_wrong_images.png"]);
  });

  it("the wrong-image grid has one panel per image, also when two mistakes look alike", async () => {
    const folder = path.join(directory, "alike");
    // 20 images of class 0, every one predicted as 1 with the same probability.
    const probabilities = Array.from({ length: 20 }, () => [0.1, 0.9]).flat();
    const image = (index: number) => ({ side: 28, channels: 1 as const, pixels: new Uint8Array(784).fill(index === 0 ? 255 : 0) });
    await writeMulticlassReports(new ReportSet(folder), { probabilities, labels: new Array<number>(20).fill(0), classNames: ["0", "1"], image });
    const wrong = await readJson<Array<{ index: number }>>(folder, "confidently_wrong_images.json");
    expect(wrong.map((row) => row.index)).toEqual(Array.from({ length: 16 }, (_, index) => index));
    const grid = await pngFacts(path.join(folder, "confidently_wrong_images.png"));
    // 15 black panels (image 0 is white) of at least 290 × 290 device pixels each, in 4 rows.
    expect(grid.dark).toBeGreaterThan(15 * 290 * 290);
    expect(grid.height).toBeGreaterThan(4 * 300);
  });

  it("tick report: ROC and calibration curves and gain importance, with their JSON", async () => {
    const folder = path.join(directory, "binary");
    const next = random(13);
    const labels = Array.from({ length: 3000 }, () => (next() < 0.45 ? 1 : 0));
    const scores = labels.map((label) => Math.min(1, Math.max(0, 0.45 + (next() - 0.5) * 0.4 + label * 0.05)));
    const reports = new ReportSet(folder);
    await writeBinaryReports(reports, scores, labels);
    await writeFeatureImportanceReports(reports, ["return_1", "volume", "spread"], [5, 2, 1]);
    expect((await readdir(folder)).sort()).toEqual(["calibration_curve.json", "calibration_curve_plot.png", "feature_importance.json", "feature_importance.png", "roc_curve.json", "roc_curve_plot.png"]);
    const roc = await readJson<{ auc: number; points: Array<{ threshold: number | null }> }>(folder, "roc_curve.json");
    expect(roc.auc).toBeCloseTo(rocAuc(scores, labels), 12);
    expect(roc.points[0]!.threshold).toBeNull();
    const calibration = await readJson<{ bins: Array<{ count: number }> }>(folder, "calibration_curve.json");
    expect(calibration.bins.reduce((total, bin) => total + bin.count, 0)).toBe(3000);
    const importance = await readJson<{ features: Array<{ feature: string; share: number }> }>(folder, "feature_importance.json");
    expect(importance.features.map((row) => row.feature)).toEqual(["return_1", "volume", "spread"]);
    for (const file of ["roc_curve_plot.png", "calibration_curve_plot.png", "feature_importance.png"]) {
      const facts = await pngFacts(path.join(folder, file));
      expect(facts.width, file).toBeGreaterThan(400);
      expect(facts.height, file).toBeGreaterThan(150);
      expect(facts.dark, file).toBeGreaterThan(1000); // axes, labels, title
      expect(facts.colours, file).toBeGreaterThan(10);
    }
  });

  it("power report: forecast vs actual and residuals by hour, with their JSON", async () => {
    const folder = path.join(directory, "forecast");
    const hoursCount = 24 * 14;
    const start = Date.UTC(2007, 10, 1);
    const next = random(17);
    const actual = Array.from({ length: hoursCount }, (_, hour) => 1 + Math.sin((hour / 24) * 2 * Math.PI) + next() * 0.2);
    actual[30] = Number.NaN;
    const model = actual.map((value) => value + (next() - 0.5) * 0.1);
    const series = {
      times: Array.from({ length: hoursCount }, (_, hour) => start + hour * 3_600_000),
      actual,
      model,
      naive24h: actual.map((_, hour) => (hour >= 24 ? actual[hour - 24]! : Number.NaN)),
      naive168h: actual.map((_, hour) => (hour >= 168 ? actual[hour - 168]! : Number.NaN)),
      hourOfDay: Array.from({ length: hoursCount }, (_, hour) => hour % 24),
    };
    const reports = new ReportSet(folder);
    await writeForecastReports(reports, series);
    const forecast = await readJson<{ rows: Array<{ time: string; actual: number | null; naive_168h: number | null }> }>(folder, "forecast_vs_actual.json");
    expect(forecast.rows).toHaveLength(hoursCount);
    expect(forecast.rows[0]!.time).toBe("2007-11-01T00:00");
    expect(forecast.rows[30]!.actual).toBeNull();
    expect(forecast.rows.filter((row) => row.naive_168h !== null)).toHaveLength(hoursCount - 168 - 1); // hour 198 looks back at the missing hour 30
    const residuals = await readJson<{ hours: Array<{ hour: number; count: number }> }>(folder, "residuals_by_hour.json");
    expect(residuals.hours.map((row) => row.hour)).toEqual(Array.from({ length: 24 }, (_, hour) => hour));
    expect(residuals.hours.reduce((total, row) => total + row.count, 0)).toBe(hoursCount - 1);
    const line = await pngFacts(path.join(folder, "forecast_vs_actual.png"));
    expect(line.width).toBeGreaterThan(1800);
    expect(line.colours).toBeGreaterThan(50); // four coloured series, anti-aliased
    const bars = await pngFacts(path.join(folder, "residuals_by_hour.png"));
    expect(bars.width).toBeGreaterThan(1200);
    expect(bars.inked).toBeGreaterThan(10_000);
  });
});
