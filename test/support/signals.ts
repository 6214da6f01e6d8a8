import { spawn } from "node:child_process";
import path from "node:path";
import { REPOSITORY_ROOT } from "./python.js";

// Runs the real `train` binary and sends it real signals once a log line shows up: how a
// Kubernetes pod is stopped (SIGTERM, then SIGKILL after the grace period) or preempted.

const GUARD_MS = 100_000;

export interface SignalledRun {
  exitCode: number | null;
  /** The signal that ended the process (SIGKILL), when it did not exit by itself. */
  exitSignal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the first signal to the process' exit; undefined when none was sent. */
  msToExit?: number;
}

export interface SignalPlan {
  /** Send once stderr matches this… */
  after: RegExp;
  /** …and this many milliseconds have passed. */
  delayMs?: number;
  signals: NodeJS.Signals[];
  /** Between consecutive signals. */
  gapMs?: number;
}

export function runTrainWithSignals(args: string[], plan?: SignalPlan, env: Record<string, string | undefined> = {}): Promise<SignalledRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPOSITORY_ROOT, "bin/train.js"), ...args], {
      cwd: REPOSITORY_ROOT,
      env: { ...process.env, MLFLOW_TRACKING_URI: "", AIRFLOW_CTX_DAG_ID: undefined, ...env } as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let firstSignalAt: number | undefined;
    let armed = false;
    const timers: NodeJS.Timeout[] = [];
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!plan || armed || !plan.after.test(stderr)) return;
      armed = true;
      plan.signals.forEach((signal, index) => {
        timers.push(
          setTimeout(() => {
            firstSignalAt ??= performance.now();
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          }, (plan.delayMs ?? 0) + index * (plan.gapMs ?? 0)),
        );
      });
    });
    // Shorter than the tests' own timeouts, so a run that ignores its signal cannot outlive the test.
    const guard = setTimeout(() => child.kill("SIGKILL"), GUARD_MS);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(guard);
      timers.forEach(clearTimeout);
      resolve({ exitCode: code, exitSignal: signal, stdout, stderr, ...(firstSignalAt === undefined ? {} : { msToExit: performance.now() - firstSignalAt }) });
    });
  });
}

/** The JSON log lines (pino) of a run with --log-format json. */
export function logLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
