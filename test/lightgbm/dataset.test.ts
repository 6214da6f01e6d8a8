import { afterEach, describe, expect, it } from "vitest";
import { Dataset, LightGBMError } from "../../src/lightgbm/index.js";
import { makeRegressionProblem, sliceRows } from "./fixtures.js";

const created: Dataset[] = [];
afterEach(() => {
  for (const dataset of created.splice(0)) dataset.dispose();
});

describe("Dataset.fromMatrix", () => {
  it("builds a dataset from a Float64Array with labels", async () => {
    const problem = makeRegressionProblem(500, 4);
    const dataset = await Dataset.fromMatrix({ ...problem });
    created.push(dataset);
    expect(dataset.numRows).toBe(500);
    expect(dataset.numFeatures()).toBe(4);
  });

  it("accepts Float32Array data and a validation set that references the training set", async () => {
    const problem = makeRegressionProblem(600, 3);
    const trainPart = sliceRows(problem, 0, 400);
    const validPart = sliceRows(problem, 400, 600);
    const trainData = await Dataset.fromMatrix({ ...trainPart, values: Float32Array.from(trainPart.values) });
    created.push(trainData);
    const validData = await Dataset.fromMatrix({ ...validPart, reference: trainData });
    created.push(validData);
    expect(validData.numRows).toBe(200);
  });

  it("rejects labels that do not match the row count", async () => {
    const problem = makeRegressionProblem(10, 2);
    await expect(Dataset.fromMatrix({ ...problem, labels: problem.labels.slice(0, 9) }))
      .rejects.toThrow("labels has 9 values for 10 rows");
  });

  it("rejects a matrix that is not whole rows", async () => {
    await expect(Dataset.fromMatrix({ values: new Float64Array(7), numColumns: 2, labels: [0, 0, 0] }))
      .rejects.toThrow("matrix of 7 values is not a whole number of rows of 2 columns");
  });

  it("turns a LightGBM refusal into a LightGBMError with LightGBM's message", async () => {
    const problem = makeRegressionProblem(50, 2);
    const failure = await Dataset.fromMatrix({ ...problem, parameters: { max_bin: 1 } }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LightGBMError);
    expect((failure as LightGBMError).functionName).toBe("LGBM_DatasetCreateFromMat");
    expect((failure as LightGBMError).nativeMessage).toMatch(/max_bin/);
  });

  it("refuses use after dispose", async () => {
    const dataset = await Dataset.fromMatrix({ ...makeRegressionProblem(20, 2) });
    dataset.dispose();
    dataset.dispose();
    expect(dataset.disposed).toBe(true);
    expect(() => dataset.numFeatures()).toThrow("Dataset used after dispose()");
  });
});
