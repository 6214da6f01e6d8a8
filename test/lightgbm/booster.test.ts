import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Booster, Dataset, LightGBMError, train } from "../../src/lightgbm/index.js";
import { makeBinaryProblem, makeTemporaryDirectory } from "./fixtures.js";

const problem = makeBinaryProblem(1500, 6);
let trainData: Dataset;
let booster: Booster;

beforeAll(async () => {
  trainData = await Dataset.fromMatrix({ ...problem });
  booster = (await train({
    parameters: { objective: "binary", num_leaves: 15, seed: 11, deterministic: true, force_row_wise: true },
    train: trainData, numIterations: 20,
  })).booster;
});

afterAll(() => {
  booster.dispose();
  trainData.dispose();
});

describe("Booster.predict", () => {
  it("gives probabilities by default and log-odds with rawScore", () => {
    const probabilities = booster.predict(problem);
    const raw = booster.predict(problem, { rawScore: true });
    expect(probabilities).toHaveLength(problem.numRows);
    for (let index = 0; index < 50; index += 1) {
      expect(probabilities[index]).toBeCloseTo(1 / (1 + Math.exp(-(raw[index] as number))), 12);
    }
  });

  it("accepts Float32Array input and fewer iterations", () => {
    const all = booster.predict(problem);
    const fromFloat32 = booster.predict({ values: Float32Array.from(problem.values), numColumns: problem.numColumns });
    expect(fromFloat32).toHaveLength(all.length);
    const firstTree = booster.predict(problem, { numIteration: 1 });
    expect(firstTree).not.toEqual(all);
  });

  it("refuses a matrix with the wrong number of columns, with LightGBM's message", () => {
    let failure: unknown;
    try {
      booster.predict({ values: new Float64Array(12), numColumns: 3 });
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(LightGBMError);
    expect((failure as LightGBMError).nativeMessage).toMatch(/number of features in data \(3\) is not the same as it was in training data \(6\)/);
  });
});

describe("Booster.saveModelToString / Booster.loadModelFromString", () => {
  it("round-trips through a model file to identical predictions", async () => {
    const directory = makeTemporaryDirectory("lightgbm-model");
    try {
      const modelPath = join(directory.path, "model.txt");
      writeFileSync(modelPath, booster.saveModelToString());
      const loaded = await Booster.loadModelFromString(readFileSync(modelPath, "utf8"));
      try {
        expect(loaded.predict(problem)).toEqual(booster.predict(problem));
        expect(loaded.saveModelToString()).toBe(booster.saveModelToString());
        expect(loaded.numFeatures()).toBe(6);
        expect(loaded.currentIteration()).toBe(20);
      } finally {
        loaded.dispose();
      }
    } finally {
      directory.remove();
    }
  });

  it("returns models larger than the first buffer guess", async () => {
    const big = (await train({
      parameters: { objective: "binary", num_leaves: 63, min_data_in_leaf: 2 }, train: trainData, numIterations: 250,
    })).booster;
    try {
      const text = big.saveModelToString();
      expect(text.length).toBeGreaterThan(1 << 20);
      // Cut short, the text would lose its last trees and the closing sections.
      expect(text).toContain("Tree=249\n");
      expect(text.trimEnd().endsWith("end of parameters")).toBe(true);
    } finally {
      big.dispose();
    }
  });

  it("rejects text that is not a model, with LightGBM's message", async () => {
    await expect(Booster.loadModelFromString("this is not a model"))
      .rejects.toThrow(/LGBM_BoosterLoadModelFromString failed: Model file doesn't specify the number of classes/);
  });
});

describe("Booster.featureImportance", () => {
  it("counts splits and sums gains per feature, the informative features first", () => {
    const splits = booster.featureImportance("split");
    const gains = booster.featureImportance("gain");
    expect(splits).toHaveLength(6);
    expect(splits.reduce((sum, value) => sum + value, 0)).toBe(20 * 14);
    // Features 0, 1, 2 carry the signal; 3..5 are noise.
    expect(Math.min(gains[0] as number, gains[1] as number, gains[2] as number))
      .toBeGreaterThan(Math.max(gains[3] as number, gains[4] as number, gains[5] as number));
  });
});

describe("Booster.dispose", () => {
  it("frees the booster once and refuses use afterwards", async () => {
    const loaded = await Booster.loadModelFromString(booster.saveModelToString());
    loaded.dispose();
    loaded.dispose();
    expect(() => loaded.predict(problem)).toThrow("Booster used after dispose()");
  });
});
