// Our replacements on the native backend (src/tf/native): the Step kernel behind every ReLU
// gradient, and dropout drawn from TensorFlow's stateless RNG. Skipped without `npm run setup`.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadTensorFlow } from "../../src/tf/backend.js";

const require = createRequire(import.meta.url);
const provisioned = fs.existsSync(path.join(path.dirname(require.resolve("@tensorflow/tfjs-node/package.json")), "deps", "PODTRAIN-PROVISION.json"));

const STEP_INPUT = [Number.NaN, -2, -0, 0, 1e-30, 3, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, ...Array.from({ length: 37 }, (_, index) => Math.sin(index) * (index % 5 === 0 ? Number.NaN : 1))];

describe.skipIf(!provisioned)("native backend kernels", () => {
  it("Step matches the cpu backend, NaN included, for ReLU (alpha 0) and leaky alphas", async () => {
    const { tf } = await loadTensorFlow("tensorflow");
    for (const alpha of [0, 0.2]) {
      await tf.setBackend("cpu");
      const expected = Array.from(tf.step(tf.tensor1d(STEP_INPUT), alpha).dataSync());
      await tf.setBackend("tensorflow");
      const actual = Array.from(tf.step(tf.tensor1d(STEP_INPUT), alpha).dataSync());
      expect(actual.map(String)).toEqual(expected.map(String));
    }
  });

  it("ReLU gradients through conv2d match the cpu backend", async () => {
    const { tf } = await loadTensorFlow("tensorflow");
    const gradient = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor4d(Array.from({ length: 2 * 8 * 8 * 3 }, (_, index) => Math.sin(index)), [2, 8, 8, 3]);
        const filter = tf.tensor4d(Array.from({ length: 3 * 3 * 3 * 4 }, (_, index) => Math.cos(index) / 3), [3, 3, 3, 4]);
        const bias = tf.tensor1d([0.1, -0.2, 0.3, 0]);
        return Array.from(tf.grad((f) => tf.fused.conv2d({ x, filter: f as typeof filter, strides: 1, pad: "valid", bias, activation: "relu" }).sum())(filter).dataSync());
      });
    };
    const expected = await gradient("cpu");
    const actual = await gradient("tensorflow");
    const worst = expected.reduce((max, value, index) => Math.max(max, Math.abs(value - actual[index]!)), 0);
    expect(worst).toBeLessThan(1e-4);
  });

  it("the Relu gradient runs TensorFlow's ReluGrad and matches the cpu backend", async () => {
    const { tf } = await loadTensorFlow("tensorflow");
    const { NATIVE_RELU_GRAD_KERNEL } = await import("../../src/tf/native/relu-gradient.js");
    expect(tf.getKernel(NATIVE_RELU_GRAD_KERNEL, "tensorflow")).toBeDefined();
    const input = Array.from({ length: 301 }, (_, index) => Math.sin(index * 1.7) * 3);
    const gradient = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => Array.from(tf.grad((x) => tf.relu(x).mul(tf.range(0, 301)).sum())(tf.tensor1d(input)).dataSync()));
    };
    expect(await gradient("tensorflow")).toEqual(await gradient("cpu"));
  });

  it("dropout keeps 1 − rate of the units scaled by 1/(1 − rate), with a new mask each call", async () => {
    const { tf } = await loadTensorFlow("tensorflow");
    const ones = tf.ones([200, 500]);
    const first = tf.dropout(ones, 0.25, undefined, 7);
    const second = tf.dropout(ones, 0.25, undefined, 7);
    expect(tf.greater(first, 0).mean().dataSync()[0]).toBeCloseTo(0.75, 2);
    expect(first.max().dataSync()[0]).toBeCloseTo(1 / 0.75, 5);
    expect(first.mean().dataSync()[0]).toBeCloseTo(1, 1);
    expect(tf.equal(first, second).all().dataSync()[0]).toBe(0);
    const gradient = tf.grad((x) => tf.dropout(x, 0.5, undefined, 3).sum())(tf.ones([1000])).dataSync();
    expect(new Set(Array.from(gradient))).toEqual(new Set([0, 2]));
    tf.dispose([ones, first, second]);
  });

  it("seeded dropout masks are reproducible across processes (seed, call number)", async () => {
    const { nativeDropout } = await import("../../src/tf/native/dropout.js");
    const { tf } = await loadTensorFlow("tensorflow");
    const unused = () => {
      throw new Error("fell back to the JavaScript dropout");
    };
    const masks = () => {
      const dropout = nativeDropout(tf, unused);
      const x = tf.ones([64, 64]);
      return [0, 1].map(() => Array.from(dropout(x, 0.5, undefined, 11).dataSync()).join(","));
    };
    const [firstA, secondA] = masks();
    const [firstB, secondB] = masks();
    expect(firstA).toBe(firstB);
    expect(secondA).toBe(secondB);
    expect(firstA).not.toBe(secondA);
  });
});
