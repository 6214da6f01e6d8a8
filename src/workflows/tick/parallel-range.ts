import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { datesBetween, listPartitionDates, partitionDirectory } from "../../data/tick/partitions.js";
import { DataError, InterruptedError, ModelExportError, PodtrainError, SpecError, UnavailableError, UsageError, type ExitCode } from "../../core/errors.js";
import { manifestCodeVersion, type ManifestCodeVersion } from "../../core/code-version.js";
import { computeFeaturePartition, type FeaturePartitionResult } from "./compute-partition.js";
import { prefetchPartitionInput, type InputCache, type PreparedDay } from "./partition-input.js";
import { RangeScheduler } from "./range-scheduler.js";
import { datesWithInput, noInputError, runFeatureRange, type FeatureRangeOptions, type PlannedPartition } from "./feature-range.js";

// A range backfill on several cores: dates are independent partitions except for the lookback,
// so the main thread plans the range and computes dates itself alongside N-1 worker threads
// (the main thread has the modules loaded already; a worker takes about a quarter second to
// load them). Each runner takes consecutive dates, handing each prepared day to the next as
// lookback, and steals the back half of the largest run left when its own is done
// (range-scheduler.ts). Manifests are reported in date order. Outputs are byte for byte those
// of the in-process run: every runner runs the same code path.
// Once a date fails, no date after it is started (one a runner finished before the failure
// was known stays committed, complete, and is not reported); dates before it are still
// computed, so the error thrown is the earliest failing date's, the one the in-process run
// stops at, with the same dates reported and committed before it. SIGINT/SIGTERM (through
// `signal`) terminates every worker and lets the main thread finish the write under way. Each
// write is a temporary file renamed into place, so a terminated worker leaves at most its
// temporary files, which are removed before the error is thrown, and partitions without a
// manifest.

export interface FeatureWorkerData {
  options: FeatureRangeOptions;
  inputDates: readonly string[];
  codeVersion: ManifestCodeVersion;
}

/** A date to compute (null: none left, finish), or the earliest failing date (compute nothing at or after it). */
export type ToWorker = { kind: "date"; date: string | null } | { kind: "stop-at"; date: string };

export type FromWorker =
  | { kind: "partition"; result: FeaturePartitionResult }
  /** Asks for the date after the one it is starting, so that its input is read meanwhile. */
  | { kind: "claim" }
  | { kind: "done" }
  | { kind: "error"; date: string; name: string; message: string; exitCode?: ExitCode; stack?: string };

type RangeEntry = FeaturePartitionResult | PlannedPartition;

const WORKER_SCRIPT = new URL("./feature-worker.js", import.meta.url);

/** The main thread's index among the runners; worker threads are 1..N-1. */
const MAIN_THREAD = 0;

const TYPED_ERRORS: Record<string, new (message: string) => PodtrainError> = { DataError, UsageError, SpecError, UnavailableError, ModelExportError };

/** The worker's error as the main thread's: same class where it is one of ours, same message and exit code. */
function rebuiltError(failure: Extract<FromWorker, { kind: "error" }>): Error {
  const Typed = TYPED_ERRORS[failure.name];
  const error = Typed ? new Typed(failure.message) : failure.exitCode !== undefined ? new PodtrainError(failure.message, failure.exitCode) : new Error(failure.message);
  if (!Typed && failure.exitCode !== undefined) error.name = failure.name;
  if (failure.stack) error.stack = failure.stack;
  return error;
}

/** Removes the temporary files that this process's terminated writers left in these partitions. */
async function removeTemporaries(outputRoot: string, dates: readonly string[]): Promise<void> {
  const marker = `.tmp-${process.pid}-`;
  await Promise.all(
    dates.map(async (date) => {
      const directory = partitionDirectory(outputRoot, date);
      const names = await readdir(directory).catch(() => [] as string[]);
      await Promise.all(names.filter((name) => name.includes(marker)).map((name) => rm(path.join(directory, name), { force: true })));
    }),
  );
}

/** Computes the range like runFeatureRange, on up to `workers` threads (1: in process). */
export async function runFeatureRangeInWorkers(
  options: FeatureRangeOptions,
  workers: number,
  onPartition: (result: RangeEntry) => void = () => {},
  signal?: AbortSignal,
): Promise<RangeEntry[]> {
  if (workers <= 1) return runFeatureRange(options, onPartition);
  const [inputDates, codeVersion] = await Promise.all([listPartitionDates(options.inputRoot, options.params.input.partition_key), manifestCodeVersion()]);
  const withInput = await datesWithInput(options, inputDates);
  if (withInput.size === 0) throw noInputError(options, inputDates);
  const dates = datesBetween(options.from, options.to);
  const computeDates = dates.filter((date) => withInput.has(date));
  if (signal?.aborted) throw new InterruptedError(String(signal.reason));

  const entries = new Map<string, RangeEntry>();
  for (const date of dates) if (!withInput.has(date)) entries.set(date, { date, action: "missing", inputFiles: 0, detail: "no input partition" });
  let reported = 0;
  const reportInOrder = () => {
    while (reported < dates.length && entries.has(dates[reported] as string)) onPartition(entries.get(dates[reported++] as string) as RangeEntry);
  };
  reportInOrder();

  const runners = Math.max(1, Math.min(workers, computeDates.length));
  const scheduler = new RangeScheduler(computeDates, runners);
  const pool = new Map<number, Worker>();
  /** Runners still computing, each with the dates it has claimed and not yet reported. */
  const claimed = new Map<number, Set<string>>();
  let failure: { date: string; error: Error } | undefined;
  let settled = false;
  let mainThreadDone: Promise<void> = Promise.resolve();
  return new Promise<RangeEntry[]>((resolve, reject) => {
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      // The main thread's write under way finishes first, so no temporary file appears after the clean-up.
      void Promise.all([...[...pool.values()].map((worker) => worker.terminate()), mainThreadDone.catch(() => undefined)])
        .then(() => (error ? removeTemporaries(options.outputRoot, computeDates) : undefined))
        .then(
          () => (error ? reject(error) : resolve(dates.map((date) => entries.get(date) as RangeEntry))),
          (cleanupError: unknown) => reject(error ?? cleanupError),
        );
    };
    const onAbort = () => finish(new InterruptedError(String(signal?.reason ?? "signal")));
    signal?.addEventListener("abort", onAbort, { once: true });
    const retire = (runner: number) => {
      if (!claimed.delete(runner)) return;
      const worker = pool.get(runner);
      if (worker) void worker.terminate();
      if (claimed.size === 0) finish(failure?.error);
    };
    const claim = (runner: number): string | undefined => {
      const date = settled ? undefined : scheduler.claim(runner);
      if (date !== undefined) claimed.get(runner)?.add(date);
      return date;
    };
    const record = (runner: number, result: FeaturePartitionResult) => {
      claimed.get(runner)?.delete(result.date);
      entries.set(result.date, result);
      if (!failure || result.date < failure.date) reportInOrder();
    };
    const fail = (runner: number, date: string, error: Error) => {
      if (!failure || date < failure.date) failure = { date, error };
      const first = failure.date;
      scheduler.stopAt(first);
      claimed.get(runner)?.clear();
      if (runner !== MAIN_THREAD) retire(runner);
      // Workers holding only dates after the earliest failure stop at once; the others stop after their earlier dates.
      for (const [other, held] of claimed) {
        if (other === MAIN_THREAD) continue;
        if (held.size > 0 && [...held].every((day) => day > first)) retire(other);
        else pool.get(other)?.postMessage({ kind: "stop-at", date: first } satisfies ToWorker);
      }
    };
    for (let runner = 1; runner < runners; runner += 1) {
      const worker = new Worker(WORKER_SCRIPT, { workerData: { options, inputDates, codeVersion } satisfies FeatureWorkerData });
      pool.set(runner, worker);
      claimed.set(runner, new Set());
      const handOut = () => worker.postMessage({ kind: "date", date: claim(runner) ?? null } satisfies ToWorker);
      worker.on("message", (message: FromWorker) => {
        if (settled || !claimed.has(runner)) return;
        if (message.kind === "partition") record(runner, message.result);
        else if (message.kind === "claim") handOut();
        else if (message.kind === "done") retire(runner);
        else fail(runner, message.date, rebuiltError(message));
      });
      // A crash (out of memory, a module that fails to load) is a defect, not a date's data.
      worker.on("error", (error: Error) => finish(new Error(`a tick feature worker failed: ${error.message}`)));
      worker.on("exit", (code) => {
        if (claimed.has(runner)) finish(new Error(`a tick feature worker exited (code ${code}) before its dates were done`));
      });
      handOut();
    }
    claimed.set(MAIN_THREAD, new Set());
    mainThreadDone = (async () => {
      // The main thread's share, the same loop as a worker's (feature-worker.ts).
      let previous: PreparedDay | null = null;
      const inputCache: InputCache = new Map();
      let date = claim(MAIN_THREAD);
      while (date !== undefined && !settled && scheduler.wanted(date)) {
        const next = claim(MAIN_THREAD);
        prefetchPartitionInput(inputCache, options.inputRoot, next, options.params.input.partition_key);
        let result: FeaturePartitionResult;
        try {
          result = await computeFeaturePartition({ ...options, date, inputDates, previous, inputCache, codeVersion });
        } catch (error) {
          fail(MAIN_THREAD, date, error instanceof Error ? error : new Error(String(error)));
          break;
        }
        previous = result.prepared ?? null;
        if (settled) break;
        record(MAIN_THREAD, { date: result.date, status: result.status, manifest: result.manifest });
        date = next;
      }
      retire(MAIN_THREAD);
    })().catch((error: unknown) => finish(error instanceof Error ? error : new Error(String(error))));
  });
}
