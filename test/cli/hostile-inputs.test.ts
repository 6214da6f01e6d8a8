import { cp, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { writeSyntheticPowerFile } from "../../src/data/power/synthetic-file.js";
import { EXIT_CODES } from "../../src/core/errors.js";
import { runWorkflow } from "../../src/runtime/run.js";
import { loadSpecFile, specPathFor } from "../../src/config/load.js";
import { FileTrackingStore } from "../../src/tracking/file-store.js";
import type { WorkflowDefinition } from "../../src/workflows/types.js";
import { errorLines, runTrain, type CliResult } from "../support/cli.js";
import { REPOSITORY_ROOT } from "../support/python.js";
import { temporaryDirectory } from "../workflows/power/fixtures.js";

// Each case of the hostile-operator table, with its input written in the real format: one
// actionable `train: error:` line, the right exit code, nothing trained on silently.

let directory: string;

beforeAll(async () => {
  directory = await temporaryDirectory("podtrain-hostile-");
});

function expectOneError(result: CliResult, exitCode: number, pattern: RegExp): void {
  expect(result.exitCode, result.stderr).toBe(exitCode);
  const lines = errorLines(result.stderr);
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

/** A synthetic UCI file (40 days) with Global_active_power rewritten row by row. */
async function powerFile(name: string, rewrite: (value: string, row: number) => string): Promise<string> {
  const source = path.join(directory, `${name}.source.txt`);
  await writeSyntheticPowerFile(source, { days: 40, seed: 5 });
  const [header, ...rows] = (await readFile(source, "utf8")).trimEnd().split("\n");
  const file = path.join(directory, `${name}.txt`);
  const changed = rows.map((line, row) => {
    const cells = line.split(";");
    cells[2] = rewrite(cells[2]!, row);
    return cells.join(";");
  });
  await writeFile(file, `${header}\n${changed.join("\n")}\n`);
  return file;
}

function trainPower(file: string, extra: string[] = []): Promise<CliResult> {
  return runTrain(["power", "--data-file", file, "--tracking-uri", path.join(directory, "mlruns-power"), "--test-weeks", "1", "--validation-weeks", "1", "--log-format", "json", ...extra], { cwd: directory });
}

describe("power values out of physical range", () => {
  it("negative Global_active_power everywhere: exit 65, nothing trained", async () => {
    const file = await powerFile("negative", (value) => (value === "?" ? value : `-${value}`));
    expectOneError(await trainPower(file), EXIT_CODES.DATA, /negative\.txt: none of the \d+ rows has a usable Global_active_power \(\d+ missing "\?", \d+ outside 0-50 kW\)/);
  });

  it("1e308 and negative values on some rows: rejected as missing, counted in tags and metrics", async () => {
    const file = await powerFile("absurd", (value, row) => (row % 97 === 0 ? "1e308" : row % 89 === 0 ? "-3.5" : value));
    const result = await trainPower(file, ["--run-key", "absurd", "--no-register"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/"rejected":\{"global_active_power":\d+/);
    const store = new FileTrackingStore(path.join(directory, "mlruns-power"));
    const [run] = await store.findRunsByTag(await store.getOrCreateExperiment("power-forecast"), "podtrain.run_key", "absurd");
    const data = await store.getRun(run!.runId);
    const expected = (await readFile(file, "utf8")).split("\n").filter((line) => /^[^;]+;[^;]+;(1e308|-3\.5);/.test(line)).length;
    expect(expected).toBeGreaterThan(1_000);
    expect(Number(data.tags["data.rejected.global_active_power"])).toBe(expected);
    expect(data.metrics.data_rejected_global_active_power).toBe(expected);
    for (const value of Object.values(data.metrics)) expect(Number.isFinite(value)).toBe(true);
  });

  it("an all-`?` file: exit 65 naming the missing target, not 'too little time'", async () => {
    const file = await powerFile("all-missing", () => "?");
    expectOneError(await trainPower(file), EXIT_CODES.DATA, /all-missing\.txt: none of the 57600 rows has a usable Global_active_power \(57600 missing "\?", 0 outside/);
  });
});

describe("a run whose metrics are not finite", () => {
  it("fails with a clear error, ends FAILED and registers nothing", async () => {
    const root = path.join(directory, "mlruns-nan");
    const store = new FileTrackingStore(root);
    const loaded = await loadSpecFile(specPathFor("power_lgbm"));
    // The smallest real workflow: fits a one-file model, evaluates to the NaN a diverged fit gives.
    const definition: WorkflowDefinition = {
      name: "power",
      registeredModel: "power_lgbm",
      summary: "diverging",
      paramsSchema: z.strictObject({}),
      load: async () => ({
        fit: async (context: { workDirectory: string }) => {
          const modelDirectory = path.join(context.workDirectory, "model");
          await mkdir(modelDirectory, { recursive: true });
          await writeFile(path.join(modelDirectory, "weights.txt"), "diverged");
          return { modelDirectory, flavors: { python_function: {} } };
        },
        evaluate: async () => ({ test_rmse: Number.NaN, test_skill_vs_seasonal_naive: Number.POSITIVE_INFINITY }),
      }),
    } as unknown as WorkflowDefinition;
    const reporter = { log: pino({ level: "silent" }), interactive: false, startProgress: () => ({ update() {}, stop() {} }) };
    await expect(runWorkflow({ definition, loaded, params: {}, store, reporter, stage: "all", register: true, runKey: "nan-metrics" })).rejects.toThrow(
      /produced non-finite metrics \(test_rmse=NaN, test_skill_vs_seasonal_naive=Infinity\).*nothing is registered/,
    );
    const [run] = await store.findRunsByTag(await store.getOrCreateExperiment(loaded.spec.experiment), "podtrain.run_key", "nan-metrics");
    expect((await store.getRun(run!.runId)).info.status).toBe("FAILED");
    expect(await store.registry.findModelVersionsByRun("power_lgbm", run!.runId)).toEqual([]);
  });
});

describe("tick input", () => {
  let trades: string;
  beforeAll(async () => {
    trades = path.join(directory, "trades");
    const generated = await runTrain(["tick", "generate", "--out", trades, "--from", "2026-01-05", "--to", "2026-01-06", "--symbols", "2", "--trades-per-day", "2000", "--format", "csv"]);
    expect(generated.exitCode, generated.stderr).toBe(0);
  });
  const features = (name: string, extra: string[] = [], input = trades) => runTrain(["tick", "features", "--input", input, "--output", path.join(directory, name), ...extra]);

  it("+Inf prices and sizes go to the quarantine with their reason, not into bars", async () => {
    const file = path.join(trades, "date=2026-01-05", "trades.csv");
    const original = await readFile(file, "utf8");
    const [header, ...rows] = original.trimEnd().split("\n");
    const columns = header!.split(",");
    const damage = (line: string, column: string, value: string) => {
      const cells = line.split(",");
      cells[columns.indexOf(column)] = value;
      return cells.join(",");
    };
    rows[3] = damage(rows[3]!, "price", "Infinity");
    rows[4] = damage(rows[4]!, "price", "1e309");
    rows[5] = damage(rows[5]!, "size", "Infinity");
    await writeFile(file, `${header}\n${rows.join("\n")}\n`);
    try {
      const result = await features("features-inf", ["--date", "2026-01-05"]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toContain("2026-01-05  computed  ");
      expect(result.stdout).toContain("3 rejected of 4000");
      const quarantine = (await readFile(path.join(directory, "features-inf", "date=2026-01-05", "quarantine.csv"), "utf8")).trim().split("\n");
      expect(quarantine.slice(1).map((line) => line.split(",").slice(1, 3).join(","))).toEqual(["3,non_finite_value", "4,non_finite_value", "5,non_finite_value"]);
      const manifest = JSON.parse(await readFile(path.join(directory, "features-inf", "date=2026-01-05", "manifest.json"), "utf8"));
      expect(manifest.rejects_by_reason.non_finite_value).toBe(3);
    } finally {
      await writeFile(file, original);
    }
  });

  it("a failed recompute removes the partition's manifest, so `train tick` reports it missing", async () => {
    const output = path.join(directory, "features-stale");
    expect((await features("features-stale", ["--from", "2026-01-05", "--to", "2026-01-06"])).exitCode).toBe(0);
    const file = path.join(trades, "date=2026-01-06", "trades.csv");
    const original = await readFile(file, "utf8");
    // Half the rows turn unparseable as trades (negative sizes): above the reject threshold.
    const [header, ...rows] = original.trimEnd().split("\n");
    const sizeColumn = header!.split(",").indexOf("size");
    await writeFile(file, `${header}\n${rows.map((line, row) => (row % 2 ? line : line.split(",").map((cell, column) => (column === sizeColumn ? "-1" : cell)).join(","))).join("\n")}\n`);
    try {
      const failed = await features("features-stale", ["--date", "2026-01-06"]);
      expectOneError(failed, EXIT_CODES.DATA, /^train: error: partition 2026-01-06: 2000 of 4000 rows rejected/);
      await expect(stat(path.join(output, "date=2026-01-06", "manifest.json"))).rejects.toThrow(/ENOENT/);
      const trained = await runTrain(["tick", "--features-dir", output, "--as-of", "2026-01-06", "--window", "2d", "--tracking-uri", path.join(directory, "mlruns-tick")]);
      expectOneError(trained, EXIT_CODES.DATA, /missing feature partitions for 1 date\(s\) of the window 2026-01-05\.\.2026-01-06 .*: 2026-01-06/);
    } finally {
      await writeFile(file, original);
    }
  });

  it("a missing input folder is an error, not a silent exit 0", async () => {
    expectOneError(await features("features-none", ["--date", "2026-01-05"], path.join(directory, "nope")), EXIT_CODES.DATA, /input folder .*nope does not exist/);
  });

  for (const bad of ["date=2026-13-45", "date=2026-1-8"]) {
    it(`a partition folder ${bad} is an error naming it`, async () => {
      const root = path.join(directory, `trades-${bad}`);
      await cp(trades, root, { recursive: true });
      await mkdir(path.join(root, bad));
      expectOneError(await features(`features-${bad}`, ["--from", "2026-01-05", "--to", "2026-01-06"], root), EXIT_CODES.DATA, new RegExp(`1 partition folder\\(s\\) under .* do not name a calendar date as date=YYYY-MM-DD: ${bad}`));
    });
  }

  it("a foreign folder (dt=…) is a counted warning; the real partitions are computed", async () => {
    const root = path.join(directory, "trades-foreign");
    await cp(trades, root, { recursive: true });
    await mkdir(path.join(root, "dt=2026-01-07"));
    const result = await features("features-foreign", ["--from", "2026-01-05", "--to", "2026-01-06"], root);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain("train: warning: 1 folder(s) under");
    expect(result.stderr).toContain("ignored: dt=2026-01-07");
  });

  it("CSV bytes named .parquet: exit 65 saying what the file holds", async () => {
    const root = path.join(directory, "trades-renamed");
    await cp(trades, root, { recursive: true });
    await cp(path.join(root, "date=2026-01-05", "trades.csv"), path.join(root, "date=2026-01-05", "more.parquet"));
    expectOneError(await features("features-renamed", ["--date", "2026-01-05"], root), EXIT_CODES.DATA, /more\.parquet: named \.parquet but holds CSV text/);
  });
});

describe("specs and flags", () => {
  async function specWith(name: string, edit: (text: string) => string): Promise<string> {
    const file = path.join(directory, name);
    await writeFile(file, edit(await readFile(specPathFor("mnist_cnn"), "utf8")));
    return file;
  }

  it("epochs: -3 in the spec fails with its file:line even when --epochs 1 is given (exit 78)", async () => {
    const spec = await specWith("negative-epochs.yaml", (text) => text.replace(/^ {2}epochs: \d+$/m, "  epochs: -3"));
    const line = (await readFile(spec, "utf8")).split("\n").findIndex((text) => text.includes("epochs: -3")) + 1;
    expectOneError(await runTrain(["mnist", "--spec", spec, "--epochs", "1", "--tracking-uri", path.join(directory, "mlruns-spec")]), EXIT_CODES.CONFIG, new RegExp(`negative-epochs\\.yaml:${line}: params\\.epochs: `));
  });

  it("train dags generate validates the workflow params of every spec (exit 78, file:line)", async () => {
    const root = path.join(directory, "dags-root");
    await cp(path.join(REPOSITORY_ROOT, "models"), path.join(root, "models"), { recursive: true });
    await cp(path.join(REPOSITORY_ROOT, "deploy"), path.join(root, "deploy"), { recursive: true });
    const spec = path.join(root, "models", "mnist_cnn.yaml");
    await writeFile(spec, (await readFile(spec, "utf8")).replace(/^ {2}epochs: \d+$/m, "  epochs: -3"));
    const result = await runTrain(["dags", "generate", "--out", "out"], { cwd: root });
    expectOneError(result, EXIT_CODES.CONFIG, /mnist_cnn\.yaml:8: params\.epochs: /);
    await expect(stat(path.join(root, "out"))).rejects.toThrow(/ENOENT/);
    expectOneError(await runTrain(["dags", "check", "--out", "out"], { cwd: root }), EXIT_CODES.CONFIG, /mnist_cnn\.yaml:8: params\.epochs: /);
  });

  it("a billion-laughs YAML spec is refused quickly (exit 78), not expanded", async () => {
    const lines = ['workflow: mnist', 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let level = 1; level < 9; level++) {
      const previous = String.fromCharCode(96 + level);
      const name = String.fromCharCode(97 + level);
      lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(",")}]`);
    }
    const spec = path.join(directory, "laughs.yaml");
    await writeFile(spec, `${lines.join("\n")}\n`);
    const started = Date.now();
    expectOneError(await runTrain(["mnist", "--spec", spec]), EXIT_CODES.CONFIG, /laughs\.yaml: not a usable YAML spec: .*alias/i);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("--tracking-uri 'http://[::1' is a usage error (64), not an internal one", async () => {
    const file = await powerFile("uri", (value) => value);
    expectOneError(await trainPower(file, ["--tracking-uri", "http://[::1"]), EXIT_CODES.USAGE, /--tracking-uri: http:\/\/\[::1 is not a valid URL/);
  });

  it("commander's own usage errors come out as one `train: error:` line, exit 64", async () => {
    for (const args of [["power", "--bogus"], ["power", "--stage", "nope"], ["nope"]]) {
      const result = await runTrain(args);
      expectOneError(result, EXIT_CODES.USAGE, /^train: error: .*\(run with --help for usage\)$/);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});

describe("image data that is not where it should be", () => {
  const batches = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];
  async function cifarFolder(name: string, testBatch: "missing" | "directory"): Promise<string> {
    const folder = path.join(directory, name);
    await mkdir(folder, { recursive: true });
    // Real record size (1 label byte + 3072 pixels), one record per batch: the layout, not the content, is under test.
    for (const batch of batches) await writeFile(path.join(folder, batch), Buffer.alloc(3073));
    if (testBatch === "directory") await mkdir(path.join(folder, "test_batch.bin"));
    return folder;
  }

  it("CIFAR-10 folder without test_batch.bin names the missing file (exit 65)", async () => {
    const folder = await cifarFolder("cifar-no-test", "missing");
    expectOneError(await runTrain(["cifar10", "--data-dir", folder, "--tracking-uri", path.join(directory, "mlruns-img"), "--epochs", "1"]), EXIT_CODES.DATA, /cifar-no-test: missing test_batch\.bin/);
  });

  it("CIFAR-10 test_batch.bin that is a directory (exit 65)", async () => {
    const folder = await cifarFolder("cifar-test-dir", "directory");
    expectOneError(await runTrain(["cifar10", "--data-dir", folder, "--tracking-uri", path.join(directory, "mlruns-img"), "--epochs", "1"]), EXIT_CODES.DATA, /cifar-test-dir\/test_batch\.bin is a directory/);
  });

  it("an MNIST IDX file that is a directory (exit 65)", async () => {
    const folder = path.join(directory, "mnist-dir");
    await mkdir(path.join(folder, "train-images-idx3-ubyte"), { recursive: true });
    expectOneError(await runTrain(["mnist", "--data-dir", folder, "--tracking-uri", path.join(directory, "mlruns-img"), "--epochs", "1"]), EXIT_CODES.DATA, /MNIST file .*train-images-idx3-ubyte is a directory/);
  });
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});
