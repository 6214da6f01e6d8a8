import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LayersModel } from "@tensorflow/tfjs";
import { loadTensorFlow, type TensorFlowModule } from "../../../src/tf/backend.js";
import { buildTrainStepGraph, createGraphTrainStep, type GraphTrainStep } from "../../../src/tf/graph/train-step.js";
import { logitsCrossEntropy } from "../../../src/tf/losses.js";
import { compileForTraining, createCifar10Model } from "../../../src/workflows/cifar10/model.js";
import { createMnistModel } from "../../../src/workflows/mnist/model.js";

let tf: TensorFlowModule;
beforeAll(async () => {
  ({ tf } = await loadTensorFlow("tensorflow"));
});

/** A small convnet touching every lowering except dropout (whose masks differ by design). */
function smallModel(padding: "valid" | "same", strides: number) {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [9, 9, 2], filters: 4, kernelSize: 3, strides, padding, activation: "relu", kernelInitializer: init(1) }),
      tf.layers.conv2d({ filters: 5, kernelSize: 2, activation: "relu", kernelInitializer: init(2), biasInitializer: tf.initializers.constant({ value: 0.05 }) }),
      tf.layers.maxPooling2d({ poolSize: 2, padding }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 6, activation: "relu", kernelInitializer: init(3) }),
      tf.layers.dense({ units: 3, activation: "softmax", kernelInitializer: init(4) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  return model;
}

function batch(count: number, shape: number[], classes: number, seed: number) {
  const images = tf.randomUniform([count, ...shape], -1, 1, "float32", seed);
  const labels = tf.oneHot(tf.randomUniform([count], 0, classes, "int32", seed + 1), classes).toFloat();
  return { images, labels };
}

function weightsOf(model: LayersModel): Float32Array[] {
  return model.getWeights().map((weight) => weight.dataSync() as Float32Array);
}

function maxDifference(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((values, index) => values.forEach((value, position) => (worst = Math.max(worst, Math.abs(value - b[index]![position]!)))));
  return worst;
}

describe("createGraphTrainStep", () => {
  for (const [padding, strides] of [["valid", 1], ["same", 2]] as const) {
    it(`matches tfjs-layers' trainOnBatch over 3 Adam steps (padding ${padding}, strides ${strides})`, async () => {
      const reference = smallModel(padding, strides);
      const graphModel = smallModel(padding, strides);
      graphModel.setWeights(reference.getWeights());
      const step = createGraphTrainStep(tf, graphModel, 1) as GraphTrainStep;
      expect("unsupported" in step).toBe(false);
      for (let iteration = 0; iteration < 3; iteration += 1) {
        const { images, labels } = batch(7, [9, 9, 2], 3, 10 + iteration);
        const [referenceLoss, referenceAccuracy] = (await reference.trainOnBatch(images, labels)) as number[];
        const { loss, accuracy } = step.step(images, labels);
        expect(loss.dataSync()[0]).toBeCloseTo(referenceLoss!, 5);
        expect(accuracy.dataSync()[0]).toBeCloseTo(referenceAccuracy!, 6);
        tf.dispose([images, labels, loss, accuracy]);
      }
      expect(maxDifference(weightsOf(graphModel), weightsOf(reference))).toBeLessThan(2e-5);
      step.dispose();
    });
  }

  it("matches trainOnBatch for a functional logits model: batch norm, ReLU layer, global pooling, L2, momentum with a changing rate", async () => {
    const build = () => {
      const input = tf.input({ shape: [8, 8, 3] });
      let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", useBias: false, kernelInitializer: tf.initializers.heNormal({ seed: 1 }), kernelRegularizer: tf.regularizers.l2({ l2: 0.01 }) }).apply(input) as ReturnType<typeof tf.input>;
      x = tf.layers.batchNormalization().apply(x) as typeof x;
      x = tf.layers.activation({ activation: "relu" }).apply(x) as typeof x;
      x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as typeof x;
      x = tf.layers.globalAveragePooling2d({}).apply(x) as typeof x;
      x = tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }), kernelRegularizer: tf.regularizers.l2({ l2: 0.02 }) }).apply(x) as typeof x;
      const model = tf.model({ inputs: input, outputs: x });
      const optimizer = tf.train.momentum(0.1, 0.9);
      model.compile({ optimizer, loss: logitsCrossEntropy(tf), metrics: ["accuracy"] });
      return { model, optimizer };
    };
    const reference = build();
    const graphed = build();
    graphed.model.setWeights(reference.model.getWeights());
    const step = createGraphTrainStep(tf, graphed.model, 1) as GraphTrainStep;
    expect("unsupported" in step).toBe(false);
    for (let iteration = 0; iteration < 4; iteration += 1) {
      // A schedule changes the rate between steps; the graph reads it from the optimizer each step.
      reference.optimizer.setLearningRate(0.1 / (iteration + 1));
      graphed.optimizer.setLearningRate(0.1 / (iteration + 1));
      const { images, labels } = batch(6, [8, 8, 3], 3, 20 + iteration);
      const [referenceLoss] = (await reference.model.trainOnBatch(images, labels)) as number[];
      const { loss, accuracy } = step.step(images, labels);
      expect(loss.dataSync()[0]).toBeCloseTo(referenceLoss!, 4);
      tf.dispose([images, labels, loss, accuracy]);
    }
    // getWeights() includes the batch-norm moving mean and variance.
    expect(reference.model.getWeights()).toHaveLength(7);
    // Tight enough to catch the moving variance's (n − 1)/n correction (≈ 3e-5 here).
    expect(maxDifference(weightsOf(graphed.model), weightsOf(reference.model))).toBeLessThan(1e-6);
    step.dispose();
  });

  it("lowers the CIFAR-10 training model", () => {
    const { training } = createCifar10Model(tf, { weight_decay: 5e-4, seed: 1 });
    compileForTraining(tf, training, { learning_rate: 0.05, momentum: 0.9 });
    const built = buildTrainStepGraph(training);
    expect(built).toMatchObject({ weightCount: 6 + 12 + 2, stateCount: 12, slotsPerWeight: 1 });
  });

  it("trains the MNIST convnet: loss falls on a repeated batch, dropout masks differ per step", () => {
    const model = createMnistModel(tf, { learning_rate: 0.001, seed: 3 });
    const step = createGraphTrainStep(tf, model, 3) as GraphTrainStep;
    const { images, labels } = batch(32, [28, 28, 1], 10, 5);
    const losses: number[] = [];
    for (let iteration = 0; iteration < 15; iteration += 1) {
      const { loss, accuracy } = step.step(images, labels);
      losses.push(loss.dataSync()[0]!);
      tf.dispose([loss, accuracy]);
    }
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.5);
    step.dispose();
  });

  it("names what it cannot lower and leaves the model to tfjs-layers", () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: "softmax" })] });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: "categoricalCrossentropy" });
    expect(createGraphTrainStep(tf, model, 1)).toEqual({ unsupported: "optimizer SGD is not lowered (Adam, Momentum are)" });
    const tanh = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: "tanh" }), tf.layers.dense({ units: 2, activation: "softmax" })] });
    tanh.compile({ optimizer: "adam", loss: "categoricalCrossentropy" });
    expect(() => buildTrainStepGraph(tanh)).toThrow(/activation tanh is not lowered/);
    const frozen = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, trainable: false }), tf.layers.dense({ units: 2, activation: "softmax" })] });
    frozen.compile({ optimizer: "adam", loss: "categoricalCrossentropy" });
    expect(createGraphTrainStep(tf, frozen, 1)).toEqual({ unsupported: expect.stringMatching(/^layer dense_Dense\d+ is frozen \(trainable: false\); frozen layers are not lowered$/) });
  });
});
