import type { Logger } from "pino";
import { InterruptedError } from "../core/errors.js";

// Kubernetes stops a pod with SIGTERM, then SIGKILLs it after terminationGracePeriodSeconds
// (30 s by default). The first SIGTERM/SIGINT aborts the signal the workflow polls between
// steps, so it stops at the next step boundary, writes a checkpoint and marks the run KILLED.
// The whole shutdown is bounded by the grace period: when it runs out, or on a second signal,
// the run is still marked KILLED (a bounded, best-effort call) before the process exits, so a
// preempted run is never left RUNNING.
const HANDLED_SIGNALS = ["SIGINT", "SIGTERM"] as const;
export const DEFAULT_GRACE_PERIOD_SECONDS = 25;
/** At most this long (and at most a quarter of the grace period) for the last "mark the run KILLED" call. */
const FORCED_EXIT_CLEANUP_MS = 3000;
/** Even a grace period already spent gets this long to mark the run. */
const MINIMUM_CLEANUP_MS = 250;

export interface SignalOptions {
  /** Seconds from the first signal until the process exits whatever it is doing. */
  gracePeriodSeconds?: number;
  /** Last words on a forced exit (mark the run KILLED); bounded by the remaining grace period. */
  onForcedExit?(reason: string): Promise<void>;
}

let forcedExitUnderway = false;
/** withAbortOnSignals calls whose handlers are installed. */
let handlersInstalled = 0;

/** True while a run handles SIGINT/SIGTERM itself (a signal then stops the run, not the process at once). */
export function areStopSignalsHandled(): boolean {
  return handlersInstalled > 0;
}

/** True once a forced exit has printed the error line: the CLI must not print a second one. */
export function isForcedExitUnderway(): boolean {
  return forcedExitUnderway;
}


export async function withAbortOnSignals<T>(log: Logger, options: SignalOptions, body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const graceMs = (options.gracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_SECONDS) * 1000;
  let deadline = Number.POSITIVE_INFINITY;
  let forcing = false;
  const forceExit = (first: NodeJS.Signals, why: string) => {
    if (forcing) return;
    forcing = true;
    forcedExitUnderway = true;
    const interrupted = new InterruptedError(first);
    log.error({ signal: first }, `${why}: marking the run KILLED and exiting`);
    process.stderr.write(`train: error: ${interrupted.message} (${why})\n`);
    const bound = Math.max(MINIMUM_CLEANUP_MS, Math.min(FORCED_EXIT_CLEANUP_MS, deadline - Date.now()));
    const cleanup = options.onForcedExit?.(`${interrupted.message} (${why})`).catch(() => undefined) ?? Promise.resolve();
    void Promise.race([cleanup, new Promise((resolve) => setTimeout(resolve, bound))]).finally(() => process.exit(interrupted.exitCode));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      forceExit(controller.signal.reason as NodeJS.Signals, `second signal ${signal}`);
      return;
    }
    deadline = Date.now() + graceMs;
    log.warn({ signal, grace_period_s: graceMs / 1000 }, "stopping at the next step boundary; send the signal again to exit at once");
    controller.abort(signal);
    // The checkpoint gets the grace period less the time kept back for marking the run.
    const reserve = Math.min(FORCED_EXIT_CLEANUP_MS, graceMs / 4);
    setTimeout(() => forceExit(signal, `grace period of ${graceMs / 1000} s ran out`), graceMs - reserve).unref();
  };
  for (const signal of HANDLED_SIGNALS) process.on(signal, onSignal);
  handlersInstalled += 1;
  try {
    return await body(controller.signal);
  } finally {
    // Keep handling signals until the caller has marked the run; the CLI entry point exits next.
    if (!controller.signal.aborted) {
      for (const signal of HANDLED_SIGNALS) process.off(signal, onSignal);
      handlersInstalled -= 1;
    }
  }
}
