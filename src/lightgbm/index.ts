// Public entry point of the LightGBM WebAssembly runtime.
export { Booster, type ImportanceType, type PredictOptions, type SaveModelOptions } from "./booster.js";
export {
  C_API_DTYPE_FLOAT32, C_API_DTYPE_FLOAT64, C_API_DTYPE_INT32, C_API_DTYPE_INT64,
  C_API_FEATURE_IMPORTANCE_GAIN, C_API_FEATURE_IMPORTANCE_SPLIT,
  C_API_PREDICT_CONTRIB, C_API_PREDICT_LEAF_INDEX, C_API_PREDICT_NORMAL, C_API_PREDICT_RAW_SCORE,
} from "./constants.js";
export { Dataset, type DatasetOptions } from "./dataset.js";
export { LightGBMError } from "./errors.js";
export type { Matrix } from "./matrix.js";
export { lightgbmThreadCapacity, loadLightGBM, type LightGBMModule } from "./module.js";
export { DEFAULT_PARAMETERS, resolvedThreads, serializeParameters, type LightGBMParameters, type ParameterValue } from "./parameters.js";
export { train, type Evaluation, type IterationReport, type TrainOptions, type TrainResult } from "./train.js";
export { defaultThreads, LIGHTGBM_THREADS_ENV, MAX_LIGHTGBM_THREADS, resolveDefaultThreads } from "./threads.js";
