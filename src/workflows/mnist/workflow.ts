import path from "node:path";
import { loadMnist, MNIST_CLASSES, MNIST_IMAGE_SIDE, type MnistSplit } from "../../data/mnist/dataset.js";
import { loadTensorFlow, type TensorFlowModule } from "../../tf/backend.js";
import { loadLayersModel, saveLayersModel } from "../../tf/model-io.js";
import { writeOnnxModel } from "../../onnx/model-folder.js";
import { InterruptedError } from "../../core/errors.js";
import { roundMetrics } from "../../core/metrics.js";
import { checkpointing } from "../../tf/checkpoint.js";
import { fitClassifier, tensorBatchSource } from "../../tf/fit.js";
import { epochReporting, logImageRunInputs, recordExecution, recordImageRunInputs, type RecordingStage, tfjsFlavor } from "../../tf/training.js";
import { logEvaluationReports } from "../../reports/log-reports.js";
import { writeMulticlassReports } from "../../reports/multiclass.js";
import type { WorkflowContext, WorkflowModule } from "../types.js";
import { createMnistModel } from "./model.js";
import type { MnistParams } from "./params.js";

const PIXEL_SCALE = 255;
const EVALUATION_BATCH_SIZE = 1024;
/** Held-out test images the ONNX export is checked on (onnxruntime vs tfjs). */
const ONNX_VALIDATION_IMAGES = 1000;

function scaledPixels(split: MnistSplit, count = split.count): Float32Array {
  const pixels = new Float32Array(count * MNIST_IMAGE_SIDE * MNIST_IMAGE_SIDE);
  for (let index = 0; index < pixels.length; index += 1) pixels[index] = (split.images[index] ?? 0) / PIXEL_SCALE;
  return pixels;
}

function toTensors(tf: TensorFlowModule, split: MnistSplit) {
  const pixels = scaledPixels(split);
  return tf.tidy(() => ({
    images: tf.tensor4d(pixels, [split.count, MNIST_IMAGE_SIDE, MNIST_IMAGE_SIDE, 1]),
    labels: tf.oneHot(tf.tensor1d(split.labels, "int32"), MNIST_CLASSES).toFloat(),
  }));
}

type Tensor = ReturnType<TensorFlowModule["tensor"]>;

/** Keras-style evaluate of the compiled model on in-memory tensors (the validation split). */
async function evaluateTensors(model: ReturnType<typeof createMnistModel>, images: Tensor, labels: Tensor) {
  const [loss, accuracy] = model.evaluate(images, labels, { batchSize: EVALUATION_BATCH_SIZE }) as Tensor[];
  const logs = { loss: (await loss!.data())[0] ?? Number.NaN, accuracy: (await accuracy!.data())[0] ?? Number.NaN };
  loss!.dispose();
  accuracy!.dispose();
  return logs;
}

/**
 * Backend and dataset, loaded and checked once per run (fit and evaluate share them); each stage
 * records what it ran on (recordImageRunInputs: params and lineage at fit, stage tags always).
 */
async function prepare(context: WorkflowContext<MnistParams>, stage: RecordingStage) {
  const prepared = await context.once("mnist.prepare", async () => {
    const { params, reporter } = context;
    const loaded = await loadTensorFlow(params.backend, { warn: (message) => reporter.log.warn(message) });
    const dataset = await context.once(DATASET_KEY, () => loadMnist(datasetOptions(params)));
    logImageRunInputs(context, loaded, dataset);
    return { ...loaded, dataset };
  });
  await recordImageRunInputs(context, prepared, prepared.dataset, stage);
  return prepared;
}

const DATASET_KEY = "mnist.dataset";

function datasetOptions(params: MnistParams) {
  return {
    ...(params.data_dir ? { directory: params.data_dir } : {}),
    ...(params.train_limit ? { trainLimit: params.train_limit } : {}),
    ...(params.test_limit ? { testLimit: params.test_limit } : {}),
  };
}

export const mnistWorkflow: WorkflowModule<MnistParams> = {
  // Before the run exists: every file read and checked (a missing --data-dir fails with no run).
  async preflight(params, _reporter, once) {
    await once(DATASET_KEY, () => loadMnist(datasetOptions(params)));
  },

  async validate(params) {
    const dataset = await loadMnist(datasetOptions(params));
    return { data_version: dataset.dataVersion, data_source: dataset.source, train_images: dataset.train.count, test_images: dataset.test.count };
  },

  async fit(context) {
    const { params, reporter, signal } = context;
    const { tf, backend, tensorflowVersion, dataset } = await prepare(context, "fit");
    const all = toTensors(tf, dataset.train);
    const validationCount = Math.floor(dataset.train.count * params.validation_split);
    const trainCount = dataset.train.count - validationCount;
    // Like Keras' validation_split: the last images are held out, before any shuffling.
    const [trainImages, validationImages] = tf.split(all.images, [trainCount, validationCount]) as [Tensor, Tensor];
    const [trainLabels, validationLabels] = tf.split(all.labels, [trainCount, validationCount]) as [Tensor, Tensor];
    tf.dispose(all);
    const model = createMnistModel(tf, params);
    const source = tensorBatchSource(tf, trainImages, trainLabels, { batchSize: params.batch_size, seed: params.seed });
    const reporting = epochReporting(context, source.batchesPerEpoch);
    const fit = await fitClassifier(tf, model, source, {
      epochs: params.epochs,
      seed: params.seed,
      execution: params.execution,
      signal,
      ...(validationCount > 0 ? { validate: () => evaluateTensors(model, validationImages, validationLabels) } : {}),
      ...checkpointing(tf, model, context),
      onStart: (step) => recordExecution(context, step),
      ...reporting,
    });
    reporting.stop();
    tf.dispose([trainImages, trainLabels, validationImages, validationLabels]);
    if (fit.interrupted) {
      model.dispose();
      throw new InterruptedError(String(signal.reason ?? "signal"));
    }
    const modelDirectory = path.join(context.workDirectory, "model");
    await saveLayersModel(tf, model, modelDirectory);
    const onnxImages = Math.min(ONNX_VALIDATION_IMAGES, dataset.test.count);
    const onnx = await writeOnnxModel(tf, model, modelDirectory, { images: scaledPixels(dataset.test, onnxImages), count: onnxImages }).finally(() => model.dispose());
    await context.logMetrics(onnx.metrics);
    reporter.log.info(onnx.metrics, "exported the model to ONNX and checked it with onnxruntime");
    return {
      modelDirectory,
      flavors: { tfjs: tfjsFlavor(tf, backend, tensorflowVersion), ...onnx.flavors },
      signature: {
        inputs: [{ type: "tensor", "tensor-spec": { dtype: "float32", shape: [-1, MNIST_IMAGE_SIDE, MNIST_IMAGE_SIDE, 1] } }],
        outputs: [{ type: "tensor", "tensor-spec": { dtype: "float32", shape: [-1, MNIST_CLASSES] } }],
      },
    };
  },

  async evaluate(context, modelDirectory) {
    const { tf, dataset } = await prepare(context, "evaluate");
    const model = await loadLayersModel(tf, modelDirectory);
    model.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    const test = toTensors(tf, dataset.test);
    const [loss, accuracy] = (model.evaluate(test.images, test.labels, { batchSize: EVALUATION_BATCH_SIZE }) as Array<{ data(): Promise<Float32Array> }>);
    const metrics = { test_loss: (await loss!.data())[0]!, test_accuracy: (await accuracy!.data())[0]! };
    const predicted = model.predict(test.images, { batchSize: EVALUATION_BATCH_SIZE }) as Tensor;
    const probabilities = await predicted.data();
    tf.dispose([test.images, test.labels, predicted]);
    model.dispose();
    context.reporter.log.info(roundMetrics(metrics), "evaluated on the test set");
    const pixelsPerImage = MNIST_IMAGE_SIDE * MNIST_IMAGE_SIDE;
    const reportMetrics = await logEvaluationReports(context, (reports) =>
      writeMulticlassReports(reports, {
        probabilities,
        labels: dataset.test.labels,
        classNames: Array.from({ length: MNIST_CLASSES }, (_, digit) => String(digit)),
        image: (index) => ({ side: MNIST_IMAGE_SIDE, channels: 1, pixels: dataset.test.images.subarray(index * pixelsPerImage, (index + 1) * pixelsPerImage) }),
      }),
    );
    return { ...metrics, ...reportMetrics };
  },
};
