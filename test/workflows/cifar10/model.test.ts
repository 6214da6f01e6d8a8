import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadTensorFlow } from "../../../src/tf/backend.js";
import { loadLayersModel, saveLayersModel } from "../../../src/tf/model-io.js";
import { compileForTraining, createCifar10Model } from "../../../src/workflows/cifar10/model.js";
import { learningRateAt } from "../../../src/workflows/cifar10/schedule.js";

describe("learning-rate schedule", () => {
  const params = { learning_rate: 0.1, epochs: 8 };
  it("cosine starts at the peak and decays towards zero", () => {
    const rates = Array.from({ length: 8 }, (_, epoch) => learningRateAt(epoch, { ...params, schedule: "cosine" }));
    expect(rates[0]).toBe(0.1);
    expect(rates[4]).toBeCloseTo(0.05, 10);
    expect(rates[7]).toBeCloseTo(0.05 * (1 + Math.cos((7 * Math.PI) / 8)), 10);
    expect(rates.every((rate, epoch) => epoch === 0 || rate < rates[epoch - 1]!)).toBe(true);
  });
  it("step divides by 10 at half and three quarters; constant stays", () => {
    const rates = Array.from({ length: 8 }, (_, epoch) => Number(learningRateAt(epoch, { ...params, schedule: "step" }).toPrecision(6)));
    expect(rates).toEqual([0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001]);
    expect(learningRateAt(7, { ...params, schedule: "constant" })).toBe(0.1);
  });
});

describe("CIFAR-10 model", () => {
  it("has the VGG-style shape, outputs probabilities and survives a save/load round trip", async () => {
    const { tf } = await loadTensorFlow("auto", { warn: () => {} });
    const { training, serving } = createCifar10Model(tf, { weight_decay: 5e-4, seed: 3 });
    compileForTraining(tf, training, { learning_rate: 0.05, momentum: 0.9 });
    expect(serving.countParams()).toBe(1_150_666); // the same count Keras reports for benchmarks/cifar10/keras_throughput.py
    expect(training.outputs[0]!.shape).toEqual([null, 10]);
    const convolutions = serving.layers.filter((layer) => layer.getClassName() === "Conv2D").map((layer) => (layer.getConfig() as { filters: number }).filters);
    expect(convolutions).toEqual([64, 64, 128, 128, 256, 256]);
    const images = tf.randomNormal([2, 32, 32, 3], 0, 1, "float32", 1);
    const probabilities = serving.predict(images) as ReturnType<typeof tf.tensor2d>;
    const sums = await probabilities.sum(1).data();
    expect(Array.from(sums).map((sum) => Number(sum.toFixed(5)))).toEqual([1, 1]);
    const directory = await mkdtemp(path.join(os.tmpdir(), "podtrain-cifar10-model-"));
    try {
      await saveLayersModel(tf, serving, directory);
      const loaded = await loadLayersModel(tf, directory);
      const again = loaded.predict(images) as ReturnType<typeof tf.tensor2d>;
      const difference = await tf.abs(tf.sub(again, probabilities)).max().data();
      expect(difference[0]).toBeLessThan(1e-5);
      again.dispose();
      loaded.dispose();
    } finally {
      await rm(directory, { recursive: true, force: true });
      tf.dispose([images, probabilities]);
      serving.dispose(); // the training model shares these layers
    }
  });
});
