import { z } from "zod";
import { parseDurationSeconds } from "../../spec/duration.js";

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
  bar: barDurationSchema.default("1m"),
  return_horizons_bars: z.array(z.number().int().positive()).min(1).default([1, 5, 15]),
  volatility_window_bars: z.number().int().min(2).default(30),
  volume_zscore_window_bars: z.number().int().min(3).default(30),
  label_horizon_bars: z.number().int().positive().default(5),
  dead_band_bps: z.number().min(0).default(2),
  max_reject_fraction: z.number().min(0).max(1).default(0.01),
  universe: z.array(z.string().min(1)).nullable().default(null).describe("allowed symbols; null accepts all"),
});

export const tickTrainingParamsSchema = z.strictObject({
  as_of: z.string().regex(DATE, "expected YYYY-MM-DD").nullable().default(null),
  window: z.string().regex(/^\d+d$/, 'expected a number of days such as "60d"').default("60d"),
  num_leaves: z.number().int().min(2).default(31),
  learning_rate: z.number().positive().default(0.05),
  num_iterations: z.number().int().positive().default(500),
  early_stopping_rounds: z.number().int().positive().default(50),
  purge_gap_bars: z.number().int().min(0).default(5),
  seed: z.number().int().min(0).default(42),
});

/** All of `params` in models/tick_model.yaml. */
export const tickParamsSchema = z.strictObject({
  ...tickFeatureParamsSchema.shape,
  ...tickTrainingParamsSchema.shape,
});

export type TickFeatureParams = z.infer<typeof tickFeatureParamsSchema>;
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
