import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { datesBetween, listPartitionDates, partitionDirectory } from "../../data/tick/partitions.js";
import { DataError, InterruptedError, ModelExportError, PodtrainError, SpecError, UnavailableError, UsageError, type ExitCode } from "../../core/errors.js";
import type { FeaturePartitionResult } from "./compute-partition.js";
import { datesWithInput, noInputError, runFeatureRange, type FeatureRangeOptions, type PlannedPartition } from "./feature-range.js";

// A range backfill on several cores: dates are independent partitions, so the main thread plans
// the range, splits the dates with input into one block of consecutive dates per worker thread
// (within a block each date hands its prepared day to the next as lookback, as in-process; a
// block costs one extra lookback read), collects the manifests and reports them in date order.
// Outputs are byte for byte those of the in-process run: the workers run the same code path.
// A failing date stops the workers on later dates at once; those on earlier dates finish their
// blocks, so the error thrown is the earliest failing date's, the one the in-process run stops
// at, with the same dates reported and committed before it. SIGINT/SIGTERM (through `signal`)
// terminates every worker. Each write is a temporary file renamed into place, so a terminated
// worker leaves at most its temporary files, which are removed before the error is thrown, and
// partitions without a manifest.

export interface FeatureWorkerData {
  options: FeatureRangeOptions;
  inputDates: readonly string[];
}

export type ToWorker = { dates: readonly string[] };

export type FromWorker =
  | { kind: "partition"; result: FeaturePartitionResult }
  | { kind: "block-done" }
  | { kind: "error"; date: string; name: string; message: string; exitCode?: ExitCode; stack?: string };

type RangeEntry = FeaturePartitionResult | PlannedPartition;

const WORKER_SCRIPT = new URL("./feature-worker.js", import.meta.url);

/** Consecutive blocks of near-equal length, in order. */
export function splitIntoBlocks<T>(items: readonly T[], blocks: number): T[][] {
  const count = Math.max(1, Math.min(blocks, items.length));
  const result: T[][] = [];
  for (let index = 0; index < count; index += 1) {
    result.push(items.slice(Math.floor((index * items.length) / count), Math.floor(((index + 1) * items.length) / count)));
  }
  return result;
}

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

/** Computes the range like runFeatureRange, on up to `workers` worker threads (1: in process). */
export async function runFeatureRangeInWorkers(
  options: FeatureRangeOptions,
  workers: number,
  onPartition: (result: RangeEntry) => void = () => {},
  signal?: AbortSignal,
): Promise<RangeEntry[]> {
  const inputDates = await listPartitionDates(options.inputRoot, options.params.input.partition_key);
  const withInput = await datesWithInput(options, inputDates);
  if (withInput.size === 0) throw noInputError(options, inputDates);
  const dates = datesBetween(options.from, options.to);
  const computeDates = dates.filter((date) => withInput.has(date));
  // One date with workers asked for still gets a worker: a signal then stops it at once.
  if (workers <= 1) return runFeatureRange(options, onPartition);
  if (signal?.aborted) throw new InterruptedError(String(signal.reason));

  const entries = new Map<string, RangeEntry>();
  for (const date of dates) if (!withInput.has(date)) entries.set(date, { date, action: "missing", inputFiles: 0, detail: "no input partition" });
  let reported = 0;
  const reportInOrder = () => {
    while (reported < dates.length && entries.has(dates[reported] as string)) onPartition(entries.get(dates[reported++] as string) as RangeEntry);
  };
  reportInOrder();

  const queue = splitIntoBlocks(computeDates, workers);
  const pool: Worker[] = [];
  /** The block each worker is computing; workers without one are retired. */
  const blocks = new Map<Worker, readonly string[]>();
  let failure: { date: string; error: Error } | undefined;
  let settled = false;
  return new Promise<RangeEntry[]>((resolve, reject) => {
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      blocks.clear();
      void Promise.all(pool.map((worker) => worker.terminate()))
        .then(() => (error ? removeTemporaries(options.outputRoot, computeDates) : undefined))
        .then(
          () => (error ? reject(error) : resolve(dates.map((date) => entries.get(date) as RangeEntry))),
          (cleanupError: unknown) => reject(error ?? cleanupError),
        );
    };
    const onAbort = () => finish(new InterruptedError(String(signal?.reason ?? "signal")));
    signal?.addEventListener("abort", onAbort, { once: true });
    const retire = (worker: Worker) => {
      blocks.delete(worker);
      void worker.terminate();
      if (blocks.size === 0) finish(failure?.error);
    };
    const giveWork = (worker: Worker) => {
      const block = queue.shift();
      if (!block) return retire(worker);
      blocks.set(worker, block);
      worker.postMessage({ dates: block } satisfies ToWorker);
    };
    const fail = (worker: Worker, date: string, error: Error) => {
      if (!failure || date < failure.date) failure = { date, error };
      const first = failure.date;
      // Dates after the earliest failure are never needed: stop their workers, drop their blocks.
      for (let index = queue.length - 1; index >= 0; index -= 1) if ((queue[index]?.[0] ?? "") > first) queue.splice(index, 1);
      const later = [...blocks].filter(([other, block]) => other === worker || (block[0] ?? "") > first).map(([other]) => other);
      for (const other of later) retire(other);
    };
    const count = Math.min(workers, queue.length);
    for (let index = 0; index < count; index += 1) {
      const worker = new Worker(WORKER_SCRIPT, { workerData: { options, inputDates } satisfies FeatureWorkerData });
      pool.push(worker);
      worker.on("message", (message: FromWorker) => {
        if (settled || !blocks.has(worker)) return;
        if (message.kind === "partition") {
          entries.set(message.result.date, message.result);
          if (!failure || message.result.date < failure.date) reportInOrder();
        } else if (message.kind === "block-done") giveWork(worker);
        else fail(worker, message.date, rebuiltError(message));
      });
      // A crash (out of memory, a module that fails to load) is a defect, not a date's data.
      worker.on("error", (error: Error) => finish(new Error(`a tick feature worker failed: ${error.message}`)));
      worker.on("exit", (code) => {
        if (blocks.has(worker)) finish(new Error(`a tick feature worker exited (code ${code}) before its dates were done`));
      });
    }
    for (const worker of pool) giveWork(worker);
  });
}
