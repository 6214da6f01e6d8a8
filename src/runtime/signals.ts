import type { Logger } from "pino";

// Airflow stops a pod with SIGTERM (then SIGKILL after the grace period): turn the first signal
// into an abort so the workflow stops at a batch boundary and the run is marked KILLED; a second
// signal exits at once.
const HANDLED_SIGNALS = ["SIGINT", "SIGTERM"] as const;
const EXIT_ON_SECOND_SIGNAL = 130;

export async function withAbortOnSignals<T>(log: Logger, body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      log.error({ signal }, "second signal: exiting without cleanup");
      process.exit(EXIT_ON_SECOND_SIGNAL);
    }
    log.warn({ signal }, "stopping at the next batch boundary; send the signal again to exit at once");
    controller.abort(signal);
  };
  for (const signal of HANDLED_SIGNALS) process.on(signal, onSignal);
  try {
    return await body(controller.signal);
  } finally {
    for (const signal of HANDLED_SIGNALS) process.off(signal, onSignal);
  }
}
