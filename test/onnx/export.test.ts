import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelExportError } from "../../src/core/errors.js";
import { exportLayersModel, ONNX_INPUT_NAME, ONNX_OPSET, ONNX_OUTPUT_NAME } from "../../src/onnx/export.js";
import { compareWithTfjs, ONNX_MAX_PROBABILITY_DIFFERENCE, ONNX_METRICS, writeOnnxModel } from "../../src/onnx/model-folder.js";
import { decodeModel } from "../../src/onnx/onnx-proto.js";
import { onnxPredictor } from "../../src/onnx/runtime.js";
import { loadTensorFlow, type TensorFlowModule } from "../../src/tf/backend.js";
import { createCifar10Model } from "../../src/workflows/cifar10/model.js";
import { createMnistModel } from "../../src/workflows/mnist/model.js";

type LayersModel = Awaited<ReturnType<TensorFlowModule["loadLayersModel"]>>;

/**
 * Random weights everywhere, scaled like a trained net's (std 1/sqrt(fan-in)): untrained batch
 * norms are the identity and would test nothing.
 */
function randomise(tf: TensorFlowModule, model: LayersModel, seed: number): void {
  model.setWeights(
    model.weights.map((variable, index) => {
      const shape = [...variable.shape] as number[];
      const name = variable.originalName;
      if (name.endsWith("moving_variance")) return tf.randomUniform(shape, 0.5, 2, "float32", seed + index);
      if (name.endsWith("gamma")) return tf.randomNormal(shape, 1, 0.2, "float32", seed + index);
      const fanIn = shape.length > 1 ? shape.slice(0, -1).reduce((product, dim) => product * dim, 1) : 25;
      return tf.randomNormal(shape, 0, 1 / Math.sqrt(fanIn), "float32", seed + index);
    }),
  );
}

function randomImages(count: number, size: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count * size }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  });
}

describe("ONNX export of the CNNs", () => {
  let tf: TensorFlowModule;
  let directory: string;
  beforeAll(async () => {
    ({ tf } = await loadTensorFlow("tensorflow", { warn: () => {} }));
    directory = await mkdtemp(path.join(os.tmpdir(), "podtrain-onnx-"));
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  it("exports the MNIST convnet with named NHWC input, dynamic batch and tfjs' probabilities", async () => {
    const model = createMnistModel(tf, { learning_rate: 0.001, seed: 7 });
    randomise(tf, model, 11);
    const exported = exportLayersModel(model);
    const decoded = decodeModel(exported.bytes);
    expect(decoded.opsetImport).toEqual([{ domain: "", version: ONNX_OPSET }]);
    expect(decoded.graph.input.map((input) => input.name)).toEqual([ONNX_INPUT_NAME]);
    expect(decoded.graph.output.map((output) => output.name)).toEqual([ONNX_OUTPUT_NAME]);
    expect(decoded.graph.input[0]!.type.tensorType.shape.dim).toEqual([{ dimParam: "batch" }, { dimValue: 28 }, { dimValue: 28 }, { dimValue: 1 }]);
    expect(decoded.graph.node.map((node) => node.opType)).toEqual(["Transpose", "Conv", "Relu", "Conv", "Relu", "MaxPool", "Transpose", "Flatten", "Gemm", "Relu", "Gemm", "Softmax"]);
    const difference = await compareWithTfjs(tf, model, exported.bytes, [28, 28, 1], { images: randomImages(300, 784, 1), count: 300 });
    expect(difference).toBeLessThanOrEqual(ONNX_MAX_PROBABILITY_DIFFERENCE);
    model.dispose();
  });

  it("exports the CIFAR-10 VGG net (batch norm, global average pooling) within 1e-5 of tfjs", async () => {
    const { serving } = createCifar10Model(tf, { weight_decay: 0, seed: 5 });
    randomise(tf, serving, 23);
    const result = await writeOnnxModel(tf, serving, directory, { images: randomImages(64, 3072, 2), count: 64 });
    expect(result.metrics[ONNX_METRICS.maxDifference]).toBeLessThanOrEqual(ONNX_MAX_PROBABILITY_DIFFERENCE);
    const bytes = await readFile(path.join(directory, "model.onnx"));
    expect(result.metrics[ONNX_METRICS.modelBytes]).toBe(bytes.byteLength);
    // 1.15 M float32 weights (conv kernels + 4 batch-norm vectors + dense).
    expect(bytes.byteLength).toBeGreaterThan(4_600_000);
    expect(decodeModel(bytes).graph.node.filter((node) => node.opType === "BatchNormalization")).toHaveLength(6);
    // Any batch size runs: the batch dimension is symbolic.
    const predictor = await onnxPredictor(bytes);
    const probabilities = await predictor.predict(randomImages(3, 3072, 9), 3, [32, 32, 3]);
    await predictor.release();
    expect(probabilities).toHaveLength(30);
    expect(await readFile(path.join(directory, "requirements.txt"), "utf8")).toMatch(/^onnxruntime==1\.31\.1$/m);
    expect(Object.keys(result.flavors)).toEqual(["onnx", "python_function"]);
    serving.dispose();
  });

  it("refuses a layer it cannot translate with a typed error naming it", () => {
    const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3 }), tf.layers.upSampling2d({}), tf.layers.flatten(), tf.layers.dense({ units: 2, activation: "softmax" })] });
    expect(() => exportLayersModel(model)).toThrow(ModelExportError);
    expect(() => exportLayersModel(model)).toThrow(/UpSampling2D\) has no ONNX export/);
  });

  it("fails the export when onnxruntime's probabilities drift from tfjs'", async () => {
    const model = createMnistModel(tf, { learning_rate: 0.001, seed: 3 });
    randomise(tf, model, 5);
    const exported = exportLayersModel(model);
    // The same architecture with other weights stands in for an exporter bug.
    randomise(tf, model, 6);
    const difference = await compareWithTfjs(tf, model, exported.bytes, [28, 28, 1], { images: randomImages(20, 784, 3), count: 20 });
    expect(difference).toBeGreaterThan(ONNX_MAX_PROBABILITY_DIFFERENCE);
    model.dispose();
  });

  it("fails the run's export with ModelExportError, naming the difference, when the two runtimes disagree", async () => {
    const model = createMnistModel(tf, { learning_rate: 0.001, seed: 4 });
    randomise(tf, model, 8);
    // The tfjs side answers 1e-4 off, as a model would that the exporter translated wrongly.
    const predict = model.predict.bind(model);
    model.predict = ((input: Parameters<typeof predict>[0]) => tf.tidy(() => tf.add(predict(input) as ReturnType<typeof tf.tensor>, 1e-4))) as typeof model.predict;
    const target = await mkdtemp(path.join(os.tmpdir(), "podtrain-onnx-drift-"));
    const writing = writeOnnxModel(tf, model, target, { images: randomImages(8, 784, 4), count: 8 });
    await expect(writing).rejects.toThrow(ModelExportError);
    await expect(writing).rejects.toThrow(/^the ONNX export of \S+ predicts other probabilities than the trained model \(max \|difference\| [0-9.e+-]+ > 0\.00001 on 8 held-out images\)/);
    await rm(target, { recursive: true, force: true });
    model.dispose();
  });
});
