import { spawn } from "node:child_process";
import path from "node:path";
import { REPOSITORY_ROOT } from "./python.js";

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `train` binary (compiled dist/, as users and pods run it). */
export function runTrain(args: string[], options: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPOSITORY_ROOT, "bin/train.js"), ...args], {
      cwd: options.cwd ?? REPOSITORY_ROOT,
      env: { ...process.env, MLFLOW_TRACKING_URI: undefined, AIRFLOW_CTX_DAG_ID: undefined, ...options.env } as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 600_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/** The lines of stderr that are errors (TensorFlow's own load notices are not ours). */
export function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.startsWith("train: error:"));
}
