import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

export const REPOSITORY_ROOT = path.resolve(import.meta.dirname, "../..");
export const TOOLS_BIN = path.join(REPOSITORY_ROOT, ".venv/tools/bin");
export const TOOLS_PYTHON = path.join(TOOLS_BIN, "python");

/** Builds the pinned tools environment when missing (idempotent, cheap when up to date). */
export async function ensureToolsEnvironment(): Promise<void> {
  await promisify(execFile)(path.join(REPOSITORY_ROOT, "scripts/python-env.sh"), ["tools"], { cwd: REPOSITORY_ROOT, timeout: 900_000 });
}

/** The pinned Python environment (MLflow, LightGBM, polars…), built on first use. */
export function toolsPython(): string {
  const python = path.join(REPOSITORY_ROOT, ".venv/tools/bin/python");
  if (!existsSync(path.join(REPOSITORY_ROOT, ".venv/tools/.requirements.sha256"))) {
    execFileSync(path.join(REPOSITORY_ROOT, "scripts/python-env.sh"), ["tools"], { stdio: "inherit" });
  }
  return python;
}

/** Runs a Python snippet with the real MLflow and returns its stdout parsed as JSON. */
export async function runPythonJson<T>(code: string, environment: Record<string, string> = {}): Promise<T> {
  const { stdout } = await promisify(execFile)(toolsPython(), ["-c", code], {
    env: { ...process.env, MLFLOW_ALLOW_FILE_STORE: "true", PYTHONWARNINGS: "ignore", ...environment },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  const lastLine = stdout.trim().split("\n").at(-1) ?? "null";
  return JSON.parse(lastLine) as T;
}
