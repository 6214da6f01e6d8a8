import path from "node:path";
import { CIFAR10_CHANNELS, CIFAR10_CLASSES, CIFAR10_CLASS_NAMES, CIFAR10_IMAGE_SIDE, CIFAR10_PIXELS_PER_IMAGE } from "../../data/cifar10/format.js";
import { CIFAR10_MEAN, CIFAR10_STD, epochBatches, normalisationTable } from "../../data/cifar10/batches.js";
import { loadCifar10 } from "../../data/cifar10/dataset.js";
import { loadTensorFlow } from "../../tf/backend.js";
import { InterruptedError } from "../../core/errors.js";
import { roundMetrics } from "../../core/metrics.js";
import { checkpointing } from "../../tf/checkpoint.js";
import { fitClassifier, type BatchSource } from "../../tf/fit.js";
import { loadLayersModel, saveLayersModel } from "../../tf/model-io.js";
import { writeOnnxModel } from "../../onnx/model-folder.js";
import { epochReporting, evaluateBatches, logImageRunInputs, recordExecution, recordImageRunInputs, type RecordingStage, tfjsFlavor } from "../../tf/training.js";
import { logEvaluationReports } from "../../reports/log-reports.js";
import { writeMulticlassReports } from "../../reports/multiclass.js";
import type { WorkflowContext, WorkflowModule } from "../types.js";
import { compileForTraining, createCifar10Model } from "./model.js";
import type { Cifar10Params } from "./params.js";
import { learningRateAt } from "./schedule.js";

const IMAGE_SHAPE: [number, number, number] = [CIFAR10_IMAGE_SIDE, CIFAR10_IMAGE_SIDE, CIFAR10_CHANNELS];
const EVALUATION_BATCH_SIZE = 500;
/** Held-out test images the ONNX export is checked on (onnxruntime vs tfjs). */
const ONNX_VALIDATION_IMAGES = 500;

/**
 * Backend and dataset, loaded and checked once per run (fit and evaluate share them); each stage
 * records what it ran on (recordImageRunInputs: params and lineage at fit, stage tags always).
 */
async function prepare(context: WorkflowContext<Cifar10Params>, stage: RecordingStage) {
  const prepared = await context.once("cifar10.prepare", async () => {
    const { params, reporter } = context;
    const loaded = await loadTensorFlow(params.backend, { warn: (message) => reporter.log.warn(message) });
    const dataset = await context.once(DATASET_KEY, () => loadCifar10(datasetOptions(params)));
    logImageRunInputs(context, loaded, dataset);
    return { ...loaded, dataset };
  });
  await recordImageRunInputs(context, prepared, prepared.dataset, stage);
  return prepared;
}

const DATASET_KEY = "cifar10.dataset";

function datasetOptions(params: Cifar10Params) {
  return {
    ...(params.data_file ? { dataFile: params.data_file } : {}),
    ...(params.data_dir ? { dataDir: params.data_dir } : {}),
    ...(params.train_limit ? { trainLimit: params.train_limit } : {}),
    ...(params.test_limit ? { testLimit: params.test_limit } : {}),
    allowPartialBatches: params.allow_partial_batches,
  };
}

/** A CIFAR-10 record's pixels are channel-major (all red, then green, then blue): HWC for drawing. */
function channelLast(planes: Uint8Array): Uint8Array {
  const side = CIFAR10_IMAGE_SIDE * CIFAR10_IMAGE_SIDE;
  const pixels = new Uint8Array(planes.length);
  for (let at = 0; at < side; at += 1) for (let channel = 0; channel < CIFAR10_CHANNELS; channel += 1) pixels[at * CIFAR10_CHANNELS + channel] = planes[channel * side + at]!;
  return pixels;
}

export const cifar10Workflow: WorkflowModule<Cifar10Params> = {
  // Before the run exists: every file read and checked (a missing --data-dir fails with no run).
  async preflight(params, _reporter, once) {
    await once(DATASET_KEY, () => loadCifar10(datasetOptions(params)));
  },

  // The DAGs' validate step: reads and checks every batch (format, record count, class names)
  // and prints the data version, without TensorFlow or a run.
  async validate(params) {
    const dataset = await loadCifar10(datasetOptions(params));
    return { data_version: dataset.dataVersion, data_source: dataset.source, train_images: dataset.train.count, test_images: dataset.test.count };
  },

  async fit(context) {
    const { params, reporter, signal } = context;
    const { tf, backend, tensorflowVersion, dataset } = await prepare(context, "fit");
    const validationCount = Math.floor(dataset.train.count * params.validation_split);
    const trainCount = dataset.train.count - validationCount;
    const table = normalisationTable();
    const { training: model, serving } = createCifar10Model(tf, params);
    const optimizer = compileForTraining(tf, model, params);
    // Train images are [0, trainCount): like Keras' validation_split, the last ones are held out.
    const source: BatchSource = {
      batchesPerEpoch: Math.ceil(trainCount / params.batch_size),
      *batches(epoch, firstBatch) {
        for (const batch of epochBatches(dataset.train, epoch, { batchSize: params.batch_size, augment: params.augment, shuffle: true, seed: params.seed, range: [0, trainCount], firstBatch }, table)) {
          yield { images: tf.tensor4d(batch.images, [batch.count, ...IMAGE_SHAPE]), labels: tf.tensor2d(batch.labels, [batch.count, CIFAR10_CLASSES]), count: batch.count };
        }
      },
    };
    const reporting = epochReporting(context, source.batchesPerEpoch, (epoch) => ({ learning_rate: learningRateAt(epoch, params) }));
    const fit = await fitClassifier(tf, model, source, {
      epochs: params.epochs,
      seed: params.seed,
      execution: params.execution,
      signal,
      ...(validationCount > 0
        ? { validate: () => evaluateBatches(tf, serving, epochBatches(dataset.train, 0, { batchSize: EVALUATION_BATCH_SIZE, augment: false, shuffle: false, seed: 0, range: [trainCount, dataset.train.count] }, table), IMAGE_SHAPE, signal) }
        : {}),
      ...checkpointing(tf, model, context),
      onStart: (step) => recordExecution(context, step),
      ...reporting,
      // Also when an epoch is resumed in the middle: the rate is a function of the epoch alone.
      onEpochBegin: (epoch, firstBatch) => {
        optimizer.setLearningRate(learningRateAt(epoch, params));
        return reporting.onEpochBegin?.(epoch, firstBatch);
      },
    });
    reporting.stop();
    const modelDirectory = path.join(context.workDirectory, "model");
    if (fit.interrupted) {
      serving.dispose();
      optimizer.dispose();
      throw new InterruptedError(String(signal.reason ?? "signal"));
    }
    await saveLayersModel(tf, serving, modelDirectory);
    // The first test batch, normalised as evaluate() feeds it.
    const [validation] = epochBatches(dataset.test, 0, { batchSize: ONNX_VALIDATION_IMAGES, augment: false, shuffle: false, seed: 0 }, table);
    const onnx = await writeOnnxModel(tf, serving, modelDirectory, validation ? { images: validation.images, count: validation.count } : { images: new Float32Array(), count: 0 }).finally(() => {
      serving.dispose();
      optimizer.dispose();
    });
    await context.logMetrics(onnx.metrics);
    reporter.log.info(onnx.metrics, "exported the model to ONNX and checked it with onnxruntime");
    // Serving must normalise the same way: recorded in the flavor rather than assumed.
    const preprocessing = { layout: "NHWC", scale: "1/255", mean: [...CIFAR10_MEAN], std: [...CIFAR10_STD], class_names: [...CIFAR10_CLASS_NAMES] };
    return {
      modelDirectory,
      flavors: { tfjs: tfjsFlavor(tf, backend, tensorflowVersion, { preprocessing }), ...onnx.flavors },
      signature: {
        inputs: [{ type: "tensor", "tensor-spec": { dtype: "float32", shape: [-1, ...IMAGE_SHAPE] } }],
        outputs: [{ type: "tensor", "tensor-spec": { dtype: "float32", shape: [-1, CIFAR10_CLASSES] } }],
      },
    };
  },

  async evaluate(context, modelDirectory) {
    const { tf, dataset } = await prepare(context, "evaluate");
    const model = await loadLayersModel(tf, modelDirectory);
    const batches = epochBatches(dataset.test, 0, { batchSize: EVALUATION_BATCH_SIZE, augment: false, shuffle: false, seed: 0 });
    const result = await evaluateBatches(tf, model, batches, IMAGE_SHAPE, context.signal, { keepProbabilities: true });
    model.dispose();
    const metrics = { test_loss: result.loss, test_accuracy: result.accuracy };
    context.reporter.log.info(roundMetrics(metrics), "evaluated on the test set");
    const probabilities = new Float32Array(result.count * CIFAR10_CLASSES);
    let offset = 0;
    for (const batch of result.probabilities ?? []) {
      probabilities.set(batch, offset);
      offset += batch.length;
    }
    const { images, labels } = dataset.test;
    const reportMetrics = await logEvaluationReports(context, (reports) =>
      writeMulticlassReports(reports, {
        probabilities,
        labels: labels.subarray(0, result.count),
        classNames: CIFAR10_CLASS_NAMES,
        image: (index) => ({ side: CIFAR10_IMAGE_SIDE, channels: 3, pixels: channelLast(images.subarray(index * CIFAR10_PIXELS_PER_IMAGE, (index + 1) * CIFAR10_PIXELS_PER_IMAGE)) }),
      }),
    );
    return { ...metrics, ...reportMetrics };
  },
};
