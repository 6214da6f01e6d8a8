import { writeFile } from "node:fs/promises";
import path from "node:path";
import { ModelExportError } from "../core/errors.js";
import type { TensorFlowModule } from "../tf/backend.js";
import { exportLayersModel } from "./export.js";
import { onnxPredictor } from "./runtime.js";

// Adds the ONNX copy of a CNN to its MLflow model folder, next to the tfjs files, with the
// `onnx` + `python_function` flavors and environment files that MLflow 3.17's
// `mlflow.onnx.save_model` writes (checked against the real MLflow: test/onnx/pyfunc.test.ts), so
// `mlflow.pyfunc.load_model` and `mlflow models serve` load it with onnxruntime.

export const ONNX_MODEL_FILE = "model.onnx";
/** Versions the format and the predictions were checked with (scripts/python/tools.txt). */
export const ONNX_PYTHON_VERSIONS = { mlflow: "3.17.2", numpy: "2.4.6", onnx: "1.23.2", onnxruntime: "1.31.1", python: "3.11.7" } as const;
/** Largest |p_tfjs − p_onnxruntime| accepted on any class probability of any validation image. */
export const ONNX_MAX_PROBABILITY_DIFFERENCE = 1e-5;
/** Metric names under which each run records its export. */
export const ONNX_METRICS = { exportSeconds: "onnx_export_seconds", modelBytes: "onnx_model_bytes", maxDifference: "onnx_max_abs_prob_diff" } as const;

const VALIDATION_BATCH = 256;

type LayersModel = Awaited<ReturnType<TensorFlowModule["loadLayersModel"]>>;

export interface ValidationImages {
  /** Flat NHWC floats, preprocessed exactly as the model's input during evaluation. */
  images: Float32Array;
  count: number;
}

export interface OnnxExport {
  flavors: Record<string, Record<string, unknown>>;
  metrics: Record<string, number>;
}

/** Largest absolute difference between the two models' probabilities on `validation`. */
export async function compareWithTfjs(tf: TensorFlowModule, model: LayersModel, onnxBytes: Uint8Array, imageShape: number[], validation: ValidationImages): Promise<number> {
  const predictor = await onnxPredictor(onnxBytes);
  const imageSize = imageShape.reduce((product, dim) => product * dim, 1);
  let maxDifference = 0;
  try {
    for (let start = 0; start < validation.count; start += VALIDATION_BATCH) {
      const count = Math.min(VALIDATION_BATCH, validation.count - start);
      const images = validation.images.subarray(start * imageSize, (start + count) * imageSize);
      const expected = tf.tidy(() => (model.predict(tf.tensor(images, [count, ...imageShape])) as ReturnType<TensorFlowModule["tensor"]>).dataSync());
      const actual = await predictor.predict(images, count, imageShape);
      if (actual.length !== expected.length) throw new ModelExportError(`the ONNX model returned ${actual.length} probabilities for ${count} images, tfjs ${expected.length}`);
      for (let index = 0; index < actual.length; index += 1) {
        const difference = Math.abs(actual[index]! - expected[index]!);
        // NaN compares false: count it as the worst difference.
        if (!(difference <= maxDifference)) maxDifference = Number.isNaN(difference) ? Number.POSITIVE_INFINITY : difference;
      }
    }
  } finally {
    await predictor.release();
  }
  return maxDifference;
}

/**
 * Exports `model` to `<directory>/model.onnx`, checks it against tfjs on the validation images
 * (onnxruntime, CPU) and writes the Python environment files. Throws ModelExportError when the
 * predictions differ by more than ONNX_MAX_PROBABILITY_DIFFERENCE: the run fails rather than
 * register a model that serves other answers than the one evaluated.
 */
export async function writeOnnxModel(tf: TensorFlowModule, model: LayersModel, directory: string, validation: ValidationImages, metadata: Record<string, string> = {}): Promise<OnnxExport> {
  const started = performance.now();
  const exported = exportLayersModel(model, metadata);
  await writeFile(path.join(directory, ONNX_MODEL_FILE), exported.bytes);
  const exportSeconds = (performance.now() - started) / 1000;
  if (validation.count <= 0) throw new ModelExportError("no held-out images to check the ONNX export with");
  const maxDifference = await compareWithTfjs(tf, model, exported.bytes, exported.inputShape, validation);
  if (!(maxDifference <= ONNX_MAX_PROBABILITY_DIFFERENCE)) {
    throw new ModelExportError(
      `the ONNX export of ${model.name} predicts other probabilities than the trained model (max |difference| ${maxDifference.toExponential(2)} > ${ONNX_MAX_PROBABILITY_DIFFERENCE} on ${validation.count} held-out images): the exporter does not support this model; nothing is logged`,
    );
  }
  await writePythonEnvironment(directory);
  return {
    flavors: onnxFlavors(),
    metrics: { [ONNX_METRICS.exportSeconds]: exportSeconds, [ONNX_METRICS.modelBytes]: exported.bytes.byteLength, [ONNX_METRICS.maxDifference]: maxDifference },
  };
}

export function onnxFlavors(): Record<string, Record<string, unknown>> {
  return {
    onnx: {
      code: null,
      data: ONNX_MODEL_FILE,
      onnx_session_options: null,
      onnx_version: ONNX_PYTHON_VERSIONS.onnx,
      // MLflow's default list: onnxruntime uses CUDA where the serving host has it, else the CPU.
      providers: ["CUDAExecutionProvider", "CPUExecutionProvider"],
    },
    python_function: {
      data: ONNX_MODEL_FILE,
      env: { conda: "conda.yaml", virtualenv: "python_env.yaml" },
      loader_module: "mlflow.onnx",
      python_version: ONNX_PYTHON_VERSIONS.python,
    },
  };
}

async function writePythonEnvironment(directory: string): Promise<void> {
  const versions = ONNX_PYTHON_VERSIONS;
  const requirements = [`mlflow==${versions.mlflow}`, `numpy==${versions.numpy}`, `onnx==${versions.onnx}`, `onnxruntime==${versions.onnxruntime}`];
  await writeFile(path.join(directory, "requirements.txt"), `${requirements.join("\n")}\n`);
  await writeFile(path.join(directory, "python_env.yaml"), `python: ${versions.python}\nbuild_dependencies:\n- pip==23.2.1\n- setuptools==65.5.0\n- wheel\ndependencies:\n- -r requirements.txt\n`);
  await writeFile(path.join(directory, "conda.yaml"), `channels:\n- conda-forge\ndependencies:\n- python=${versions.python}\n- pip<=23.2.1\n- pip:\n${requirements.map((line) => `  - ${line}`).join("\n")}\nname: mlflow-env\n`);
}
