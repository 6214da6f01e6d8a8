import type { TickFeatureParams } from "./params.js";
import { sha256Hex } from "../../core/hash.js";

// The feature-set hash names "what the features mean": every output column with its formula and
// every parameter that changes a number. A partition whose manifest holds the same input hashes
// and the same feature-set hash is up to date. Bump FEATURE_CODE_REVISION whenever the code
// computing a feature changes without its formula text changing.

export const FEATURE_CODE_REVISION = 1;
export const FEATURE_FILE_NAME = "features.arrow";
export const MANIFEST_FILE_NAME = "manifest.json";
export const QUARANTINE_FILE_NAME = "quarantine.csv";

export function featureDefinitions(params: TickFeatureParams): Record<string, string> {
  const returns = Object.fromEntries(
    params.return_horizons_bars.map((lag) => [`return_${lag}`, `ln(close[t] / close[t-${lag}]) over non-empty bars`]),
  );
  return {
    bar_start: `start of the ${params.bar} bar, UTC nanoseconds`,
    symbol: "ticker",
    open: "first accepted trade price in the bar",
    high: "max trade price",
    low: "min trade price",
    close: "last trade price",
    volume: "sum(size)",
    vwap: "sum(price*size) / sum(size)",
    trade_count: "number of accepted trades",
    ...returns,
    realized_volatility: `sqrt(sum of return_1^2 over the last ${params.volatility_window_bars} bars)`,
    vwap_deviation: "close / vwap - 1",
    trade_sign_imbalance: "sum(sign*size) / sum(size); sign = side, else tick rule",
    high_low_range: "ln(high / low)",
    volume_zscore: `(volume - mean) / sample std over the last ${params.volume_zscore_window_bars} bars`,
    forward_return: `ln(close[t+${params.label_horizon_bars}] / close[t]) within the day`,
    label: `-1/0/+1: forward_return beyond +-${params.dead_band_bps} bps, null without a forward window`,
  };
}

export interface FeatureSet {
  revision: number;
  params: Omit<TickFeatureParams, "max_reject_fraction" | "input">;
  columns: Record<string, string>;
}

export function featureSetOf(params: TickFeatureParams): FeatureSet {
  // The reject threshold decides pass/fail, never a number in the output: left out of the hash.
  // The input contract says how files are read, not what a feature means: the source
  // fingerprint holds it (manifest.ts), so equal features from differently written inputs match.
  const { max_reject_fraction: _threshold, input: _input, ...shaping } = params;
  void _threshold;
  void _input;
  return { revision: FEATURE_CODE_REVISION, params: shaping, columns: featureDefinitions(params) };
}

/** Canonical JSON: keys sorted at every level, so the hash does not depend on key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function featureSetHash(params: TickFeatureParams): string {
  return sha256Hex(canonicalJson(featureSetOf(params)));
}
