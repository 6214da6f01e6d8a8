import { beforeAll, describe, expect, it } from "vitest";
import { loadTensorFlow, type TensorFlowModule } from "../../src/tf/backend.js";
import { encodeTrainingState, restoreTrainingState, type TrainingState } from "../../src/tf/checkpoint.js";
import { fitClassifier, tensorBatchSource, type EpochLogs } from "../../src/tf/fit.js";

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
      const result = await fitClassifier(tf, trained, tensorBatchSource(tf, images, labels, { batchSize: 16, seed: 9 }), {
        epochs: 8, seed: 9, execution: "graph",
        validate: async () => {
          const [loss, accuracy] = trained.evaluate(images, labels) as Array<{ dataSync(): Float32Array; dispose(): void }>;
          const logs = { loss: loss!.dataSync()[0]!, accuracy: accuracy!.dataSync()[0]! };
          loss!.dispose();
          accuracy!.dispose();
          return logs;
        },
        onBatchEnd: () => void (batches += 1),
        onEpochEnd: (_epoch, logs) => void epochs.push(logs),
      });
      expect(result).toEqual({ execution: "graph", epochsCompleted: 8, interrupted: false });
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
    const result = await fitClassifier(tf, trained, tensorBatchSource(tf, images, labels, { batchSize: 8, seed: 1 }), { epochs: 3, seed: 1, execution: "graph", onEpochEnd: (_epoch, logs) => void losses.push(logs.loss) });
    expect(result).toEqual({ execution: "eager", fallbackReason: "optimizer SGD is not lowered (Adam, Momentum are)", epochsCompleted: 3, interrupted: false });
    expect(losses[2]).toBeLessThan(losses[0]!);
  });

  it("runs eagerly when asked to, and stops at a batch boundary when the signal aborts", async () => {
    const { images, labels } = data(64);
    const controller = new AbortController();
    let batches = 0;
    const result = await fitClassifier(tf, model("adam"), tensorBatchSource(tf, images, labels, { batchSize: 8, seed: 1 }), {
      epochs: 5, seed: 1, execution: "eager", signal: controller.signal,
      onBatchEnd: (batch) => {
        batches += 1;
        if (batch === 2) controller.abort();
      },
    });
    expect(result).toEqual({ execution: "eager", epochsCompleted: 0, interrupted: true });
    expect(batches).toBe(3);
  });
});

describe("fitClassifier checkpoints and resume", () => {
  type Saved = { state: TrainingState; data: Uint8Array };
  async function train(options: { optimizer: "adam" | "momentum"; execution: "graph" | "eager"; dropout: boolean; stopAtStep?: number; resumeFrom?: Saved; initSeed?: number }) {
    const { images, labels } = data(45);
    const built = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 3, kernelSize: 3, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: options.initSeed ?? 1 }) }),
        tf.layers.flatten(),
        ...(options.dropout ? [tf.layers.dropout({ rate: 0.2 })] : []),
        tf.layers.dense({ units: 2, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: (options.initSeed ?? 1) + 1 }) }),
      ],
    });
    built.compile({ optimizer: options.optimizer === "adam" ? tf.train.adam(0.01) : tf.train.momentum(0.05, 0.9), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    const controller = new AbortController();
    let stepsSeen = options.resumeFrom?.state.position.step ?? 0;
    const saved: Saved[] = [];
    const epochs: EpochLogs[] = [];
    const result = await fitClassifier(tf, built, tensorBatchSource(tf, images, labels, { batchSize: 8, seed: 3 }), {
      epochs: 4, seed: 3, execution: options.execution, signal: controller.signal,
      onBatchEnd: () => {
        stepsSeen += 1;
        if (stepsSeen === options.stopAtStep) controller.abort("SIGTERM");
      },
      onEpochEnd: (_epoch, logs) => void epochs.push(logs),
      resume: async (step) => (options.resumeFrom ? restoreTrainingState(tf, built, step, { name: "test", location: "memory", ...options.resumeFrom }) : undefined),
      checkpoint: { everyEpochs: 1, everyMilliseconds: Number.POSITIVE_INFINITY, write: async (position, step) => void saved.push(await encodeTrainingState(built, step, position)) },
    });
    const weights = built.getWeights().flatMap((weight) => [...weight.dataSync()]);
    built.dispose();
    tf.dispose([images, labels]);
    return { result, saved, epochs, weights };
  }

  for (const [optimizer, execution, dropout] of [["adam", "graph", true], ["momentum", "graph", true], ["adam", "eager", false]] as const) {
    it(`stopped at any step and resumed ends with the uninterrupted weights (${optimizer}, ${execution})`, async () => {
      const uninterrupted = await train({ optimizer, execution, dropout });
      expect(uninterrupted.result.epochsCompleted).toBe(4);
      for (const stopAtStep of [3, 6, 13]) {
        const stopped = await train({ optimizer, execution, dropout, stopAtStep });
        expect(stopped.result.interrupted).toBe(true);
        const last = stopped.saved.at(-1)!;
        expect(last.state.position.step).toBe(stopAtStep);
        // Other initial weights: everything must come from the checkpoint.
        const resumed = await train({ optimizer, execution, dropout, resumeFrom: last, initSeed: 77 });
        expect(resumed.result).toMatchObject({ epochsCompleted: 4, interrupted: false });
        const largest = Math.max(...uninterrupted.weights.map((value, index) => Math.abs(value - resumed.weights[index]!)));
        expect(largest).toBeLessThanOrEqual(1e-6);
        // Epoch means of the resumed epochs equal the uninterrupted ones (the running sums are in the checkpoint).
        const all = [...stopped.epochs, ...resumed.epochs];
        expect(all.map((logs) => logs.examples)).toEqual([45, 45, 45, 45]);
        all.forEach((logs, epoch) => expect(Math.abs(logs.loss - uninterrupted.epochs[epoch]!.loss)).toBeLessThan(1e-6));
      }
    });
  }
});

describe("fitClassifier checkpoint schedule", () => {
  async function positions(everyEpochs: number, everyMilliseconds: number) {
    const { images, labels } = data(45);
    const trained = model("adam");
    const written: Array<[number, number]> = [];
    await fitClassifier(tf, trained, tensorBatchSource(tf, images, labels, { batchSize: 8, seed: 3 }), {
      epochs: 4, seed: 3, execution: "graph",
      checkpoint: { everyEpochs, everyMilliseconds, write: async (position) => void written.push([position.epoch, position.batch]) },
    });
    trained.dispose();
    tf.dispose([images, labels]);
    return written;
  }

  it("writes every N epochs and after the last one; with the time interval passed, after every step too", async () => {
    expect(await positions(2, Number.POSITIVE_INFINITY)).toEqual([[2, 0], [4, 0]]);
    expect(await positions(3, Number.POSITIVE_INFINITY)).toEqual([[3, 0], [4, 0]]);
    // 6 batches per epoch: inside an epoch after batches 1..5, then at its end.
    const everyStep = await positions(100, 0);
    expect(everyStep.slice(0, 7)).toEqual([[0, 1], [0, 2], [0, 3], [0, 4], [0, 5], [1, 0], [1, 1]]);
    expect(everyStep).toHaveLength(4 * 6);
  });
});
