import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** A wasm32 address. Values above 2 GB arrive negative from the C ABI; normalise with `>>> 0`. */
export type Pointer = number;

/**
 * The part of the Emscripten module this package uses: the heap views and the exported C
 * functions, named as Emscripten exports them (leading underscore). int64_t arguments are
 * BigInt because the module is linked with -sWASM_BIGINT; size_t and pointers are numbers.
 */
export interface LightGBMModule {
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  HEAPU32: Uint32Array;
  HEAPF32: Float32Array;
  HEAPF64: Float64Array;
  HEAP64?: BigInt64Array;
  _malloc(bytes: number): Pointer;
  _free(pointer: Pointer): void;
  _LGBM_GetLastError(): Pointer;
  _LGBM_DatasetCreateFromMat(
    data: Pointer, dataType: number, numRows: number, numColumns: number, isRowMajor: number,
    parameters: Pointer, reference: Pointer, outHandle: Pointer,
  ): number;
  _LGBM_DatasetSetField(handle: Pointer, fieldName: Pointer, data: Pointer, numElements: number, dataType: number): number;
  _LGBM_DatasetGetNumData(handle: Pointer, out: Pointer): number;
  _LGBM_DatasetGetNumFeature(handle: Pointer, out: Pointer): number;
  _LGBM_DatasetFree(handle: Pointer): number;
  _LGBM_BoosterCreate(trainData: Pointer, parameters: Pointer, outHandle: Pointer): number;
  _LGBM_BoosterLoadModelFromString(model: Pointer, outNumIterations: Pointer, outHandle: Pointer): number;
  _LGBM_BoosterFree(handle: Pointer): number;
  _LGBM_BoosterAddValidData(handle: Pointer, validData: Pointer): number;
  _LGBM_BoosterUpdateOneIter(handle: Pointer, outIsFinished: Pointer): number;
  _LGBM_BoosterGetCurrentIteration(handle: Pointer, out: Pointer): number;
  _LGBM_BoosterGetNumClasses(handle: Pointer, out: Pointer): number;
  _LGBM_BoosterGetNumFeature(handle: Pointer, out: Pointer): number;
  _LGBM_BoosterGetEvalCounts(handle: Pointer, out: Pointer): number;
  _LGBM_BoosterGetEvalNames(
    handle: Pointer, length: number, outLength: Pointer, bufferBytes: number, outBufferBytes: Pointer, outStrings: Pointer,
  ): number;
  _LGBM_BoosterGetEval(handle: Pointer, dataIndex: number, outLength: Pointer, outResults: Pointer): number;
  _LGBM_BoosterCalcNumPredict(
    handle: Pointer, numRows: number, predictType: number, startIteration: number, numIteration: number, outLength: Pointer,
  ): number;
  _LGBM_BoosterPredictForMat(
    handle: Pointer, data: Pointer, dataType: number, numRows: number, numColumns: number, isRowMajor: number,
    predictType: number, startIteration: number, numIteration: number, parameters: Pointer, outLength: Pointer,
    outResult: Pointer,
  ): number;
  _LGBM_BoosterSaveModelToString(
    handle: Pointer, startIteration: number, numIteration: number, importanceType: number, bufferBytes: bigint,
    outLength: Pointer, outString: Pointer,
  ): number;
  _LGBM_BoosterFeatureImportance(handle: Pointer, numIteration: number, importanceType: number, outResults: Pointer): number;
}

interface EmscriptenModuleOptions {
  wasmBinary: Uint8Array;
  print: (text: string) => void;
  printErr: (text: string) => void;
}

type ModuleFactory = (options: EmscriptenModuleOptions) => Promise<LightGBMModule>;

const DIST_RELATIVE_PATH = join("native", "lightgbm", "dist");
const LOADER_FILE = "lightgbm.cjs";
const WASM_FILE = "lightgbm.wasm";

let modulePromise: Promise<LightGBMModule> | undefined;

/**
 * Finds native/lightgbm/dist by walking up from this file, so the same code works from
 * src/ (vitest, tsx) and from the compiled dist/src/ tree.
 */
export function findDistDirectory(startDirectory = dirname(fileURLToPath(import.meta.url))): string {
  const override = process.env.PODTRAIN_LIGHTGBM_DIST;
  if (override) return override;
  let directory = startDirectory;
  for (;;) {
    const candidate = join(directory, DIST_RELATIVE_PATH);
    if (existsSync(join(candidate, WASM_FILE))) return candidate;
    const parent = dirname(directory);
    if (parent === directory) {
      throw new Error(`LightGBM wasm build not found: no ${DIST_RELATIVE_PATH}/${WASM_FILE} above ${startDirectory}`);
    }
    directory = parent;
  }
}

/**
 * Loads the LightGBM WebAssembly module once per process; later calls share it.
 * The wasm bytes are read here and handed over as `wasmBinary` because Emscripten 3.1.6's
 * loader would otherwise try `fetch` on a file path under Node 20 and fail.
 */
export function loadLightGBM(): Promise<LightGBMModule> {
  if (!modulePromise) {
    modulePromise = instantiate().catch((error: unknown) => {
      modulePromise = undefined; // let a later call retry, e.g. after the build was restored
      throw error;
    });
  }
  return modulePromise;
}

async function instantiate(): Promise<LightGBMModule> {
  const distDirectory = findDistDirectory();
  const require = createRequire(import.meta.url);
  const factory = require(join(distDirectory, LOADER_FILE)) as ModuleFactory;
  const wasmBinary = readFileSync(join(distDirectory, WASM_FILE));
  return factory({
    wasmBinary,
    // LightGBM's own log lines ("[LightGBM] [Warning] ...") go to stderr so that stdout stays
    // free for the program's output; `verbosity` controls how many there are.
    print: (text) => process.stderr.write(`${text}\n`),
    printErr: (text) => process.stderr.write(`${text}\n`),
  });
}
