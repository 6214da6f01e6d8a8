import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { generateDags, renderDagFiles } from "../../src/dags/generate.js";
import { AIRFLOW_PYTHON, airflowEnvironment, ensureAirflowVenv, PYTHON_TESTS, REPOSITORY, run, scratchRepository } from "./helpers.js";

// `dags generate --target local`: the same DAGs with BashOperator steps running the built CLI,
// so `airflow dags test` runs the real orchestration on one machine.

const AIRFLOW = path.join(REPOSITORY, ".venv/airflow/bin/airflow");

/** Generates the local DAGs for `root`, migrates a fresh Airflow DB and runs `airflow dags test`. */
async function airflowDagsTest(root: string, dagId: string): Promise<{ pools: string }> {
  const { out } = await generateDags({ root, target: "local" });
  const environment = await airflowEnvironment({ AIRFLOW__CORE__DAGS_FOLDER: out, PYTHONPATH: path.join(REPOSITORY, "dags") });
  await run(AIRFLOW, ["db", "migrate"], { env: environment, maxBuffer: 64 << 20 });
  // The committed pools file, imported the way a deployment does it.
  await run(AIRFLOW, ["pools", "import", path.join(REPOSITORY, "dags/pools.json")], { env: environment, maxBuffer: 64 << 20 });
  await run(AIRFLOW, ["dags", "test", dagId, "2026-01-12"], { env: environment, cwd: root, maxBuffer: 64 << 20 });
  const { stdout: pools } = await run(AIRFLOW, ["pools", "list", "--output", "json"], { env: environment, maxBuffer: 64 << 20 });
  return { pools };
}

beforeAll(async () => {
  await ensureAirflowVenv();
});

describe("local target", () => {
  it("renders BashOperator steps running the built CLI from the checkout, deterministically", async () => {
    const first = await renderDagFiles({ root: REPOSITORY, target: "local" });
    expect([...(await renderDagFiles({ root: REPOSITORY, target: "local" })).entries()]).toEqual([...first.entries()]);
    const mnist = first.get("mnist_cnn_training.py") ?? "";
    expect(mnist).toContain("regenerate with: npx train dags generate --target local --out .cache/dags-local");
    expect(mnist).toContain(`REPOSITORY = ${JSON.stringify(REPOSITORY)}`);
    expect(mnist).toContain('node dist/cli/main.js mnist --stage fit --xcom \\"$xcom\\" 1>&2; cat \\"$xcom\\"');
    expect(mnist).not.toContain("KubernetesPodOperator");
    expect(mnist).not.toContain("DeadlineAlert"); // apache/airflow#73428: dags test crashes on deadlines
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
    await mkdir(path.join(root, "dist/cli"), { recursive: true });
    await copyFile(path.join(PYTHON_TESTS, "stub_train_cli.mjs"), path.join(root, "dist/cli/main.js"));
    await writeFile(path.join(root, "package.json"), '{ "type": "module" }\n');
    const { pools } = await airflowDagsTest(root, "mnist_cnn_training");
    const slots = Object.fromEntries((JSON.parse(pools) as Array<{ pool: string; slots: string | number }>).map((pool) => [pool.pool, Number(pool.slots)]));
    expect(slots).toEqual({ default_pool: 128, gpu_pool: 2, high_priority_cpu: 8 });
    const calls = (await readFile(path.join(root, "calls.jsonl"), "utf8")).trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(calls.map((call) => call.taskId)).toEqual(["validate", "fit", "evaluate", "register"]);
    expect(calls.map((call) => (call.args as string[]).slice(0, 3))).toEqual([
      ["mnist", "validate"],
      ["mnist", "--stage", "fit"],
      ["mnist", "--stage", "evaluate"],
      ["mnist", "--stage", "register"],
    ]);
    // The fit run id reached evaluate and register through XCom; fit itself had none.
    expect(calls.map((call) => call.mlflowRunId)).toEqual([null, null, "stub-run-1", "stub-run-1"]);
    for (const call of calls) expect(call).toMatchObject({ dagId: "mnist_cnn_training", dagRunId: expect.stringMatching(/^manual__/) });
    await rm(root, { recursive: true, force: true });
  });

  it.skipIf(!existsSync(path.join(REPOSITORY, "dist/cli/main.js")))(
    "trains MNIST for real with `airflow dags test` (needs the train CLI from main: npm run setup)",
    { timeout: 3_600_000 },
    async () => {
      // `airflow dags test` exits non-zero when a task fails.
      await expect(airflowDagsTest(REPOSITORY, "mnist_cnn_training")).resolves.toBeDefined();
    },
  );
});
