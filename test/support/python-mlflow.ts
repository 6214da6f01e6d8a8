import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { TOOLS_PYTHON } from "./mlflow-server.js";

// Reads back what the TypeScript client wrote with the real Python MLflow client: the reference
// for "arrived correctly". The script prints one JSON document on its last line.

export async function runPythonJson<T>(script: string, environment: Record<string, string> = {}): Promise<T> {
  const { stdout } = await promisify(execFile)(TOOLS_PYTHON, ["-c", script], {
    env: { ...process.env, MLFLOW_ALLOW_FILE_STORE: "true", ...environment },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines.at(-1) ?? "null") as T;
}
