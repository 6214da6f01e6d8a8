import { z } from "zod";
import { MAX_LIGHTGBM_THREADS } from "../../lightgbm/threads.js";

// `train power` parameters: spec keys, CLI flags (--num-leaves …) and MLflow param names at once.

export const powerParamsSchema = z.strictObject({
  data_file: z.string().optional().describe("the UCI household_power_consumption.txt (or a synthetic file from `train power generate`); a path or s3://bucket/key"),
  data_dir: z.string().optional().describe("folder of daily files in the same format, read in date order (instead of --data-file); a path or s3://bucket/prefix"),
  min_minutes_per_hour: z.number().int().min(1).max(60).default(30).describe("minutes with a value an hour needs; thinner hours are missing, never zero"),
  test_weeks: z.number().int().positive().default(4).describe("last weeks held out for the final metrics"),
  validation_weeks: z.number().int().positive().default(2).describe("weeks before the test period used for early stopping"),
  num_leaves: z.number().int().min(2).default(31).describe("LightGBM num_leaves"),
  learning_rate: z.number().positive().default(0.05).describe("LightGBM learning_rate"),
  num_iterations: z.number().int().positive().default(1000).describe("maximum boosting rounds"),
  early_stopping_rounds: z.number().int().positive().default(50).describe("stop when the validation RMSE has not improved for this many rounds"),
  min_data_in_leaf: z.number().int().positive().default(20).describe("LightGBM min_data_in_leaf"),
  feature_fraction: z.number().gt(0).max(1).default(0.9).describe("LightGBM feature_fraction (sampled with the seed)"),
  seed: z.number().int().default(42).describe("LightGBM seed: with deterministic=true and the same threads, reruns give the same model"),
  // No schema default: the help and README stay the same on every machine; the workflow resolves
  // an absent value to the pod's CPUs and logs the count it used as the `threads` param.
  threads: z.number().int().min(1).max(MAX_LIGHTGBM_THREADS).optional().describe(`LightGBM num_threads for training and prediction, 1 to ${MAX_LIGHTGBM_THREADS}; absent: the CPUs the pod may use (cgroup CPU quota), or PODTRAIN_LIGHTGBM_THREADS`),
  predictions_file: z.string().optional().describe("also write the test period's features, targets and predictions as CSV here (parity checks)"),
});

export type PowerParams = z.infer<typeof powerParamsSchema>;
