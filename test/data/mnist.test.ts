import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadMnist } from "../../src/data/mnist/dataset.js";
import { writeMnistFolder } from "../support/idx-fixtures.js";

describe("loadMnist", () => {
  it("reads the embedded real MNIST (60k/10k) with its known hash", async () => {
    const dataset = await loadMnist({});
    expect(dataset.train.count).toBe(60_000);
    expect(dataset.test.count).toBe(10_000);
    expect(dataset.fileHashes["train-images-idx3-ubyte"]).toMatch(/^ba891046e6505d7aadcb/);
    expect(dataset.train.labels[0]).toBe(5); // the famous first training digit
  });

  it("reads a folder of gzip files, applies limits and gives a stable data version", async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), "podtrain-mnist-"));
    await writeMnistFolder(directory, { train: 30, test: 20 }, { gzip: true });
    const first = await loadMnist({ directory, trainLimit: 10 });
    expect([first.train.count, first.test.count, first.train.images.length]).toEqual([10, 20, 7840]);
    expect((await loadMnist({ directory })).dataVersion).toBe(first.dataVersion);
    await rm(directory, { recursive: true });
  });

  it("says which file is missing", async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), "podtrain-mnist-"));
    await expect(loadMnist({ directory })).rejects.toThrow(/MNIST file train-images-idx3-ubyte \(or train-images-idx3-ubyte\.gz\) not found in/);
  });
});
