import { usableCpus } from "../core/cpu-count.js";
import { SpecError } from "../core/errors.js";

// How many threads LightGBM's OpenMP loops run on in the WebAssembly build. The module starts its
// worker threads once per process (Emscripten pthreads: one Node Worker each, sharing the wasm
// memory), so the count is settled when it loads.

/** Upper bound for num_threads: a pod rarely has more cores, and each thread is a Node Worker (~10 MB). */
export const MAX_LIGHTGBM_THREADS = 64;

/** Overrides the default thread count (the CPUs the process may use), e.g. to oversubscribe on purpose. */
export const LIGHTGBM_THREADS_ENV = "PODTRAIN_LIGHTGBM_THREADS";

/** Parses a thread count; undefined when it is not an integer in 1..MAX_LIGHTGBM_THREADS. */
export function parseThreadCount(text: string): number | undefined {
  if (!/^\s*\d+\s*$/.test(text)) return undefined;
  const value = Number(text);
  return value >= 1 && value <= MAX_LIGHTGBM_THREADS ? value : undefined;
}

export interface ThreadDefaultSources {
  env?: NodeJS.ProcessEnv;
  /** Where cgroup files are read (tests pass a folder holding cpu.max). */
  cgroupRoot?: string;
  /** The affinity mask's CPU count (default os.availableParallelism()). */
  parallelism?: number;
}

/**
 * The default num_threads: PODTRAIN_LIGHTGBM_THREADS when set, else the CPUs the process may use
 * (affinity mask capped by the cgroup CPU quota, i.e. a Kubernetes CPU limit), at most
 * MAX_LIGHTGBM_THREADS. A malformed override is refused (SpecError, exit 78: deployment config)
 * rather than ignored: it was meant.
 */
export function resolveDefaultThreads(sources: ThreadDefaultSources = {}): number {
  const override = (sources.env ?? process.env)[LIGHTGBM_THREADS_ENV];
  if (override !== undefined && override !== "") {
    const parsed = parseThreadCount(override);
    if (parsed === undefined) {
      throw new SpecError(`${LIGHTGBM_THREADS_ENV}=${JSON.stringify(override)} is not a thread count: use an integer from 1 to ${MAX_LIGHTGBM_THREADS}`);
    }
    return parsed;
  }
  const cpus = usableCpus({ cgroupRoot: sources.cgroupRoot, parallelism: sources.parallelism });
  return Math.min(cpus, MAX_LIGHTGBM_THREADS);
}

let resolvedDefault: number | undefined;

/** resolveDefaultThreads() for this process, computed once so every caller sees the same number. */
export function defaultThreads(): number {
  resolvedDefault ??= resolveDefaultThreads();
  return resolvedDefault;
}
