import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { xcomPathOf } from "../../src/cli/xcom-option.js";
import { partitionDirectory } from "../../src/data/tick/partitions.js";
import { EXIT_CODES } from "../../src/core/errors.js";
import { errorLines, runTrain, type CliResult } from "../support/cli.js";
import { temporaryDirectory } from "../workflows/power/fixtures.js";

// Issue #20, first row: a usage mistake (no data, a wrong folder, a window gap, a changed feature
// flag, a promote in an empty folder) is checked before a run exists. Each command runs from a
// fresh folder with the default ./mlruns store, which must still not exist afterwards.

let root: string;

beforeAll(async () => {
  root = await temporaryDirectory("podtrain-check-before-create-");
});

async function scratch(name: string): Promise<string> {
  const directory = path.join(root, name);
  await mkdir(directory, { recursive: true });
  return directory;
}

function expectRefusedWithoutRun(result: CliResult, cwd: string, exitCode: number, pattern: RegExp): void {
  expect(result.exitCode, result.stderr).toBe(exitCode);
  const lines = errorLines(result.stderr);
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/run marked FAILED|started run/);
  expect(existsSync(path.join(cwd, "mlruns")), `./mlruns created in ${cwd}`).toBe(false);
  expect(readdirSync(cwd)).toEqual([]);
}

describe("check before create", () => {
  it("train power without data: exit 64, no run, no ./mlruns", async () => {
    const cwd = await scratch("power-no-data");
    expectRefusedWithoutRun(await runTrain(["power", "--log-format", "json"], { cwd }), cwd, EXIT_CODES.USAGE, /^train: error: no household power data given: pass --data-file/);
  });

  it("train power --data-file <missing file>: exit 65, no run", async () => {
    const cwd = await scratch("power-missing-file");
    expectRefusedWithoutRun(await runTrain(["power", "--data-file", "/nonexistent/power.txt"], { cwd }), cwd, EXIT_CODES.DATA, /\/nonexistent\/power\.txt/);
  });

  it("train mnist --data-dir /nonexistent: exit 65, no run (TensorFlow is not even needed to say so)", async () => {
    const cwd = await scratch("mnist-no-dir");
    expectRefusedWithoutRun(await runTrain(["mnist", "--data-dir", "/nonexistent", "--epochs", "1"], { cwd }), cwd, EXIT_CODES.DATA, /not found in \/nonexistent; --data-dir must hold the four MNIST IDX files/);
  });

  it("train cifar10 with an empty --data-dir: no run", async () => {
    const cwd = await scratch("cifar10-empty");
    const data = path.join(root, "cifar10-empty-data");
    await mkdir(data);
    const result = await runTrain(["cifar10", "--data-dir", data, "--epochs", "1"], { cwd });
    expectRefusedWithoutRun(result, cwd, EXIT_CODES.DATA, new RegExp(data.replaceAll("/", "\\/")));
  });

  it("train promote in an empty folder: exit 64 naming the missing store, no ./mlruns", async () => {
    const cwd = await scratch("promote-empty");
    const result = await runTrain(["promote", "power_lgbm", "3", "--reason", "good enough"], { cwd });
    expectRefusedWithoutRun(result, cwd, EXIT_CODES.USAGE, /^train: error: no tracking store at .*\/promote-empty\/mlruns: nothing has been tracked there; .*--tracking-uri/);
  });

  it("train promote --tracking-uri <missing folder>: the folder is not created", async () => {
    const cwd = await scratch("promote-missing-uri");
    const store = path.join(root, "never-created");
    const result = await runTrain(["promote", "power_lgbm", "3", "--reason", "good enough", "--tracking-uri", store], { cwd });
    expectRefusedWithoutRun(result, cwd, EXIT_CODES.USAGE, /no tracking store at .*never-created: nothing has been tracked there; check --tracking-uri/);
    expect(existsSync(store)).toBe(false);
  });
});

describe("--xcom writes only where asked, or where Airflow's xcom folder exists", () => {
  it("a bare --xcom off a pod: exit 64 before any run, nothing written", async () => {
    const cwd = await scratch("xcom-bare");
    const data = path.join(root, "xcom-power.txt");
    expect((await runTrain(["power", "generate", "--out", data, "--days", "40", "--seed", "2"])).exitCode).toBe(0);
    const result = await runTrain(["power", "--data-file", data, "--xcom"], { cwd });
    expectRefusedWithoutRun(result, cwd, EXIT_CODES.USAGE, /^train: error: --xcom without a path writes \/airflow\/xcom\/return\.json, but \/airflow\/xcom does not exist .*pass --xcom <file>/);
    expect(existsSync("/airflow/xcom/return.json")).toBe(false);
    const validate = await runTrain(["power", "validate", "--data-file", data, "--xcom"], { cwd });
    expect(validate.exitCode).toBe(EXIT_CODES.USAGE);
  });

  it("a bare --xcom where the folder exists writes there; a path is used as given", () => {
    const folder = path.join(root, "airflow", "xcom");
    mkdirSync(folder, { recursive: true });
    expect(xcomPathOf(true, path.join(folder, "return.json"))).toBe(path.join(folder, "return.json"));
    expect(xcomPathOf("out/summary.json")).toBe("out/summary.json");
    expect(xcomPathOf(undefined)).toBeUndefined();
  });
});

describe("check before create: train tick", () => {
  let features: string;
  beforeAll(async () => {
    const trades = path.join(root, "trades");
    features = path.join(root, "features");
    const generated = await runTrain(["tick", "generate", "--out-dir", trades, "--from", "2026-01-05", "--to", "2026-01-09", "--symbols", "2", "--trades-per-day", "3000"]);
    expect(generated.exitCode, generated.stderr).toBe(0);
    const computed = await runTrain(["tick", "features", "--input", trades, "--out-dir", features, "--from", "2026-01-05", "--to", "2026-01-09"]);
    expect(computed.exitCode, computed.stderr).toBe(0);
  }, 300_000);

  it("a feature flag that differs from the one the partitions were computed with: exit 65, no run", async () => {
    const cwd = await scratch("tick-changed-flag");
    const result = await runTrain(["tick", "--features-dir", features, "--as-of", "2026-01-09", "--window", "5d", "--label-horizon-bars", "7", "--purge-gap-bars", "7"], { cwd });
    expectRefusedWithoutRun(result, cwd, EXIT_CODES.DATA, /were computed with feature set [0-9a-f]{12}, but the spec's feature params give [0-9a-f]{12}/);
  });

  it("a gap in the window: exit 65 with a fix naming --input and --out-dir, no run", async () => {
    const cwd = await scratch("tick-gap");
    const holed = path.join(root, "features-holed");
    await runTrain(["tick", "features", "--input", path.join(root, "trades"), "--out-dir", holed, "--from", "2026-01-05", "--to", "2026-01-09"]);
    await rm(partitionDirectory(holed, "2026-01-07"), { recursive: true });
    const result = await runTrain(["tick", "--features-dir", holed, "--as-of", "2026-01-09", "--window", "5d"], { cwd });
    expectRefusedWithoutRun(result, cwd, EXIT_CODES.DATA, new RegExp(`train tick features --input TRADES_DIR --out-dir ${holed} --from 2026-01-07 --to 2026-01-07`));
  });

  it("no --features-dir at all: a usage error (64) naming the flag, not a spec error blaming models/tick_model.yaml", async () => {
    const cwd = await scratch("tick-no-flag");
    const result = await runTrain(["tick"], { cwd });
    expectRefusedWithoutRun(result, cwd, EXIT_CODES.USAGE, /^train: error: --features-dir: required: pass --features-dir DIR, the --out-dir of `train tick features`$/);
  });

  it("a --features-dir that does not exist: exit 65 (data), no run", async () => {
    const cwd = await scratch("tick-no-features");
    const result = await runTrain(["tick", "--features-dir", path.join(root, "no-such-features")], { cwd });
    expectRefusedWithoutRun(result, cwd, EXIT_CODES.DATA, /no feature partitions \(date=YYYY-MM-DD folders\) under .*no-such-features/);
  });
});

