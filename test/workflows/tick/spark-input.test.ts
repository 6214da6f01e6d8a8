import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, readdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { errorLines, runTrain } from "../../support/cli.js";
import { REPOSITORY_ROOT } from "../../support/python.js";
import { temporaryDirectory } from "./fixtures.js";

// The tick input contract against real Spark output: one PySpark session writes every dataset
// of the contract (test/support/spark_tick_fixtures.py) from the same generated trades, and
// `train tick features` on each must give byte-identical features to the pyarrow-written
// reference. The Python is PODTRAIN_SPARK_PYTHON, else .venv/spark (built here when missing);
// PODTRAIN_SPARK_FIXTURES names a folder to write the datasets to and, when it already holds
// them, to reuse them from (Spark takes a minute on two cores).

const DATES = ["2026-01-05", "2026-01-06"];
const SPARK_PYTHON = process.env.PODTRAIN_SPARK_PYTHON ?? path.join(REPOSITORY_ROOT, ".venv/spark/bin/python");

interface DatasetList {
  spark: string;
  rows: number;
  datasets: Record<string, { input: Record<string, unknown>; reference: string }>;
}

const root = temporaryDirectory("tick-spark-");
const data = process.env.PODTRAIN_SPARK_FIXTURES ?? path.join(root, "data");
let list: DatasetList;

async function specWith(name: string, input: Record<string, unknown>): Promise<string> {
  const text = await readFile(path.join(REPOSITORY_ROOT, "models/tick_model.yaml"), "utf8");
  const file = path.join(root, `${name}.yaml`);
  // JSON is YAML flow style: the input settings go in as one line under params.
  await writeFile(file, text.replace(/^params:\n/m, `params:\n  input: ${JSON.stringify(input)}\n`));
  return file;
}

async function features(input: string, output: string, extra: string[] = []) {
  return runTrain(["tick", "features", "--input", input, "--output", output, "--from", DATES[0] as string, "--to", DATES[1] as string, ...extra]);
}

async function featureBytes(output: string): Promise<Buffer[]> {
  return Promise.all(DATES.map((date) => readFile(path.join(output, `date=${date}`, "features.arrow"))));
}

const referenceBytes = new Map<string, Buffer[]>();

async function writeDatasets(): Promise<void> {
  if (existsSync(path.join(data, "datasets.json")) && process.env.PODTRAIN_SPARK_FIXTURES) return;
  if (!process.env.PODTRAIN_SPARK_PYTHON && !existsSync(path.join(REPOSITORY_ROOT, ".venv/spark/.requirements.sha256"))) {
    execFileSync(path.join(REPOSITORY_ROOT, "scripts/python-env.sh"), ["spark"], { stdio: "inherit" });
  }
  await promisify(execFile)(SPARK_PYTHON, [path.join(REPOSITORY_ROOT, "test/support/spark_tick_fixtures.py"), data], {
    env: { ...process.env, SPARK_LOCAL_IP: "127.0.0.1", PYSPARK_PYTHON: SPARK_PYTHON },
    timeout: 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

beforeAll(async () => {
  await writeDatasets();
  list = JSON.parse(await readFile(path.join(data, "datasets.json"), "utf8")) as DatasetList;
  for (const reference of ["reference", "reference_seconds"]) {
    const output = path.join(root, "out", reference);
    const result = await features(path.join(data, reference), output);
    expect(result.exitCode, result.stderr).toBe(0);
    referenceBytes.set(reference, await featureBytes(output));
  }
}, 900_000);

describe("train tick features on Spark-written input", () => {
  it("gives the pyarrow reference's features, byte for byte, for every dataset Spark wrote", async () => {
    expect(list.spark).toMatch(/^4\./);
    const names = Object.keys(list.datasets).sort();
    expect(names).toEqual([
      "csv_iso", "csv_nanos", "decimal", "dt_key", "int96_snappy", "long_micros", "long_millis", "long_nanos_zstd", "long_seconds", "micros_gzip",
      "millis_lz4", "ntz", "redelivered", "renamed", "reordered_columns", "symbol_from_path", "two_appends", "unordered", "unordered_again",
    ]);
    const mismatched: string[] = [];
    for (const name of names) {
      const { input, reference } = list.datasets[name] as DatasetList["datasets"][string];
      const output = path.join(root, "out", name);
      // The re-delivered morning is a third of the rows more, all of them duplicates by trade id.
      const extra = ["--spec", await specWith(name, input), ...(name === "redelivered" ? ["--max-reject-fraction", "0.5"] : [])];
      const result = await features(path.join(data, name), output, extra);
      if (result.exitCode !== 0) {
        mismatched.push(`${name}: exit ${result.exitCode}: ${errorLines(result.stderr).join(" ")}`);
        continue;
      }
      const bytes = await featureBytes(output);
      const expected = referenceBytes.get(reference) as Buffer[];
      if (!bytes.every((day, index) => day.equals(expected[index] as Buffer))) mismatched.push(`${name}: features differ from ${reference}`);
    }
    expect(mismatched).toEqual([]);
  }, 600_000);

  it("rejects the re-delivered copies by trade id, and counts nothing else", async () => {
    const manifest = JSON.parse(await readFile(path.join(root, "out", "redelivered", `date=${DATES[0]}`, "manifest.json"), "utf8"));
    expect(manifest.rows.rejected).toBeGreaterThan(500);
    expect(manifest.rejects_by_reason.duplicate_trade_id).toBe(manifest.rows.rejected);
    expect(manifest.input).toEqual({ columns: {}, timestamp_unit: "ns", partition_key: "date", trade_id: "trade_id" });
  });

  it("gives the same bytes whatever the part files' name order", async () => {
    const copy = path.join(root, "renamed-parts");
    await cp(path.join(data, "two_appends"), copy, { recursive: true });
    for (const date of DATES) {
      const folder = path.join(copy, `date=${date}`);
      const parts = (await readdir(folder)).filter((name) => name.endsWith(".parquet")).sort();
      // Reverse the listing order: the last part file is now read first.
      await Promise.all(parts.map((name, index) => rename(path.join(folder, name), path.join(folder, `part-${String(parts.length - index).padStart(2, "0")}.parquet`))));
    }
    const output = path.join(root, "out", "renamed-parts");
    const result = await features(copy, output);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await featureBytes(output)).toEqual(referenceBytes.get("reference"));
  }, 120_000);

  it("names the unit that integer timestamps look like when they fall outside the date", async () => {
    const result = await features(path.join(data, "long_micros"), path.join(root, "out", "micros-as-nanos"));
    expect(result.exitCode).toBe(65);
    expect(errorLines(result.stderr)).toHaveLength(1);
    expect(errorLines(result.stderr)[0]).toMatch(
      /partition 2026-01-05: \d+ of \d+ rows rejected .*outside_partition_date=\d+; integer timestamp values \(\d+\) look like microseconds since the epoch \(2026-01-05\); set params.input.timestamp_unit: us/,
    );
  }, 120_000);

  it("refuses partitionBy(\"dt\") under the default key, naming the folders and the setting", async () => {
    const result = await features(path.join(data, "dt_key"), path.join(root, "out", "dt-as-date"));
    expect(result.exitCode).toBe(65);
    expect(errorLines(result.stderr)).toEqual([
      `train: error: 2 folder(s) under ${path.join(data, "dt_key")} are date partitions under key "dt", not "date": dt=2026-01-05, dt=2026-01-06; set params.input.partition_key: dt or rename them date=YYYY-MM-DD`,
    ]);
  }, 120_000);

  it("fails a range in which no date has input, naming the dates", async () => {
    const output = path.join(root, "out", "empty-range");
    const result = await runTrain(["tick", "features", "--input", path.join(data, "reference"), "--output", output, "--from", "2026-02-02", "--to", "2026-02-04"]);
    expect(result.exitCode).toBe(65);
    expect(errorLines(result.stderr)).toEqual([
      `train: error: no input for any date from 2026-02-02 to 2026-02-04 under ${path.join(data, "reference")} (2026-02-02, 2026-02-03, 2026-02-04): input partitions span 2026-01-05 … 2026-01-06`,
    ]);
    expect(existsSync(output)).toBe(false);
  }, 120_000);
});
