import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { generateDags, renderDagFiles } from "../../src/dags/generate.js";
import { startMlflowServer } from "../support/mlflow-server.js";
import { runPythonJson } from "../support/python.js";
import { AIRFLOW_PYTHON, airflowEnvironment, ensureAirflowVenv, PYTHON_TESTS, REPOSITORY, run, scratchRepository } from "./helpers.js";

// `dags generate --target local`: the same DAGs with BashOperator steps running the built CLI,
// so `airflow dags test` runs the real orchestration on one machine.

const AIRFLOW = path.join(REPOSITORY, ".venv/airflow/bin/airflow");

/** The JSON list an `airflow … --output json` printed (its warnings go to stdout too). */
function jsonList<T>(stdout: string): T[] {
  const line = stdout.split("\n").findLast((candidate) => candidate.startsWith("["));
  if (line === undefined) throw new Error(`no JSON list in: ${stdout.slice(0, 500)}`);
  return JSON.parse(line) as T[];
}

/** Generates the local DAGs for `root`, migrates a fresh Airflow DB and runs `airflow dags test`. */
async function airflowDagsTest(root: string, dagId: string, extraEnvironment: Record<string, string> = {}): Promise<{ pools: string; states: Record<string, string> }> {
  const { out } = await generateDags({ root, target: "local" });
  const environment = await airflowEnvironment({ AIRFLOW__CORE__DAGS_FOLDER: out, PYTHONPATH: path.join(REPOSITORY, "dags"), ...extraEnvironment });
  await run(AIRFLOW, ["db", "migrate"], { env: environment, maxBuffer: 64 << 20 });
  // The committed pools file, imported the way a deployment does it.
  await run(AIRFLOW, ["pools", "import", path.join(REPOSITORY, "dags/pools.json")], { env: environment, maxBuffer: 64 << 20 });
  await run(AIRFLOW, ["dags", "test", dagId, "2026-01-12"], { env: environment, cwd: root, maxBuffer: 64 << 20 });
  const { stdout: pools } = await run(AIRFLOW, ["pools", "list", "--output", "json"], { env: environment, maxBuffer: 64 << 20 });
  const { stdout: runs } = await run(AIRFLOW, ["dags", "list-runs", dagId, "--output", "json"], { env: environment, maxBuffer: 64 << 20 });
  const [runId] = jsonList<{ run_id: string }>(runs).map((entry) => entry.run_id);
  const { stdout: tasks } = await run(AIRFLOW, ["tasks", "states-for-dag-run", dagId, runId ?? "", "--output", "json"], { env: environment, maxBuffer: 64 << 20 });
  const states = Object.fromEntries(jsonList<{ task_id: string; state: string }>(tasks).map((task) => [task.task_id, task.state]));
  return { pools, states };
}

beforeAll(async () => {
  await ensureAirflowVenv();
});

describe("local target", () => {
  it("renders BashOperator steps running the built CLI from the checkout, deterministically", async () => {
    const first = await renderDagFiles({ root: REPOSITORY, target: "local" });
    expect([...(await renderDagFiles({ root: REPOSITORY, target: "local" })).entries()]).toEqual([...first.entries()]);
    const mnist = first.get("mnist_cnn_training.py") ?? "";
    expect(mnist).toContain("regenerate with: npx train dags generate --target local --out-dir .cache/dags-local");
    expect(mnist).toContain(`REPOSITORY = ${JSON.stringify(REPOSITORY)}`);
    expect(mnist).toContain('node bin/train.js mnist --stage fit --xcom \\"$xcom\\" --spec models/mnist_cnn.yaml 1>&2; cat \\"$xcom\\"');
    expect(mnist).not.toContain("KubernetesPodOperator");
    // The lateness deadline too: `airflow dags test` below runs it through common.deadlines.
    expect(mnist).toContain("deadline=LATENESS_DEADLINE");
    expect(mnist).toMatch(/\ndeadline_safe_test\(dag\)\n?$/);
  });

  it("parses in a real DagBag with no import errors", async () => {
    const folder = await mkdtemp(path.join(tmpdir(), "podtrain-local-dags-"));
    const { out } = await generateDags({ root: REPOSITORY, target: "local", out: path.relative(REPOSITORY, folder) });
    const output = path.join(folder, "dagbag.json");
    const environment = await airflowEnvironment({ PYTHONPATH: path.join(REPOSITORY, "dags") });
    await run(AIRFLOW_PYTHON, [path.join(PYTHON_TESTS, "inspect_dagbag.py"), out, output], { env: environment, maxBuffer: 64 << 20 });
    const dump = JSON.parse(await readFile(output, "utf8")) as {
      import_errors: Record<string, string>;
      dags: Record<string, { tasks: Record<string, { operator: string; cwd?: string; pool: string }> }>;
    };
    expect(dump.import_errors).toEqual({});
    expect(Object.keys(dump.dags)).toHaveLength(4);
    const fit = dump.dags.mnist_cnn_training?.tasks.fit;
    expect(fit).toMatchObject({ operator: "BashOperator", cwd: REPOSITORY, pool: "gpu_pool" });
    await rm(folder, { recursive: true, force: true });
  });

  it("runs `airflow dags test mnist_cnn_training` end to end against a stub train CLI", { timeout: 300_000 }, async () => {
    const root = await scratchRepository();
    await mkdir(path.join(root, "bin"), { recursive: true });
    await copyFile(path.join(PYTHON_TESTS, "stub_train_cli.mjs"), path.join(root, "bin/train.js"));
    await writeFile(path.join(root, "package.json"), '{ "type": "module" }\n');
    const { pools, states } = await airflowDagsTest(root, "mnist_cnn_training");
    expect(states).toEqual({ validate: "success", fit: "success", evaluate: "success", register: "success", has_candidate: "success", approve: "skipped", promote: "skipped", reject: "skipped" });
    const slots = Object.fromEntries((JSON.parse(pools) as Array<{ pool: string; slots: string | number }>).map((pool) => [pool.pool, Number(pool.slots)]));
    expect(slots).toEqual({ default_pool: 128, gpu_pool: 2, high_priority_cpu: 8 });
    const calls = (await readFile(path.join(root, "calls.jsonl"), "utf8")).trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    // The stub registers no version: has_candidate skips approve, promote and reject, and the run finishes.
    expect(calls.map((call) => call.taskId)).toEqual(["validate", "fit", "evaluate", "register"]);
    expect(calls.map((call) => (call.args as string[]).slice(0, 3))).toEqual([
      ["mnist", "validate", "--spec"],
      ["mnist", "--stage", "fit"],
      ["mnist", "--stage", "evaluate"],
      ["mnist", "--stage", "register"],
    ]);
    // The fit run id reached evaluate and register through XCom; fit itself had none.
    expect(calls.map((call) => call.mlflowRunId)).toEqual([null, null, "stub-run-1", "stub-run-1"]);
    for (const call of calls) expect(call).toMatchObject({ dagId: "mnist_cnn_training", dagRunId: expect.stringMatching(/^manual__/) });
    await rm(root, { recursive: true, force: true });
  });

  it("trains MNIST for real with `airflow dags test` against a real MLflow server: fit → evaluate → register", { timeout: 900_000 }, async () => {
    // A scratch checkout: the real built CLI, and a small MNIST spec (2000 real images, one
    // epoch, a threshold they reach) so the whole DAG runs in a couple of minutes.
    const root = await scratchRepository();
    for (const folder of ["bin", "dist"]) await symlink(path.join(REPOSITORY, folder), path.join(root, folder));
    const spec = (await readFile(path.join(REPOSITORY, "models/mnist_cnn.yaml"), "utf8"))
      .replace("  epochs: 12\n", "  epochs: 1\n  train_limit: 2000\n  test_limit: 1000\n")
      .replace("threshold: 0.985", "threshold: 0.5")
      // The version is registered; approving it needs a person (or the REST API), not this test.
      .replace("  approval: required\n", "  approval: none\n");
    await writeFile(path.join(root, "models/mnist_cnn.yaml"), spec);
    const server = await startMlflowServer();
    try {
      await airflowDagsTest(root, "mnist_cnn_training", { MLFLOW_TRACKING_URI: server.uri });
      const seen = await runPythonJson<{ runs: Array<{ status: string; stages: string; epochs: string }>; candidate: string; versionRun: string; runId: string }>(`
import json
from mlflow import MlflowClient
client = MlflowClient("${server.uri}")
experiment = client.get_experiment_by_name("mnist-cnn")
runs = client.search_runs([experiment.experiment_id])
version = client.get_model_version_by_alias("mnist_cnn", "candidate")
print(json.dumps({"runs": [{"status": r.info.status, "stages": r.data.tags.get("podtrain.stages_done"), "epochs": r.data.params.get("epochs")} for r in runs],
  "candidate": version.version, "versionRun": version.run_id, "runId": runs[0].info.run_id}))`);
      // One MLflow run for the whole DAG run: fit created it, evaluate and register continued it.
      expect(seen.runs).toEqual([{ status: "FINISHED", stages: "evaluate,fit,register", epochs: "1" }]);
      expect([seen.candidate, seen.versionRun]).toEqual(["1", seen.runId]);
    } finally {
      await server.stop();
    }
  });
});
