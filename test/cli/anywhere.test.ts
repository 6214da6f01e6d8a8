import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { errorLines, runTrain } from "../support/cli.js";
import { REPOSITORY_ROOT } from "../support/python.js";
import { temporaryDirectory } from "../workflows/power/fixtures.js";

// Issue #20, "works from anywhere": from a scratch folder, `dags generate|check` use the
// package's models/ and deploy/ (or --project-dir / $PODTRAIN_PROJECT_DIR), `--spec models/…`
// finds the package's spec, and the DAG headers do not depend on how --out was spelled.

let scratch: string;
let powerFile: string;

beforeAll(async () => {
  scratch = await temporaryDirectory("podtrain-anywhere-");
  powerFile = path.join(scratch, "power.txt");
  expect((await runTrain(["power", "generate", "--out", powerFile, "--days", "40", "--seed", "3"], { cwd: scratch })).exitCode).toBe(0);
});

describe("from a scratch folder", () => {
  it("dags check compares the package's committed DAGs", async () => {
    const result = await runTrain(["dags", "check"], { cwd: scratch });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^\d+ generated files are up to date$/m);
  });

  it("dags check agrees with dags generate however --out is spelled", async () => {
    const generated = await runTrain(["dags", "generate", "--out-dir", "gen"], { cwd: scratch });
    expect(generated.exitCode, generated.stderr).toBe(0);
    for (const spelling of ["gen", "./gen/", path.join(scratch, "gen"), `${path.join(scratch, "gen")}/`]) {
      const checked = await runTrain(["dags", "check", "--out-dir", spelling], { cwd: scratch });
      expect(checked.exitCode, `${spelling}: ${checked.stderr}${checked.stdout}`).toBe(0);
    }
    const header = (await readFile(path.join(scratch, "gen", "power_lgbm_training.py"), "utf8")).split("\n")[1];
    expect(header).toContain(`npx train dags generate --out-dir ${path.join(scratch, "gen")}`);
  });

  it("--spec models/power_lgbm.yaml resolves against the package when the cwd has no models/", async () => {
    const result = await runTrain(["power", "validate", "--spec", "models/power_lgbm.yaml", "--data-file", powerFile, "--test-weeks", "1", "--validation-weeks", "1"], { cwd: scratch });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim().split("\n").at(-1)!)).toHaveProperty("data_version");
  });

  it("--project-dir and $PODTRAIN_PROJECT_DIR point dags at another checkout", async () => {
    const project = path.join(scratch, "project");
    await mkdir(project);
    await cp(path.join(REPOSITORY_ROOT, "models"), path.join(project, "models"), { recursive: true });
    await cp(path.join(REPOSITORY_ROOT, "deploy"), path.join(project, "deploy"), { recursive: true });
    const spec = path.join(project, "models", "mnist_cnn.yaml");
    await writeFile(spec, (await readFile(spec, "utf8")).replace(/^ {2}epochs: \d+$/m, "  epochs: -3"));
    for (const invocation of [{ args: ["--project-dir", project], env: {} }, { args: [], env: { PODTRAIN_PROJECT_DIR: project } }]) {
      const result = await runTrain(["dags", "check", ...invocation.args], { cwd: scratch, env: invocation.env });
      expect(result.exitCode).toBe(78);
      expect(errorLines(result.stderr)).toEqual([expect.stringMatching(/mnist_cnn\.yaml:\d+: params\.epochs: /)]);
    }
  });
});
