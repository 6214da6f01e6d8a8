import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Worker } from "node:worker_threads";

import { defaultThreads, LIGHTGBM_THREADS_ENV, MAX_LIGHTGBM_THREADS } from "./threads.js";

/** A wasm32 address. Values above 2 GB arrive negative from the C ABI; normalise with `>>> 0`. */
export type Pointer = number;

/**
 * The part of the Emscripten module this package uses: the heap views and the exported C
 * functions, named as Emscripten exports them (leading underscore). int64_t arguments are
 * BigInt because the module is linked with -sWASM_BIGINT; size_t and pointers are numbers.
 * The memory is shared with the worker threads, and a worker that grows it leaves the HEAP*
 * views here stale: read them through heapViews() in memory.ts, which checks.
 */
export interface LightGBMModule {
  /** The WebAssembly.Memory (shared): its `buffer` is the current heap. */
  wasmMemory: { readonly buffer: ArrayBufferLike };
  /** Emscripten's pthread bookkeeping: the Node Workers behind the threads. */
  PThread: { runningWorkers: Worker[]; unusedWorkers: Worker[] };
  /** Starts the OpenMP worker threads (native/lightgbm/openmp/kmp.c); returns how many run. */
  _podtrain_omp_start(workers: number): number;
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
  /** Workers Emscripten starts before the module resolves (-sPTHREAD_POOL_SIZE reads it). */
  lightgbmWorkers: number;
  print: (text: string) => void;
  printErr: (text: string) => void;
}

type ModuleFactory = (options: EmscriptenModuleOptions) => Promise<LightGBMModule>;

const DIST_RELATIVE_PATH = join("native", "lightgbm", "dist");
const LOADER_FILE = "lightgbm.cjs";
const WASM_FILE = "lightgbm.wasm";

let modulePromise: Promise<LightGBMModule> | undefined;
const threadCapacity = new WeakMap<LightGBMModule, number>();

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
 *
 * The module starts its threads here, once: as many as the default num_threads (the pod's CPUs,
 * see threads.ts), or `threads` when the first caller asks for more. Sizing from the CPUs
 * rather than from every request keeps a process from collecting Workers; asking for more
 * threads than a loaded module has is refused by requireThreads() with what to do instead.
 */
export async function loadLightGBM(threads?: number): Promise<LightGBMModule> {
  if (!modulePromise) {
    const capacity = Math.max(defaultThreads(), threads ?? 1);
    modulePromise = instantiate(capacity).catch((error: unknown) => {
      modulePromise = undefined; // let a later call retry, e.g. after the build was restored
      throw error;
    });
  }
  const module = await modulePromise;
  if (threads !== undefined) requireThreads(module, threads);
  return module;
}

/** The threads `module` runs its parallel loops on at most. */
export function lightgbmThreadCapacity(module: LightGBMModule): number {
  return threadCapacity.get(module) ?? 1;
}

/** Refuses a num_threads the module cannot honour (its threads are fixed once loaded). */
export function requireThreads(module: LightGBMModule, threads: number): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_LIGHTGBM_THREADS) {
    throw new RangeError(`LightGBM num_threads must be an integer from 1 to ${MAX_LIGHTGBM_THREADS}, got ${threads}`);
  }
  const capacity = lightgbmThreadCapacity(module);
  if (threads > capacity) {
    throw new RangeError(
      `LightGBM num_threads=${threads} is more than the ${capacity} threads this process started LightGBM with; ` +
      `use num_threads<=${capacity}, or set ${LIGHTGBM_THREADS_ENV}=${threads} before the process starts`,
    );
  }
}

async function instantiate(capacity: number): Promise<LightGBMModule> {
  const distDirectory = findDistDirectory();
  const require = createRequire(import.meta.url);
  const factory = require(join(distDirectory, LOADER_FILE)) as ModuleFactory;
  const wasmBinary = readFileSync(join(distDirectory, WASM_FILE));
  const workers = capacity - 1;
  const module = await factory({
    wasmBinary,
    // The calling thread is one of the team; Emscripten needs a pool of at least one Worker.
    lightgbmWorkers: Math.max(workers, 1),
    // LightGBM's own log lines ("[LightGBM] [Warning] ...") go to stderr so that stdout stays
    // free for the program's output; `verbosity` controls how many there are.
    print: (text) => process.stderr.write(`${text}\n`),
    printErr: (text) => process.stderr.write(`${text}\n`),
  });
  const started = module._podtrain_omp_start(workers);
  threadCapacity.set(module, started + 1);
  // The Workers wait for parallel regions forever; unreferenced, they do not keep Node running
  // once the program's own work is done (the CLI exits when training has finished).
  for (const worker of [...module.PThread.runningWorkers, ...module.PThread.unusedWorkers]) worker.unref();
  return module;
}
