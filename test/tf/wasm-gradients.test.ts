// The wasm backend's training kernels (src/tf/wasm) against the pure-JS cpu backend, which is
// TensorFlow.js' reference: same inputs, same loss, gradients within 1e-4.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Tensor, Tensor2D, Tensor4D } from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { loadTensorFlow, type TensorFlowModule } from "../../src/tf/backend.js";

const TOLERANCE = 1e-4;
let tf: TensorFlowModule;

beforeAll(async () => {
  tf = (await loadTensorFlow("wasm")).tf;
});

/** Deterministic values in [-1, 1) without tf's RNG (identical on both backends). */
function values(count: number, salt: number): Float32Array {
  return Float32Array.from({ length: count }, (_, index) => Math.sin(index * 12.9898 + salt * 78.233) % 1);
}

function sizeOf(shape: number[]): number {
  return shape.reduce((product, dimension) => product * dimension, 1);
}

/** Gradients of sum(f(inputs) · r) for fixed r, computed on `backend`, as plain arrays. */
async function gradientsOn(backend: string, shapes: number[][], f: (inputs: Tensor[]) => Tensor): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const inputs = shapes.map((shape, index) => tf.tensor(values(sizeOf(shape), index + 1), shape));
    const probe = f(inputs);
    const weights = tf.tensor(values(probe.size, 99), probe.shape);
    const gradients = tf.grads((...xs: Tensor[]) => f(xs).mul(weights).sum())(inputs);
    return gradients.map((gradient, index) => {
      expect(gradient.shape).toEqual(shapes[index]);
      return gradient.dataSync() as Float32Array;
    });
  });
}

async function maxGradientDifference(shapes: number[][], f: (inputs: Tensor[]) => Tensor): Promise<number> {
  const reference = await gradientsOn("cpu", shapes, f);
  const candidate = await gradientsOn("wasm", shapes, f);
  let worst = 0;
  reference.forEach((expected, index) => {
    const actual = candidate[index]!;
    for (let at = 0; at < expected.length; at += 1) worst = Math.max(worst, Math.abs(expected[at]! - actual[at]!));
  });
  return worst;
}

type Padding = "valid" | "same";
const CONV_CASES: Array<{ name: string; x: number[]; filter: number[]; stride: number; pad: Padding }> = [
  { name: "MNIST first conv (1→8, 28×28, valid)", x: [2, 28, 28, 1], filter: [3, 3, 1, 8], stride: 1, pad: "valid" },
  { name: "MNIST second conv (16→8, valid)", x: [2, 12, 12, 16], filter: [3, 3, 16, 8], stride: 1, pad: "valid" },
  { name: "CIFAR conv (3→8, same)", x: [2, 16, 16, 3], filter: [3, 3, 3, 8], stride: 1, pad: "same" },
  { name: "5×5 same", x: [1, 9, 9, 2], filter: [5, 5, 2, 3], stride: 1, pad: "same" },
  { name: "stride 2 same", x: [2, 9, 9, 4], filter: [3, 3, 4, 6], stride: 2, pad: "same" },
  { name: "stride 2 valid, last row unused", x: [2, 10, 10, 3], filter: [3, 3, 3, 5], stride: 2, pad: "valid" },
  { name: "non-square 2×4, stride 1 valid", x: [1, 7, 11, 2], filter: [2, 4, 2, 3], stride: 1, pad: "valid" },
];

describe("wasm training kernels match the cpu backend", () => {
  it("registers the wasm backend with the missing Conv2DBackpropFilter", () => {
    expect(tf.getBackend()).toBe("wasm");
    expect(tf.getKernel("Conv2DBackpropFilter", "wasm")).toBeDefined();
  });

  for (const { name, x, filter, stride, pad } of CONV_CASES) {
    it(`conv2d gradients: ${name}`, async () => {
      const difference = await maxGradientDifference([x, filter], ([input, kernel]) => tf.conv2d(input as Tensor4D, kernel as Tensor4D, stride, pad));
      expect(difference).toBeLessThanOrEqual(TOLERANCE);
    });
  }

  it("maxPool gradient (2×2, as in both convnets)", async () => {
    const difference = await maxGradientDifference([[2, 8, 8, 3]], ([input]) => tf.maxPool(input as Tensor4D, 2, 2, "valid"));
    expect(difference).toBeLessThanOrEqual(TOLERANCE);
  });

  it("dense layer gradients (matmul + bias + relu)", async () => {
    const difference = await maxGradientDifference([[16, 50], [50, 10], [10]], ([input, kernel, bias]) =>
      tf.relu(tf.matMul(input as Tensor2D, kernel as Tensor2D).add(bias!)),
    );
    expect(difference).toBeLessThanOrEqual(TOLERANCE);
  });

  it("transposed and batched matmuls", async () => {
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[7, 5], [7, 3], true, false],
      [[5, 7], [3, 7], false, true],
      [[7, 5], [3, 7], true, true],
      [[2, 7, 5], [2, 3, 7], true, true],
    ];
    for (const [aShape, bShape, transposeA, transposeB] of cases) {
      const difference = await maxGradientDifference([aShape, bShape], ([a, b]) => tf.matMul(a!, b!, transposeA, transposeB));
      expect(difference, `${aShape} x ${bShape} (${transposeA}, ${transposeB})`).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it("does not leak tensors in a training step", async () => {
    await tf.setBackend("wasm");
    const input = tf.tensor4d(values(2 * 10 * 10 * 3, 1), [2, 10, 10, 3]);
    const kernel = tf.variable(tf.tensor4d(values(3 * 3 * 3 * 4, 2), [3, 3, 3, 4]));
    const step = () => tf.tidy(() => tf.grads((k: Tensor) => tf.conv2d(input, k as Tensor4D, 2, "valid").square().sum())([kernel])[0]!.dispose());
    step();
    const before = tf.memory().numTensors;
    const bytesBefore = tf.memory().numBytes;
    for (let index = 0; index < 3; index += 1) step();
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numBytes).toBe(bytesBefore);
    tf.dispose([input, kernel]);
  });
});

const execFileAsync = promisify(execFile);
const repositoryRoot = path.resolve(import.meta.dirname, "../..");

describe("train mnist --backend wasm", () => {
  it("trains through the real CLI and the loss falls", async () => {
    const trackingDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "podtrain-wasm-"));
    try {
      const { stdout } = await execFileAsync(process.execPath, [
        path.join(repositoryRoot, "bin", "train.js"), "mnist", "--backend", "wasm",
        "--epochs", "2", "--train-limit", "384", "--test-limit", "128", "--validation-split", "0",
        "--tracking-uri", trackingDirectory, "--no-register", "--log-format", "json",
      ], { cwd: repositoryRoot, timeout: 300_000 });
      expect(JSON.parse(stdout)).toMatchObject({ stage: "all", run_id: expect.any(String) });
      const lossFiles = fs.readdirSync(trackingDirectory, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(path.join("metrics", "train_loss")));
      expect(lossFiles).toHaveLength(1);
      const losses = fs.readFileSync(path.join(trackingDirectory, lossFiles[0]!), "utf8").trim().split("\n").map((line) => Number(line.split(" ")[1]));
      expect(losses).toHaveLength(2);
      expect(losses[1]!).toBeLessThan(losses[0]!);
      const backendParam = fs.readdirSync(trackingDirectory, { recursive: true, encoding: "utf8" }).find((file) => file.endsWith(path.join("params", "resolved_backend")));
      expect(fs.readFileSync(path.join(trackingDirectory, backendParam!), "utf8")).toBe("wasm");
    } finally {
      fs.rmSync(trackingDirectory, { recursive: true, force: true });
    }
  });
});
