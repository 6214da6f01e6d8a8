import { C_API_DTYPE_FLOAT32, C_API_IS_ROW_MAJOR } from "./constants.js";
import { checkReturnCode } from "./errors.js";
import { describeMatrix, type Matrix } from "./matrix.js";
import { loadLightGBM, type LightGBMModule, type Pointer } from "./module.js";
import { readInt32, readPointer, withNativeScope } from "./memory.js";
import { resolvedThreads, serializeParameters, type LightGBMParameters } from "./parameters.js";

export interface DatasetOptions extends Matrix {
  /** One label per row. LightGBM stores labels as float32; other arrays are converted. */
  labels: ArrayLike<number>;
  /** Optional per-row weights, stored as float32 like the labels. */
  weights?: ArrayLike<number>;
  /**
   * The training Dataset when this one is a validation set: LightGBM then bins it with the
   * training set's bin boundaries, which validation needs.
   */
  reference?: Dataset;
  /**
   * Parameters that shape binning (max_bin, min_data_in_bin, data_random_seed, ...). Pass
   * the same object as to `train()`, as Python's lightgbm does, to get the same model.
   */
  parameters?: LightGBMParameters;
}

/**
 * A LightGBM Dataset in wasm memory. A booster reads it while it trains, so dispose it only
 * after `train()` returned; the trained booster does not need it for predict or save.
 */
export class Dataset {
  private handle: Pointer;

  private constructor(
    readonly module: LightGBMModule,
    handle: Pointer,
    readonly numRows: number,
    readonly numColumns: number,
  ) {
    this.handle = handle;
  }

  /** Builds a Dataset from a row-major matrix and its labels (LGBM_DatasetCreateFromMat). */
  static async fromMatrix(options: DatasetOptions): Promise<Dataset> {
    // Binning runs LightGBM's parallel loops too, on the parameters' num_threads.
    const module = await loadLightGBM(resolvedThreads(options.parameters));
    const { numRows, dataType } = describeMatrix(options);
    if (options.labels.length !== numRows) {
      throw new RangeError(`labels has ${options.labels.length} values for ${numRows} rows`);
    }
    if (options.weights && options.weights.length !== numRows) {
      throw new RangeError(`weights has ${options.weights.length} values for ${numRows} rows`);
    }
    if (options.reference && options.reference.numColumns !== options.numColumns) {
      throw new RangeError(
        `validation data has ${options.numColumns} columns, its reference ${options.reference.numColumns}`,
      );
    }
    const referenceHandle = options.reference ? options.reference.nativeHandle : 0;
    const handle = withNativeScope(module, (scope) => {
      const outHandle = scope.allocateSlot();
      const returnCode = module._LGBM_DatasetCreateFromMat(
        scope.copy(options.values), dataType, numRows, options.numColumns, C_API_IS_ROW_MAJOR,
        scope.string(serializeParameters(options.parameters)), referenceHandle, outHandle,
      );
      checkReturnCode(module, "LGBM_DatasetCreateFromMat", returnCode);
      return readPointer(module, outHandle);
    });
    const dataset = new Dataset(module, handle, numRows, options.numColumns);
    try {
      dataset.setFloat32Field("label", options.labels);
      if (options.weights) dataset.setFloat32Field("weight", options.weights);
    } catch (error) {
      dataset.dispose();
      throw error;
    }
    return dataset;
  }

  /** The native DatasetHandle; throws once disposed so a freed handle is never passed on. */
  get nativeHandle(): Pointer {
    if (this.handle === 0) throw new Error("Dataset used after dispose()");
    return this.handle;
  }

  get disposed(): boolean {
    return this.handle === 0;
  }

  /** Number of features LightGBM kept (constant columns are dropped from binning, not counted out). */
  numFeatures(): number {
    return withNativeScope(this.module, (scope) => {
      const out = scope.allocateSlot();
      checkReturnCode(this.module, "LGBM_DatasetGetNumFeature", this.module._LGBM_DatasetGetNumFeature(this.nativeHandle, out));
      return readInt32(this.module, out);
    });
  }

  private setFloat32Field(fieldName: "label" | "weight", values: ArrayLike<number>): void {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    withNativeScope(this.module, (scope) => {
      const returnCode = this.module._LGBM_DatasetSetField(
        this.nativeHandle, scope.string(fieldName), scope.copy(data), data.length, C_API_DTYPE_FLOAT32,
      );
      checkReturnCode(this.module, "LGBM_DatasetSetField", returnCode);
    });
  }

  /** Frees the native Dataset. Safe to call twice. */
  dispose(): void {
    if (this.handle === 0) return;
    const handle = this.handle;
    this.handle = 0;
    checkReturnCode(this.module, "LGBM_DatasetFree", this.module._LGBM_DatasetFree(handle));
  }
}
