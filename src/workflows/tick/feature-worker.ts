import { parentPort, workerData } from "node:worker_threads";
import { PodtrainError } from "../../core/errors.js";
import { computeFeaturePartition } from "./compute-partition.js";
import type { FeatureWorkerData, FromWorker, ToWorker } from "./parallel-range.js";
import { prefetchPartitionInput, type InputCache, type PreparedDay } from "./partition-input.js";

// One worker thread of a parallel range run (parallel-range.ts): it computes the blocks of
// consecutive dates the main thread hands it with the same code path as an in-process range
// (each date hands its prepared day to the next as lookback), and posts each manifest back.
// A failure is posted as name, message and exit code, so the main thread throws the same typed
// error the in-process run would have.

const data = workerData as FeatureWorkerData;
const port = parentPort;
if (!port) throw new Error("feature-worker.js runs as a worker thread only");

let current = "";

async function computeBlock(dates: readonly string[]): Promise<void> {
  let previous: PreparedDay | null = null;
  const inputCache: InputCache = new Map();
  for (const [index, date] of dates.entries()) {
    current = date;
    prefetchPartitionInput(inputCache, data.options.inputRoot, dates[index + 1], data.options.params.input.partition_key);
    const result = await computeFeaturePartition({ ...data.options, date, inputDates: data.inputDates, previous, inputCache });
    previous = result.prepared ?? null;
    const message: FromWorker = { kind: "partition", result: { date: result.date, status: result.status, manifest: result.manifest } };
    port?.postMessage(message);
  }
}

port.on("message", (message: ToWorker) => {
  computeBlock(message.dates).then(
    () => port.postMessage({ kind: "block-done" } satisfies FromWorker),
    (error: unknown) => {
      const failure: FromWorker = error instanceof Error
        ? { kind: "error", date: current, name: error.name, message: error.message, exitCode: error instanceof PodtrainError ? error.exitCode : undefined, stack: error.stack }
        : { kind: "error", date: current, name: "Error", message: String(error) };
      port.postMessage(failure);
    },
  );
});
