import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SpecError } from "../../src/core/errors.js";
import {
  Booster, Dataset, LightGBMError, lightgbmThreadCapacity, loadLightGBM, resolveDefaultThreads, train,
  type LightGBMParameters,
} from "../../src/lightgbm/index.js";
import { makeBinaryProblem, makeRegressionProblem, makeTemporaryDirectory, type Problem } from "./fixtures.js";

// Two threads even on a one-CPU machine: what is tested is the threaded code, not the speed.
process.env.PODTRAIN_LIGHTGBM_THREADS = "2";

const cgroups = makeTemporaryDirectory("lightgbm-cgroup");
afterAll(() => cgroups.remove());

function cgroupWithCpuMax(name: string, line: string): string {
  const folder = join(cgroups.path, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, "cpu.max"), `${line}\n`);
  return folder;
}

async function trainModel(problem: Problem, parameters: LightGBMParameters, numIterations: number) {
  const trainData = await Dataset.fromMatrix({ ...problem, parameters });
  try {
    const { booster } = await train({ parameters, train: trainData, numIterations });
    return booster;
  } finally {
    trainData.dispose();
  }
}

describe("the default thread count", () => {
  it("is the CPUs the cgroup quota allows, not the host's cores", () => {
    const quota = cgroupWithCpuMax("quota", "150000 100000"); // 1.5 CPUs: 2 threads
    expect(resolveDefaultThreads({ env: {}, cgroupRoot: quota, parallelism: 16 })).toBe(2);
    const unlimited = cgroupWithCpuMax("unlimited", "max 100000");
    expect(resolveDefaultThreads({ env: {}, cgroupRoot: unlimited, parallelism: 6 })).toBe(6);
    expect(resolveDefaultThreads({ env: {}, cgroupRoot: unlimited, parallelism: 200 })).toBe(64);
  });

  it("yields to PODTRAIN_LIGHTGBM_THREADS, and refuses a malformed one with what to write instead", () => {
    const quota = cgroupWithCpuMax("quota-env", "100000 100000");
    expect(resolveDefaultThreads({ env: { PODTRAIN_LIGHTGBM_THREADS: "3" }, cgroupRoot: quota, parallelism: 8 })).toBe(3);
    for (const bad of ["0", "65", "two", "1.5"]) {
      const attempt = () => resolveDefaultThreads({ env: { PODTRAIN_LIGHTGBM_THREADS: bad }, cgroupRoot: quota, parallelism: 8 });
      expect(attempt).toThrow(SpecError);
      expect(attempt).toThrow(/^PODTRAIN_LIGHTGBM_THREADS=".*" is not a thread count: use an integer from 1 to 64$/);
    }
  });
});

describe("LightGBM on two threads", () => {
  const regression = makeRegressionProblem(20_000, 8, 5);
  const rowWise: LightGBMParameters = {
    objective: "regression", num_leaves: 31, learning_rate: 0.1, feature_fraction: 0.8, bagging_fraction: 0.7,
    bagging_freq: 1, seed: 3, deterministic: true, force_row_wise: true, num_threads: 2,
  };

  it("starts the module with the requested threads", async () => {
    const module = await loadLightGBM(2);
    expect(lightgbmThreadCapacity(module)).toBe(2);
    expect(module.PThread.runningWorkers).toHaveLength(1);
  });

  it("is deterministic: two trainings give the same model string", async () => {
    const first = await trainModel(regression, rowWise, 30);
    const second = await trainModel(regression, rowWise, 30);
    try {
      expect(second.saveModelToString()).toBe(first.saveModelToString());
      expect(first.saveModelToString()).toContain("[num_threads: 2]");
    } finally {
      first.dispose();
      second.dispose();
    }
  });

  it("predicts exactly what one thread predicts", async () => {
    const binary = makeBinaryProblem(30_000, 6, 9);
    const booster = await trainModel(binary, { objective: "binary", num_leaves: 15, seed: 2, deterministic: true, num_threads: 2 }, 25);
    try {
      const two = booster.predict(binary, { numThreads: 2 });
      const one = booster.predict(binary, { numThreads: 1 });
      expect(two).toEqual(one);
      expect(booster.predict(binary)).toEqual(one); // the training thread count by default
    } finally {
      booster.dispose();
    }
  });

  it("refuses more threads than the module started with, saying what to do", async () => {
    const booster = await trainModel(regression, rowWise, 2);
    try {
      expect(() => booster.predict(regression, { numThreads: 3 })).toThrow(
        "LightGBM num_threads=3 is more than the 2 threads this process started LightGBM with; use num_threads<=2, or set PODTRAIN_LIGHTGBM_THREADS=3 before the process starts",
      );
      expect(() => booster.predict(regression, { numThreads: 0 })).toThrow(/num_threads must be an integer from 1 to 64, got 0/);
    } finally {
      booster.dispose();
    }
  });

  it("reports an error thrown inside a parallel loop with LightGBM's message, and keeps working", async () => {
    const booster = await trainModel(regression, rowWise, 8);
    const model = booster.saveModelToString();
    booster.dispose();
    // The trees are parsed in a parallel loop (one per thread, by the tree_sizes offsets): with
    // every "Tree=" header broken, both threads throw at once.
    const broken = model.replaceAll("\nTree=", "\nTee=");
    let failure: unknown;
    try {
      await Booster.loadModelFromString(broken, { numThreads: 2 });
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(LightGBMError);
    expect((failure as LightGBMError).returnCode).toBe(-1);
    expect((failure as LightGBMError).nativeMessage).toMatch(/^Model format error, expect a tree here\. met /);

    const reloaded = await Booster.loadModelFromString(model, { numThreads: 2 });
    try {
      expect(reloaded.saveModelToString()).toBe(model);
      expect(reloaded.predict(regression)).toHaveLength(regression.numRows);
    } finally {
      reloaded.dispose();
    }
  });
});
