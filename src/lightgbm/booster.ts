import {
  C_API_FEATURE_IMPORTANCE_GAIN, C_API_FEATURE_IMPORTANCE_SPLIT, C_API_IS_ROW_MAJOR, C_API_PREDICT_NORMAL,
  C_API_PREDICT_RAW_SCORE, EVAL_NAME_BUFFER_BYTES, WASM_POINTER_BYTES,
} from "./constants.js";
import type { Dataset } from "./dataset.js";
import { checkReturnCode } from "./errors.js";
import { describeMatrix, type Matrix } from "./matrix.js";
import { loadLightGBM, requireThreads, type LightGBMModule, type Pointer } from "./module.js";
import {
  readCString, readFloat64Array, readInt32, readInt64, readPointer, withNativeScope, writePointer,
} from "./memory.js";
import { resolvedThreads, serializeParameters, type LightGBMParameters } from "./parameters.js";

export type ImportanceType = "split" | "gain";

export interface PredictOptions {
  /** Raw margins instead of transformed outputs (e.g. log-odds instead of probabilities). */
  rawScore?: boolean;
  startIteration?: number;
  /** Trees to use; default: the best iteration when early stopping found one, else all. */
  numIteration?: number;
  /** Threads predicting rows; default: the booster's training num_threads, else the process default. */
  numThreads?: number;
}

export interface SaveModelOptions {
  startIteration?: number;
  /** Default: the best iteration when early stopping found one, else all (as in Python). */
  numIteration?: number;
  /** Importance written into the model file's feature_importances section. */
  importanceType?: ImportanceType;
}

function importanceCode(type: ImportanceType): number {
  return type === "gain" ? C_API_FEATURE_IMPORTANCE_GAIN : C_API_FEATURE_IMPORTANCE_SPLIT;
}

/** A LightGBM booster (model) in wasm memory. Call `dispose()` when done. */
export class Booster {
  private handle: Pointer;
  /** 1-based iteration early stopping chose; 0 when there was none (all trees count). */
  bestIteration = 0;

  private constructor(readonly module: LightGBMModule, handle: Pointer, readonly numThreads: number) {
    this.handle = handle;
  }

  /** Creates an untrained booster on a training Dataset (LGBM_BoosterCreate). */
  static create(trainData: Dataset, parameters: LightGBMParameters = {}): Booster {
    const module = trainData.module;
    const numThreads = resolvedThreads(parameters);
    requireThreads(module, numThreads);
    const handle = withNativeScope(module, (scope) => {
      const outHandle = scope.allocateSlot();
      const returnCode = module._LGBM_BoosterCreate(
        trainData.nativeHandle, scope.string(serializeParameters(parameters)), outHandle,
      );
      checkReturnCode(module, "LGBM_BoosterCreate", returnCode);
      return readPointer(module, outHandle);
    });
    return new Booster(module, handle, numThreads);
  }

  /**
   * Rebuilds a booster from a LightGBM model text (`saveModelToString`, Python, CLI).
   * `numThreads` is what predict() uses by default (else the process default).
   */
  static async loadModelFromString(modelText: string, options: { numThreads?: number } = {}): Promise<Booster> {
    const numThreads = resolvedThreads({ num_threads: options.numThreads });
    const module = await loadLightGBM(numThreads);
    const handle = withNativeScope(module, (scope) => {
      const outIterations = scope.allocateSlot();
      const outHandle = scope.allocateSlot();
      const returnCode = module._LGBM_BoosterLoadModelFromString(scope.string(modelText), outIterations, outHandle);
      checkReturnCode(module, "LGBM_BoosterLoadModelFromString", returnCode);
      return readPointer(module, outHandle);
    });
    return new Booster(module, handle, numThreads);
  }

  get nativeHandle(): Pointer {
    if (this.handle === 0) throw new Error("Booster used after dispose()");
    return this.handle;
  }

  get disposed(): boolean {
    return this.handle === 0;
  }

  /** Adds a validation Dataset; its index for `evaluate` is the order of adding, from 1. */
  addValidData(validData: Dataset): void {
    const returnCode = this.module._LGBM_BoosterAddValidData(this.nativeHandle, validData.nativeHandle);
    checkReturnCode(this.module, "LGBM_BoosterAddValidData", returnCode);
  }

  /** One boosting round. Returns true when LightGBM can find no further split (training is done). */
  updateOneIteration(): boolean {
    return this.readInt32Out("LGBM_BoosterUpdateOneIter", (out) => this.module._LGBM_BoosterUpdateOneIter(this.nativeHandle, out)) === 1;
  }

  currentIteration(): number {
    return this.readInt32Out("LGBM_BoosterGetCurrentIteration", (out) => this.module._LGBM_BoosterGetCurrentIteration(this.nativeHandle, out));
  }

  numClasses(): number {
    return this.readInt32Out("LGBM_BoosterGetNumClasses", (out) => this.module._LGBM_BoosterGetNumClasses(this.nativeHandle, out));
  }

  numFeatures(): number {
    return this.readInt32Out("LGBM_BoosterGetNumFeature", (out) => this.module._LGBM_BoosterGetNumFeature(this.nativeHandle, out));
  }

  /** Metric names in the order `evaluate` returns their values (e.g. ["l2"], ["auc", "binary_logloss"]). */
  evalNames(): string[] {
    const module = this.module;
    const count = this.readInt32Out("LGBM_BoosterGetEvalCounts", (out) => module._LGBM_BoosterGetEvalCounts(this.nativeHandle, out));
    let bufferBytes = EVAL_NAME_BUFFER_BYTES;
    for (;;) {
      const result = withNativeScope(module, (scope) => {
        const outStrings = scope.allocate(Math.max(count, 1) * WASM_POINTER_BYTES);
        for (let index = 0; index < count; index += 1) {
          writePointer(module, outStrings + index * WASM_POINTER_BYTES, scope.allocate(bufferBytes));
        }
        const outLength = scope.allocateSlot();
        const outBufferBytes = scope.allocateSlot();
        const returnCode = module._LGBM_BoosterGetEvalNames(
          this.nativeHandle, count, outLength, bufferBytes, outBufferBytes, outStrings,
        );
        checkReturnCode(module, "LGBM_BoosterGetEvalNames", returnCode);
        // size_t is 32-bit in wasm32.
        const neededBytes = readPointer(module, outBufferBytes);
        if (neededBytes > bufferBytes) return neededBytes;
        const names: string[] = [];
        for (let index = 0; index < readInt32(module, outLength); index += 1) {
          names.push(readCString(module, readPointer(module, outStrings + index * WASM_POINTER_BYTES)));
        }
        return names;
      });
      if (Array.isArray(result)) return result;
      bufferBytes = result; // the names did not fit: ask again with the size LightGBM reported
    }
  }

  /** Current metric values on data set `dataIndex`: 0 the training data, 1.. validation sets. */
  evaluate(dataIndex: number): Float64Array {
    const module = this.module;
    const count = this.readInt32Out("LGBM_BoosterGetEvalCounts", (out) => module._LGBM_BoosterGetEvalCounts(this.nativeHandle, out));
    return withNativeScope(module, (scope) => {
      const outLength = scope.allocateSlot();
      const outResults = scope.allocate(Math.max(count, 1) * 8);
      checkReturnCode(module, "LGBM_BoosterGetEval", module._LGBM_BoosterGetEval(this.nativeHandle, dataIndex, outLength, outResults));
      return readFloat64Array(module, outResults, readInt32(module, outLength));
    });
  }

  /**
   * Predicts for a row-major matrix (LGBM_BoosterPredictForMat). One value per row, or
   * `numClasses` values per row (row-major) for multiclass models.
   */
  predict(matrix: Matrix, options: PredictOptions = {}): Float64Array {
    const module = this.module;
    const { numRows, dataType } = describeMatrix(matrix);
    const predictType = options.rawScore ? C_API_PREDICT_RAW_SCORE : C_API_PREDICT_NORMAL;
    const startIteration = options.startIteration ?? 0;
    const numIteration = options.numIteration ?? this.defaultNumIteration();
    const numThreads = options.numThreads ?? this.numThreads;
    requireThreads(module, numThreads);
    return withNativeScope(module, (scope) => {
      const outLength = scope.allocateSlot();
      checkReturnCode(module, "LGBM_BoosterCalcNumPredict", module._LGBM_BoosterCalcNumPredict(
        this.nativeHandle, numRows, predictType, startIteration, numIteration, outLength,
      ));
      const resultLength = readInt64(module, outLength);
      const outResult = scope.allocate(resultLength * 8);
      const data = scope.copy(matrix.values);
      const returnCode = module._LGBM_BoosterPredictForMat(
        this.nativeHandle, data, dataType, numRows, matrix.numColumns, C_API_IS_ROW_MAJOR, predictType,
        startIteration, numIteration, scope.string(serializeParameters({ num_threads: numThreads })), outLength, outResult,
      );
      checkReturnCode(module, "LGBM_BoosterPredictForMat", returnCode);
      return readFloat64Array(module, outResult, readInt64(module, outLength));
    });
  }

  /** The model in LightGBM's text format, loadable by Python's `lgb.Booster(model_str=...)`. */
  saveModelToString(options: SaveModelOptions = {}): string {
    const module = this.module;
    const startIteration = options.startIteration ?? 0;
    const numIteration = options.numIteration ?? this.defaultNumIteration();
    const importanceType = importanceCode(options.importanceType ?? "split");
    const attempt = (bufferBytes: number): { text?: string; neededBytes: number } =>
      withNativeScope(module, (scope) => {
        const outLength = scope.allocateSlot();
        const outString = scope.allocate(bufferBytes);
        const returnCode = module._LGBM_BoosterSaveModelToString(
          this.nativeHandle, startIteration, numIteration, importanceType, BigInt(bufferBytes), outLength, outString,
        );
        checkReturnCode(module, "LGBM_BoosterSaveModelToString", returnCode);
        const neededBytes = readInt64(module, outLength);
        return neededBytes <= bufferBytes ? { text: readCString(module, outString), neededBytes } : { neededBytes };
      });
    // First try a buffer that fits most small models; LightGBM reports the exact size otherwise.
    const first = attempt(1 << 20);
    if (first.text !== undefined) return first.text;
    const second = attempt(first.neededBytes);
    if (second.text === undefined) throw new Error("LightGBM model text grew between two calls");
    return second.text;
  }

  /** Per-feature importance: number of splits, or total gain of those splits. */
  featureImportance(type: ImportanceType = "split", numIteration = this.defaultNumIteration()): Float64Array {
    const module = this.module;
    const numFeatures = this.numFeatures();
    return withNativeScope(module, (scope) => {
      const outResults = scope.allocate(numFeatures * 8);
      const returnCode = module._LGBM_BoosterFeatureImportance(this.nativeHandle, numIteration, importanceCode(type), outResults);
      checkReturnCode(module, "LGBM_BoosterFeatureImportance", returnCode);
      return readFloat64Array(module, outResults, numFeatures);
    });
  }

  /** Frees the native booster. Safe to call twice. */
  dispose(): void {
    if (this.handle === 0) return;
    const handle = this.handle;
    this.handle = 0;
    checkReturnCode(this.module, "LGBM_BoosterFree", this.module._LGBM_BoosterFree(handle));
  }

  /** Python's rule: use the best iteration when early stopping set one, else every tree (-1). */
  private defaultNumIteration(): number {
    return this.bestIteration > 0 ? this.bestIteration : -1;
  }

  private readInt32Out(functionName: string, call: (out: Pointer) => number): number {
    return withNativeScope(this.module, (scope) => {
      const out = scope.allocateSlot();
      checkReturnCode(this.module, functionName, call(out));
      return readInt32(this.module, out);
    });
  }
}
