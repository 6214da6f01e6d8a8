import type { TopLevelSpec } from "vega-lite";
import type { ReportSet } from "./report-set.js";

// Gain feature importance of a LightGBM model (total loss reduction of the splits on each
// feature), as feature_importance.json and a bar chart, largest first.

export interface FeatureImportance {
  feature: string;
  gain: number;
  /** gain / total gain over all features (0 when the model has no split). */
  share: number;
}

export function featureImportance(names: readonly string[], gain: ArrayLike<number>): FeatureImportance[] {
  if (names.length !== gain.length) throw new RangeError(`${names.length} feature names for ${gain.length} importances`);
  let total = 0;
  for (let index = 0; index < gain.length; index += 1) total += gain[index]!;
  return names
    .map((feature, index) => ({ feature, gain: gain[index]!, share: total > 0 ? gain[index]! / total : 0 }))
    .sort((a, b) => b.gain - a.gain || a.feature.localeCompare(b.feature));
}

/** Enough bars to read; the JSON keeps every feature. */
const MAX_BARS = 30;

function importanceSpec(importance: readonly FeatureImportance[]): TopLevelSpec {
  const shown = importance.slice(0, MAX_BARS);
  return {
    title: { text: "Feature importance (gain)", ...(importance.length > shown.length ? { subtitle: `top ${shown.length} of ${importance.length} features` } : {}) },
    width: 420,
    height: { step: 16 },
    data: { values: shown },
    mark: { type: "bar", color: "#4c78a8" },
    encoding: {
      y: { field: "feature", type: "nominal", sort: "-x", title: null, axis: { labelLimit: 240 } },
      x: { field: "share", type: "quantitative", title: "Share of total gain", axis: { format: ".0%" } },
      tooltip: [{ field: "gain", type: "quantitative" }],
    },
  };
}

export async function writeFeatureImportanceReports(reports: ReportSet, names: readonly string[], gain: ArrayLike<number>): Promise<void> {
  const importance = featureImportance(names, gain);
  await reports.json("feature_importance.json", { importance_type: "gain", features: importance });
  await reports.chart("feature_importance.png", importanceSpec(importance));
}
