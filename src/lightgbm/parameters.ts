import { defaultThreads } from "./threads.js";

/** A value LightGBM accepts in its `key=value` parameter string. */
export type ParameterValue = string | number | boolean | readonly (string | number)[];

/**
 * LightGBM parameters under their canonical LightGBM names (see LightGBM's Parameters.rst),
 * so that a value here means exactly what it means in Python or the CLI. Anything not listed
 * goes into `additional`.
 */
export interface LightGBMParameters {
  objective?:
    | "regression" | "regression_l1" | "huber" | "fair" | "poisson" | "quantile" | "mape" | "gamma" | "tweedie"
    | "binary" | "multiclass" | "multiclassova" | "cross_entropy" | "cross_entropy_lambda"
    | "lambdarank" | "rank_xendcg" | (string & {});
  boosting?: "gbdt" | "rf" | "dart" | (string & {});
  metric?: string | readonly string[];
  num_class?: number;
  num_leaves?: number;
  max_depth?: number;
  learning_rate?: number;
  /** Rounds for `train()`; `TrainOptions.numIterations` wins when both are given. */
  num_iterations?: number;
  min_data_in_leaf?: number;
  min_sum_hessian_in_leaf?: number;
  min_gain_to_split?: number;
  lambda_l1?: number;
  lambda_l2?: number;
  feature_fraction?: number;
  feature_fraction_bynode?: number;
  feature_fraction_seed?: number;
  bagging_fraction?: number;
  bagging_freq?: number;
  bagging_seed?: number;
  max_bin?: number;
  min_data_in_bin?: number;
  data_random_seed?: number;
  is_unbalance?: boolean;
  scale_pos_weight?: number;
  first_metric_only?: boolean;
  linear_tree?: boolean;
  seed?: number;
  deterministic?: boolean;
  force_row_wise?: boolean;
  force_col_wise?: boolean;
  /**
   * Threads of LightGBM's parallel loops (training, dataset construction, prediction). Defaults
   * to the CPUs the process may use (threads.ts: cgroup CPU quota, PODTRAIN_LIGHTGBM_THREADS).
   * With deterministic=true a fixed count gives the same model on every run.
   */
  num_threads?: number;
  /** <0 fatal only, 0 also warnings, 1 info, >1 debug. Defaults to -1 (quiet). */
  verbosity?: number;
  /** Further LightGBM parameters by their LightGBM name. */
  additional?: Readonly<Record<string, ParameterValue>>;
}

/** Defaults this runtime applies where the caller says nothing; num_threads defaults to defaultThreads(). */
export const DEFAULT_PARAMETERS: Readonly<Pick<LightGBMParameters, "verbosity">> = {
  verbosity: -1,
};

/** The num_threads LightGBM gets for `parameters`: theirs, else the process default. */
export function resolvedThreads(parameters: LightGBMParameters = {}): number {
  return parameters.num_threads ?? defaultThreads();
}

const PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
// LightGBM splits the string on whitespace and each pair on '='; a value holding either would
// silently turn into a different parameter.
const UNSAFE_VALUE = /[\s=]/;

function formatValue(name: string, value: ParameterValue): string {
  if (Array.isArray(value)) return value.map((item) => formatValue(name, item as string | number)).join(",");
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new RangeError(`LightGBM parameter ${name} must be finite, got ${value}`);
    return String(value);
  }
  const text = String(value);
  if (UNSAFE_VALUE.test(text) || text.length === 0) {
    throw new RangeError(`LightGBM parameter ${name} has an unusable value ${JSON.stringify(text)}`);
  }
  return text;
}

/**
 * Serialises parameters into LightGBM's `key=value key=value` string, after applying
 * DEFAULT_PARAMETERS and the default num_threads. Keys keep insertion order; `additional` entries come last.
 */
export function serializeParameters(parameters: LightGBMParameters = {}): string {
  const { additional = {}, ...known } = {
    num_threads: undefined, ...DEFAULT_PARAMETERS, ...parameters, // keeps num_threads first
  };
  known.num_threads = resolvedThreads(parameters);
  const pairs: string[] = [];
  for (const [name, value] of [...Object.entries(known), ...Object.entries(additional)]) {
    if (value === undefined) continue;
    if (!PARAMETER_NAME.test(name)) throw new RangeError(`Not a LightGBM parameter name: ${JSON.stringify(name)}`);
    pairs.push(`${name}=${formatValue(name, value as ParameterValue)}`);
  }
  return pairs.join(" ");
}
