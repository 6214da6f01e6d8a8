import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Dataset, train, type LightGBMParameters } from "../../src/lightgbm/index.js";
import { makeBinaryProblem, makeRegressionProblem, makeTemporaryDirectory, type Problem } from "./fixtures.js";
import { REPOSITORY_ROOT, toolsPython } from "./python-tools.js";

const TOLERANCE = 1e-9;
// The threaded cases need their threads even on a one-CPU machine. Three threads split most
// loops unevenly, where libgomp's static split (the first trip % n threads take one more) and
// other splits differ, so a wrong split would show as different trees.
process.env.PODTRAIN_LIGHTGBM_THREADS ??= "3";
let python: string;
const workDirectory = makeTemporaryDirectory("lightgbm-parity");

beforeAll(() => {
  python = toolsPython();
});

afterAll(() => workDirectory.remove());

/** The "Tree=0" ... "end of trees" part of a model text: everything the trees are. */
function treeSections(modelText: string): string {
  const start = modelText.indexOf("Tree=0\n");
  const end = modelText.indexOf("end of trees");
  expect(start).toBeGreaterThan(0);
  expect(end).toBeGreaterThan(start);
  return modelText.slice(start, end);
}

function readFloat64File(path: string): Float64Array {
  const bytes = readFileSync(path);
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

async function compareWithPython(
  name: string, problem: Problem, parameters: LightGBMParameters, numIterations: number, threads: number,
) {
  const directory = join(workDirectory.path, `${name}-${threads}`);
  execFileSync("mkdir", ["-p", directory]);
  // Python gets the parameters exactly as serialised here, runtime defaults included.
  // Same thread count on both sides: LightGBM's parallel loops split the rows per thread, and
  // the wasm build's OpenMP runtime splits them exactly as libgomp (Python's wheel) does.
  const explicitParameters = { num_threads: threads, verbosity: -1, ...parameters };
  writeFileSync(join(directory, "request.json"), JSON.stringify({
    numRows: problem.numRows, numColumns: problem.numColumns, numIterations, parameters: explicitParameters,
  }));
  writeFileSync(join(directory, "features.f64"), problem.values);
  writeFileSync(join(directory, "labels.f32"), problem.labels);
  execFileSync(python, [join(REPOSITORY_ROOT, "test", "lightgbm", "python_reference.py"), directory], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const versions = JSON.parse(readFileSync(join(directory, "versions.json"), "utf8")) as { lightgbm: string };
  expect(versions.lightgbm).toBe("4.6.0");

  const trainData = await Dataset.fromMatrix({ ...problem, parameters: explicitParameters });
  const { booster } = await train({ parameters: explicitParameters, train: trainData, numIterations });
  try {
    const pythonModel = readFileSync(join(directory, "model.txt"), "utf8");
    expect(treeSections(booster.saveModelToString())).toBe(treeSections(pythonModel));
    for (const [file, ours] of [
      ["predictions.f64", booster.predict(problem)],
      ["raw.f64", booster.predict(problem, { rawScore: true })],
    ] as const) {
      const theirs = readFloat64File(join(directory, file));
      expect(ours).toHaveLength(theirs.length);
      let largestDifference = 0;
      for (let index = 0; index < ours.length; index += 1) {
        largestDifference = Math.max(largestDifference, Math.abs((ours[index] as number) - (theirs[index] as number)));
      }
      expect(largestDifference).toBeLessThanOrEqual(TOLERANCE);
    }
  } finally {
    booster.dispose();
    trainData.dispose();
  }
}

describe.each([1, 2, 3])("parity with Python lightgbm 4.6.0 at %i thread(s)", (threads) => {
  it("regression: identical trees and predictions", async () => {
    await compareWithPython("regression", makeRegressionProblem(3000, 8, 21), {
      objective: "regression", num_leaves: 31, learning_rate: 0.1, min_data_in_leaf: 10,
      feature_fraction: 0.8, bagging_fraction: 0.7, bagging_freq: 1,
      seed: 42, deterministic: true, force_row_wise: true,
    }, 30, threads);
  });

  it("binary classification: identical trees and predictions", async () => {
    await compareWithPython("binary", makeBinaryProblem(3000, 8, 22), {
      objective: "binary", num_leaves: 15, learning_rate: 0.2, lambda_l2: 1,
      seed: 7, deterministic: true, force_col_wise: true,
    }, 25, threads);
  });
});
