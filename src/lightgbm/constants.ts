// Values of the #defines in LightGBM's include/LightGBM/c_api.h (4.6.0). The C API takes
// them as plain ints, so they are repeated here under their C names.

/** Element type of a matrix or field passed to the C API. */
export const C_API_DTYPE_FLOAT32 = 0;
export const C_API_DTYPE_FLOAT64 = 1;
export const C_API_DTYPE_INT32 = 2;
export const C_API_DTYPE_INT64 = 3;

/** What LGBM_BoosterPredictForMat computes. */
export const C_API_PREDICT_NORMAL = 0;
export const C_API_PREDICT_RAW_SCORE = 1;
export const C_API_PREDICT_LEAF_INDEX = 2;
export const C_API_PREDICT_CONTRIB = 3;

/** Importance kind for LGBM_BoosterFeatureImportance and LGBM_BoosterSaveModelToString. */
export const C_API_FEATURE_IMPORTANCE_SPLIT = 0;
export const C_API_FEATURE_IMPORTANCE_GAIN = 1;

/** Matrix layout flag of the *FromMat functions. */
export const C_API_IS_ROW_MAJOR = 1;

/** Size of a pointer and of size_t in wasm32. */
export const WASM_POINTER_BYTES = 4;

/** First guess for one evaluation-name buffer; the C API reports when it needs more. */
export const EVAL_NAME_BUFFER_BYTES = 128;
