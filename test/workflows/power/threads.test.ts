import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { writeSyntheticPowerFile } from "../../../src/data/power/synthetic-file.js";
import { EXIT_CODES } from "../../../src/core/errors.js";
import { errorLines, runTrain } from "../../support/cli.js";
import { REPOSITORY_ROOT, runPythonJson } from "../../support/python.js";
import { temporaryDirectory } from "./fixtures.js";

// `train power` on LightGBM's threads: the thread count a run used is in its params, the process
// exits as soon as training is done (the module's worker threads do not keep Node alive), and a
// thread count out of range is refused before anything starts.

function loggedParams(store: string): Promise<Record<string, string>[]> {
  return runPythonJson<Record<string, string>[]>(`
import json
from mlflow import MlflowClient
client = MlflowClient("file://${store}")
experiment = client.get_experiment_by_name("power-forecast")
print(json.dumps([run.data.params for run in client.search_runs([experiment.experiment_id])]))`);
}

describe("train power on LightGBM threads", () => {
  let directory: string;
  let dataFile: string;
  beforeAll(async () => {
    directory = await temporaryDirectory();
    dataFile = path.join(directory, "household_power_consumption.txt");
    await writeSyntheticPowerFile(dataFile, { days: 120, seed: 4 });
  });

  it("trains with --threads 2, records it, and exits promptly", async () => {
    const store = path.join(directory, "mlruns-threads");
    const started = performance.now();
    // Two threads even where the test machine has one CPU.
    const result = await runTrain(["power", "--data-file", dataFile, "--tracking-uri", store, "--threads", "2", "--num-iterations", "60"], {
      env: { PODTRAIN_LIGHTGBM_THREADS: "2" }, timeoutMs: 180_000,
    });
    const seconds = (performance.now() - started) / 1000;
    expect(errorLines(result.stderr)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(seconds).toBeLessThan(60); // a pool that kept Node alive would run into the timeout (SIGKILL)
    const [params] = await loggedParams(store);
    expect(params?.threads).toBe("2");
  }, 240_000);

  it("without --threads uses the CPUs the process may use and logs that count", async () => {
    const store = path.join(directory, "mlruns-default");
    const result = await runTrain(["power", "--data-file", dataFile, "--tracking-uri", store, "--num-iterations", "20"], {
      env: { PODTRAIN_LIGHTGBM_THREADS: "2" }, timeoutMs: 180_000,
    });
    expect(errorLines(result.stderr)).toEqual([]);
    expect(result.exitCode).toBe(0);
    const [params] = await loggedParams(store);
    expect(params?.threads).toBe("2");
  }, 240_000);

  it("refuses thread counts out of range: a flag with 64, a spec with 78, a bad environment override with 78", async () => {
    const flag = await runTrain(["power", "--data-file", dataFile, "--tracking-uri", path.join(directory, "mlruns-bad-flag"), "--threads", "65"]);
    expect(flag.exitCode).toBe(EXIT_CODES.USAGE);
    expect(errorLines(flag.stderr)).toEqual([expect.stringMatching(/threads.*64/)]);

    const spec = path.join(directory, "zero-threads.yaml");
    const shipped = await readFile(path.join(REPOSITORY_ROOT, "models/power_lgbm.yaml"), "utf8");
    await writeFile(spec, shipped.replace(/^ {2}# threads:.*$/m, "  threads: 0"));
    const fromSpec = await runTrain(["power", "--spec", spec, "--data-file", dataFile, "--tracking-uri", path.join(directory, "mlruns-bad-spec")]);
    expect(fromSpec.exitCode).toBe(EXIT_CODES.CONFIG);
    expect(errorLines(fromSpec.stderr)).toEqual([expect.stringMatching(/zero-threads\.yaml.*params\.threads/)]);

    const environment = await runTrain(["power", "--data-file", dataFile, "--tracking-uri", path.join(directory, "mlruns-bad-env"), "--num-iterations", "5"], {
      env: { PODTRAIN_LIGHTGBM_THREADS: "lots" },
    });
    expect(environment.exitCode).toBe(EXIT_CODES.CONFIG);
    expect(errorLines(environment.stderr)).toEqual(['train: error: PODTRAIN_LIGHTGBM_THREADS="lots" is not a thread count: use an integer from 1 to 64']);
  }, 240_000);
});
