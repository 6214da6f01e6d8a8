import { execFile } from "node:child_process";
import { cp, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const run = promisify(execFile);

export const REPOSITORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const AIRFLOW_PYTHON = path.join(REPOSITORY, ".venv/airflow/bin/python");
export const PYTHON_TESTS = path.join(REPOSITORY, "test/dags/python");

/** Builds (or reuses, by requirements hash) the pinned Airflow venv; about 90 s the first time. */
export async function ensureAirflowVenv(): Promise<void> {
  await run(path.join(REPOSITORY, "scripts/python-env.sh"), ["airflow"], { cwd: REPOSITORY, maxBuffer: 64 << 20 });
}

/** A fresh AIRFLOW_HOME and the environment every Airflow call of the tests uses. */
export async function airflowEnvironment(extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  const home = await mkdtemp(path.join(tmpdir(), "podtrain-airflow-"));
  return {
    ...process.env,
    AIRFLOW_HOME: home,
    AIRFLOW__CORE__LOAD_EXAMPLES: "False",
    AIRFLOW__CORE__UNIT_TEST_MODE: "False",
    ...extra,
  };
}

/** A scratch copy of what the generator reads and writes (specs, deployment config, dags/). */
export async function scratchRepository(): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), "podtrain-dags-"));
  for (const folder of ["models", "deploy", "dags"]) await cp(path.join(REPOSITORY, folder), path.join(root, folder), { recursive: true });
  return root;
}

/** The committed deployment config with its commented-out `object_store:` example switched on. */
export function withObjectStore(config: string): string {
  const enabled = config.replace(/^# object_store:\n((?:# {3}.*\n)+)/m, (block) => block.replaceAll(/^# /gm, ""));
  if (enabled === config) throw new Error("deploy/deployment.yaml has no commented object_store: example");
  return enabled;
}
