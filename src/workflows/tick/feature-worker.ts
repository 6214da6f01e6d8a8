import { parentPort, workerData } from "node:worker_threads";
import { PodtrainError } from "../../core/errors.js";
import { computeFeaturePartition } from "./compute-partition.js";
import type { FeatureWorkerData, FromWorker, ToWorker } from "./parallel-range.js";
import { prefetchPartitionInput, type InputCache, type PreparedDay } from "./partition-input.js";

// One worker thread of a parallel range run (parallel-range.ts): it computes the dates the main
// thread hands it, one at a time, with the same code path as an in-process range (each date
// hands its prepared day to the next as lookback, so consecutive dates read their input once),
// and posts each manifest back. It asks for its next date as it starts one, so that the next
// date's input is read while this one computes. A failure is posted as name, message and exit
// code, so the main thread throws the same typed error the in-process run would have.

const data = workerData as FeatureWorkerData;
const port = parentPort;
if (!port) throw new Error("feature-worker.js runs as a worker thread only");

const inbox: Array<string | null> = [];
let waiting: ((date: string | null) => void) | undefined;
/** The earliest failing date of the range: nothing at or after it is computed. */
let stopAt: string | undefined;
let current = "";

port.on("message", (message: ToWorker) => {
  if (message.kind === "stop-at") {
    if (stopAt === undefined || message.date < stopAt) stopAt = message.date;
    return;
  }
  const resolve = waiting;
  waiting = undefined;
  if (resolve) resolve(message.date);
  else inbox.push(message.date);
});

function nextDate(): Promise<string | null> {
  if (inbox.length > 0) return Promise.resolve(inbox.shift() as string | null);
  return new Promise((resolve) => (waiting = resolve));
}

async function computeDates(): Promise<void> {
  const { options } = data;
  let previous: PreparedDay | null = null;
  const inputCache: InputCache = new Map();
  let date = await nextDate();
  while (date !== null && (stopAt === undefined || date < stopAt)) {
    current = date;
    port?.postMessage({ kind: "claim" } satisfies FromWorker);
    const following = nextDate();
    void following.then((next) => prefetchPartitionInput(inputCache, options.inputRoot, next ?? undefined, options.params.input.partition_key));
    const result = await computeFeaturePartition({ ...options, date, inputDates: data.inputDates, previous, inputCache, codeVersion: data.codeVersion });
    previous = result.prepared ?? null;
    port?.postMessage({ kind: "partition", result: { date: result.date, status: result.status, manifest: result.manifest } } satisfies FromWorker);
    date = await following;
  }
}

computeDates().then(
  () => port.postMessage({ kind: "done" } satisfies FromWorker),
  (error: unknown) => {
    const failure: FromWorker = error instanceof Error
      ? { kind: "error", date: current, name: error.name, message: error.message, exitCode: error instanceof PodtrainError ? error.exitCode : undefined, stack: error.stack }
      : { kind: "error", date: current, name: "Error", message: String(error) };
    port.postMessage(failure);
  },
);
