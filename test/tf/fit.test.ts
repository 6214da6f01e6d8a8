import { beforeAll, describe, expect, it } from "vitest";
import { loadTensorFlow, type TensorFlowModule } from "../../src/tf/backend.js";
import { fitClassifier, type EpochLogs } from "../../src/tf/fit.js";

let tf: TensorFlowModule;
beforeAll(async () => {
  ({ tf } = await loadTensorFlow("tensorflow"));
});

function model(optimizer: "adam" | "sgd", seed = 1) {
  const built = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 3, kernelSize: 3, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.flatten(),
      tf.layers.dropout({ rate: 0.2 }),
      tf.layers.dense({ units: 2, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
  built.compile({ optimizer: optimizer === "adam" ? tf.train.adam(0.01) : tf.train.sgd(0.1), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  return built;
}

/** Class 1 when the image is bright: learnable in a few epochs. */
function data(count: number) {
  const pixels = new Float32Array(count * 36);
  const classes = new Int32Array(count);
  for (let index = 0; index < count; index += 1) {
    classes[index] = index % 2;
    pixels.fill(classes[index] ? 0.9 : 0.1, index * 36, (index + 1) * 36);
    pixels[index * 36 + (index % 36)] = 0.5;
  }
  return { images: tf.tensor4d(pixels, [count, 6, 6, 1]), labels: tf.oneHot(tf.tensor1d(classes, "int32"), 2).toFloat() };
}

describe("fitClassifier", () => {
  it("trains with one graph function per step, reproducibly for a seed, and reports weighted epoch means", async () => {
    const { images, labels } = data(50);
    const runs: Array<{ weights: number[]; epochs: EpochLogs[]; batches: number }> = [];
    for (let repeat = 0; repeat < 2; repeat += 1) {
      const trained = model("adam");
      const epochs: EpochLogs[] = [];
      let batches = 0;
      const tensorsBefore = tf.memory().numTensors;
      const result = await fitClassifier(tf, trained, images, labels, {
        epochs: 8, batchSize: 16, seed: 9, execution: "graph",
        validation: { images, labels },
        onBatchEnd: () => void (batches += 1),
        onEpochEnd: (_epoch, logs) => void epochs.push(logs),
      });
      expect(result).toEqual({ execution: "graph", epochsCompleted: 8 });
      // Every step's outputs replace the weights and optimizer state they came from: nothing leaks.
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      runs.push({ weights: trained.getWeights().flatMap((weight) => [...weight.dataSync()]), epochs, batches });
    }
    expect(runs[0]!.batches).toBe(8 * 4); // ceil(50 / 16) per epoch, the last one partial
    expect(runs[0]!.epochs.map((logs) => logs.examples)).toEqual(new Array(8).fill(50));
    expect(runs[0]!.epochs.at(-1)!.loss).toBeLessThan(runs[0]!.epochs[0]!.loss);
    expect(runs[0]!.epochs.at(-1)!.val_accuracy).toBeGreaterThan(0.9);
    runs[0]!.weights.forEach((value, index) => expect(Math.abs(value - runs[1]!.weights[index]!)).toBeLessThan(1e-6));
  });

  it("falls back to tfjs-layers' trainOnBatch and says why when the model cannot be lowered", async () => {
    const { images, labels } = data(40);
    const trained = model("sgd");
    const losses: number[] = [];
    const result = await fitClassifier(tf, trained, images, labels, { epochs: 3, batchSize: 8, seed: 1, execution: "graph", onEpochEnd: (_epoch, logs) => void losses.push(logs.loss) });
    expect(result).toEqual({ execution: "eager", fallbackReason: "optimizer SGD is not lowered (Adam, Momentum are)", epochsCompleted: 3 });
    expect(losses[2]).toBeLessThan(losses[0]!);
  });

  it("runs eagerly when asked to, and stops at a batch boundary when the signal aborts", async () => {
    const { images, labels } = data(64);
    const controller = new AbortController();
    let batches = 0;
    const result = await fitClassifier(tf, model("adam"), images, labels, {
      epochs: 5, batchSize: 8, seed: 1, execution: "eager", signal: controller.signal,
      onBatchEnd: (batch) => {
        batches += 1;
        if (batch === 2) controller.abort();
      },
    });
    expect(result).toEqual({ execution: "eager", epochsCompleted: 0 });
    expect(batches).toBe(3);
  });
});
