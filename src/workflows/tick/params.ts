import { z } from "zod";
import { tickInputSchema } from "../../data/tick/input-contract.js";
import { parseDurationSeconds } from "../../core/duration.js";

// Parameters of the tick workflow, read from models/tick_model.yaml `params` and overridable by
// flags. Feature parameters shape the feature partitions (and so enter the feature-set hash);
// training parameters are read by the training step only.

const SECONDS_PER_DAY = 86_400;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export const barDurationSchema = z
  .string()
  .refine((text) => {
    const seconds = parseDurationSeconds(text);
    return seconds !== undefined && Number.isInteger(seconds) && seconds > 0 && SECONDS_PER_DAY % seconds === 0;
  }, { message: 'expected a bar length that divides a day, such as "1m", "5m" or "30s"' });

export const tickFeatureParamsSchema = z.strictObject({
  bar: barDurationSchema.default("1m").describe("bar length, dividing a day: 30s, 1m, 5m …"),
  return_horizons_bars: z.array(z.number().int().positive()).min(1).default([1, 5, 15]).describe("past-return features over these many bars"),
  volatility_window_bars: z.number().int().min(2).default(30).describe("bars in the rolling volatility window (≥ 2)"),
  volume_zscore_window_bars: z.number().int().min(3).default(30).describe("bars in the rolling volume z-score window (≥ 3)"),
  label_horizon_bars: z.number().int().positive().default(5).describe("the label is the direction of the return this many bars ahead"),
  dead_band_bps: z.number().min(0).default(2).describe("returns within ± this many basis points get no label (neither up nor down)"),
  max_reject_fraction: z.number().min(0).max(1).default(0.01).describe("fail a partition when more than this share (0-1) of its trades is rejected"),
  universe: z.array(z.string().min(1)).nullable().default(null).describe("allowed symbols; null accepts all"),
  // How the input files are read (column names, timestamp unit, partition key, trade id): it
  // changes no formula, so it stays out of the feature-set hash and enters the partition's
  // source fingerprint instead (see manifest.ts).
  input: tickInputSchema.prefault({}).describe("the tick input contract: column mapping, integer timestamp unit, partition key, trade-id column"),
});

// How a feature run uses the machine: it changes no byte of the output, so it is neither a
// feature parameter (the feature-set hash) nor part of a partition's fingerprint.
export const tickFeatureRunParamsSchema = z.strictObject({
  // Optional, not null by default: a `train tick` run logs every param, and this one it does not use.
  workers: z.number().int().positive().optional().describe("worker threads computing the dates of a range; absent: the CPUs the process may use (affinity and cgroup quota)"),
});

export const tickTrainingParamsSchema = z.strictObject({
  features_dir: z
    .string({ error: (issue) => (issue.input === undefined ? "required: pass --features-dir DIR, the --out-dir of `train tick features`" : undefined) })
    .min(1)
    .describe("features root with date=YYYY-MM-DD partitions (output of `train tick features`)"),
  as_of: z.string().regex(DATE, "expected YYYY-MM-DD").nullable().default(null).describe("last date of the training window; null: the latest feature partition"),
  window: z.string().regex(/^\d+d$/, 'expected a number of days such as "60d"').default("60d").describe("calendar days of partitions to train on, ending at as_of"),
  closed_dates: z.array(z.string().regex(DATE, "expected YYYY-MM-DD")).default([]).describe("weekdays without a session (holidays): no feature partition is expected"),
  validation_fraction: z.number().gt(0).lt(0.5).default(0.15).describe("share of the window's bar times for early stopping, after the training period"),
  test_fraction: z.number().gt(0).lt(0.5).default(0.15).describe("share of the window's last bar times held out for the test metrics"),
  purge_gap_bars: z.number().int().min(0).default(5).describe("bars per symbol dropped before each split boundary; at least label_horizon_bars"),
  num_leaves: z.number().int().min(2).default(31).describe("LightGBM num_leaves"),
  learning_rate: z.number().positive().default(0.05).describe("LightGBM learning_rate"),
  min_data_in_leaf: z.number().int().min(1).default(20).describe("LightGBM min_data_in_leaf"),
  feature_fraction: z.number().gt(0).max(1).default(1).describe("LightGBM feature_fraction (seeded)"),
  num_iterations: z.number().int().positive().default(500).describe("most boosting rounds"),
  early_stopping_rounds: z.number().int().positive().default(50).describe("stop when the validation metrics have not improved for this many rounds"),
  seed: z.number().int().min(0).default(42).describe("LightGBM seed"),
});

/** All of `params` in models/tick_model.yaml. */
export const tickParamsSchema = z.strictObject({
  ...tickFeatureParamsSchema.shape,
  ...tickFeatureRunParamsSchema.shape,
  ...tickTrainingParamsSchema.shape,
});

export type TickFeatureParams = z.infer<typeof tickFeatureParamsSchema>;
export type TickFeatureRunParams = z.infer<typeof tickFeatureRunParamsSchema>;
export type TickTrainingParams = z.infer<typeof tickTrainingParamsSchema>;
export type TickParams = z.infer<typeof tickParamsSchema>;

export function barNanos(params: Pick<TickFeatureParams, "bar">): number {
  return (parseDurationSeconds(params.bar) as number) * 1e9;
}

/** Bars of lookback a partition needs from the previous one so that no window is cut short. */
export function lookbackBars(params: TickFeatureParams): number {
  return Math.max(...params.return_horizons_bars, params.volatility_window_bars + 1, params.volume_zscore_window_bars);
}

export function featureParamsOf(params: Partial<TickParams>): TickFeatureParams {
  return tickFeatureParamsSchema.parse(
    Object.fromEntries(Object.keys(tickFeatureParamsSchema.shape).filter((key) => key in params).map((key) => [key, params[key as keyof TickParams]])),
  );
}
