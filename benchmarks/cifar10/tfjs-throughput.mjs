// TypeScript-runtime side of the CIFAR-10 throughput benchmark (run by ./run.mjs): the model and
// batch builder and training step of `train cifar10` (from dist/, so `npm run build` first) on
// synthetic CIFAR-shaped uint8 images, timing each step the way the training loop runs it
// (--execution graph: one TensorFlow function per step; eager: tfjs-layers' trainOnBatch).
// Prints one JSON object on stdout.
import { parseArgs } from "node:util";
import { epochBatches } from "../../dist/data/cifar10/batches.js";
import { SeededRandom } from "../../dist/data/random.js";
import { loadTensorFlow } from "../../dist/tf/backend.js";
import { createTrainStep } from "../../dist/tf/fit.js";
import { compileForTraining, createCifar10Model } from "../../dist/workflows/cifar10/model.js";

const { values } = parseArgs({
  options: {
    "batch-size": { type: "string", default: "128" },
    steps: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    "learning-rate": { type: "string", default: "0.05" },
    "weight-decay": { type: "string", default: "0.0005" },
    seed: { type: "string", default: "42" },
    execution: { type: "string", default: "graph" },
  },
});
const batchSize = Number(values["batch-size"]);
const steps = Number(values.steps);
const warmup = Number(values.warmup);
const seed = Number(values.seed);

const { tf, backend, tensorflowVersion } = await loadTensorFlow("tensorflow");
const { training: model } = createCifar10Model(tf, { weight_decay: Number(values["weight-decay"]), seed });
compileForTraining(tf, model, { learning_rate: Number(values["learning-rate"]), momentum: 0.9 });
const trainStep = createTrainStep(tf, model, { execution: values.execution, seed });
if (trainStep.execution !== values.execution) throw new Error(`asked for ${values.execution} execution, got ${trainStep.execution}: ${trainStep.fallbackReason}`);

// Synthetic images and labels in the layout the reader produces (uint8, channel-major).
const count = batchSize * 4;
const random = new SeededRandom(seed);
const split = { images: new Uint8Array(count * 3072).map(() => random.integer(256)), labels: new Uint8Array(count).map(() => random.integer(10)), count };
const prepareStarted = performance.now();
const batches = [...epochBatches(split, 0, { batchSize, augment: true, shuffle: true, seed })];
const prepareSeconds = (performance.now() - prepareStarted) / 1000;

async function step(index) {
  const batch = batches[index % batches.length];
  const images = tf.tensor4d(batch.images, [batch.count, 32, 32, 3]);
  const labels = tf.tensor2d(batch.labels, [batch.count, 10]);
  const { loss } = await trainStep.run(images, labels);
  tf.dispose([images, labels]);
  return loss;
}

for (let index = 0; index < warmup; index += 1) await step(index);
const stepSeconds = [];
let loss = Number.NaN;
for (let index = 0; index < steps; index += 1) {
  const started = performance.now();
  loss = await step(index);
  stepSeconds.push((performance.now() - started) / 1000);
}
const total = stepSeconds.reduce((sum, value) => sum + value, 0);
process.stdout.write(`${JSON.stringify({
  side: "tfjs-node",
  execution: trainStep.execution,
  images_per_second: (batchSize * steps) / total,
  step_seconds: stepSeconds,
  last_loss: loss,
  parameters: model.countParams(),
  backend,
  tensorflow_version: tensorflowVersion,
  tfjs_version: tf.version.tfjs,
  // Building a batch on the host (crop, flip, normalise, HWC): not in the timed steps above.
  host_batch_milliseconds: (prepareSeconds * 1000) / batches.length,
})}\n`);
