import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPOSITORY_ROOT } from "../support/python.js";

// The images run Node 24; onnxruntime-node's prebuilt N-API binary must load there too.
const SCRIPT = `
const tf = await import("@tensorflow/tfjs");
const { exportLayersModel } = await import("./dist/onnx/export.js");
const { onnxPredictor } = await import("./dist/onnx/runtime.js");
const model = tf.sequential({ layers: [
  tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
  tf.layers.maxPooling2d({ poolSize: 2 }), tf.layers.flatten(),
  tf.layers.dense({ units: 4, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }) ] });
const images = Float32Array.from({ length: 5 * 72 }, (_, i) => Math.sin(i));
const expected = model.predict(tf.tensor4d(images, [5, 6, 6, 2])).dataSync();
const predictor = await onnxPredictor(exportLayersModel(model).bytes);
const actual = await predictor.predict(images, 5, [6, 6, 2]);
console.log(JSON.stringify({ node: process.version, count: actual.length, maxDifference: Math.max(...actual.map((value, i) => Math.abs(value - expected[i]))) }));
`;

describe("onnxruntime-node under Node 24", () => {
  it("loads the bundled CPU binary and runs an exported model like tfjs", () => {
    const node24 = execFileSync(path.join(REPOSITORY_ROOT, "scripts/node-binary.sh"), ["24.11.1"], { encoding: "utf8" }).trim();
    const result = spawnSync(node24, ["--input-type=module", "-e", SCRIPT], { cwd: REPOSITORY_ROOT, encoding: "utf8" });
    expect(result.stderr).not.toMatch(/Error/);
    const seen = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}") as { node: string; count: number; maxDifference: number };
    expect(seen.node).toMatch(/^v24\./);
    expect(seen.count).toBe(20);
    expect(seen.maxDifference).toBeLessThanOrEqual(1e-6);
  });
});
