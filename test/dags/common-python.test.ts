import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { AIRFLOW_PYTHON, airflowEnvironment, ensureAirflowVenv, PYTHON_TESTS, REPOSITORY, run } from "./helpers.js";

// dags/common is hand-written Python: its unittest suite (loopback webhook for the failure and
// deadline alerts, partition ranges) runs in the pinned Airflow venv.

beforeAll(async () => {
  await ensureAirflowVenv();
});

describe("dags/common", () => {
  it("posts failure, approval-timeout and deadline alerts to a loopback webhook, bounds partitions, gates and branches the approval", async () => {
    const environment = await airflowEnvironment({ PYTHONPATH: path.join(REPOSITORY, "dags") });
    const { stderr } = await run(AIRFLOW_PYTHON, [path.join(PYTHON_TESTS, "test_common.py"), "-v"], { env: environment, cwd: REPOSITORY });
    expect(stderr).toMatch(/Ran 15 tests/);
    expect(stderr).toMatch(/\nOK\s*$/);
  });

  it("dag.test() of a DAG with a deadline alert: crashes plainly on Airflow 3.3.2, succeeds through common.deadlines", { timeout: 300_000 }, async () => {
    const dagsFolder = await mkdtemp(path.join(tmpdir(), "podtrain-deadline-dags-"));
    const environment = await airflowEnvironment({ PYTHONPATH: path.join(REPOSITORY, "dags"), AIRFLOW__CORE__DAGS_FOLDER: dagsFolder });
    await run(path.join(REPOSITORY, ".venv/airflow/bin/airflow"), ["db", "migrate"], { env: environment, maxBuffer: 64 << 20 });
    const { stderr } = await run(AIRFLOW_PYTHON, [path.join(PYTHON_TESTS, "test_deadlines.py"), "-v"], { env: environment, cwd: REPOSITORY, maxBuffer: 64 << 20 });
    expect(stderr).toMatch(/Ran 3 tests/);
    expect(stderr).toMatch(/\nOK\s*$/);
  });

  it("the pod operator: XCom sidecar image from the argument, a sidecar that stops on SIGTERM as PID 1", { timeout: 120_000 }, async () => {
    const environment = await airflowEnvironment({ PYTHONPATH: path.join(REPOSITORY, "dags") });
    const { stderr } = await run(AIRFLOW_PYTHON, [path.join(PYTHON_TESTS, "test_pods.py"), "-v"], { env: environment, cwd: REPOSITORY, maxBuffer: 64 << 20 });
    expect(stderr).toMatch(/Ran 4 tests/);
    // The SIGTERM case needs unprivileged PID namespaces; where there are none it is reported skipped.
    expect(stderr).toMatch(/\nOK( \(skipped=1\))?\s*$/);
  });

  it("the step builder: deployment image, env, volumes and pending timeout; GPU class placement; the approval tail", { timeout: 120_000 }, async () => {
    const environment = await airflowEnvironment({ PYTHONPATH: path.join(REPOSITORY, "dags") });
    const { stderr } = await run(AIRFLOW_PYTHON, [path.join(PYTHON_TESTS, "test_steps.py"), "-v"], { env: environment, cwd: REPOSITORY, maxBuffer: 64 << 20 });
    expect(stderr).toMatch(/Ran 5 tests/);
    expect(stderr).toMatch(/\nOK\s*$/);
  });
});
