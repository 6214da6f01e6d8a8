import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { onnxPredictor } from "../onnx/runtime.js";
import { ONNX_MODEL_FILE } from "../onnx/model-folder.js";
import { DataError, UsageError } from "../core/errors.js";
import { loadTensorFlow } from "../tf/backend.js";
import { loadLayersModel } from "../tf/model-io.js";
import { writeFileAtomic } from "../core/fs-atomic.js";
import type { TrackingStore } from "../tracking/store.js";
import { readCifar10Inputs, readFeatureCsv, readMnistInputs, type ImageInputs } from "./inputs.js";
import { fetchRegisteredModel, type ModelDocument } from "./registered-model.js";

// `train predict <workflow> --model-uri models:/<name>@<alias> --input <file>`: a smoke test of a
// registered model in a pod or on a laptop. CNNs run through onnxruntime (the ONNX flavor, as
// Python MLflow serves them) or tfjs; LightGBM models through the WebAssembly booster.

export const PREDICT_FLAVORS = ["auto", "onnx", "tfjs"] as const;
export type PredictFlavor = (typeof PREDICT_FLAVORS)[number];

const IMAGE_WORKFLOWS = new Set(["mnist", "cifar10"]);
const TABULAR_WORKFLOWS = new Set(["power", "tick"]);
const BATCH = 256;

export interface PredictOptions {
  store: TrackingStore;
  workflow: string;
  modelUri: string;
  input: string;
  /** A .csv or .jsonl file; undefined: JSON lines on stdout. */
  output?: string;
  flavor: PredictFlavor;
  write: (text: string) => void;
}

export interface PredictSummary {
  rows: number;
  flavor: string;
  version: string;
  output: string;
}

type Row = { row: number; class: number; probabilities: number[] } | { row: number; prediction: number };

function imageShapeOf(document: ModelDocument, uri: string): number[] {
  const inputs = document.signature ? (JSON.parse(document.signature.inputs) as Array<{ type: string; "tensor-spec"?: { shape: number[] } }>) : [];
  const shape = inputs[0]?.["tensor-spec"]?.shape;
  if (!shape || shape.length !== 4) throw new UsageError(`${uri} has no image tensor signature [-1, H, W, C]: not a CNN model`);
  return shape.slice(1);
}

async function predictImages(directory: string, document: ModelDocument, inputs: ImageInputs, imageShape: number[], flavor: PredictFlavor, uri: string): Promise<{ rows: Row[]; flavor: string }> {
  const useOnnx = flavor === "onnx" || (flavor === "auto" && document.flavors.onnx !== undefined);
  if (useOnnx && !document.flavors.onnx) throw new UsageError(`${uri} has no onnx flavor (it has ${Object.keys(document.flavors).join(", ")}); use --flavor tfjs`);
  if (!useOnnx && !document.flavors.tfjs) throw new UsageError(`${uri} has no tfjs flavor (it has ${Object.keys(document.flavors).join(", ")})`);
  const imageSize = imageShape.reduce((product, dim) => product * dim, 1);
  const probabilities: Float32Array[] = [];
  if (useOnnx) {
    const predictor = await onnxPredictor(await readFile(path.join(directory, ONNX_MODEL_FILE)));
    try {
      for (let start = 0; start < inputs.count; start += BATCH) {
        const count = Math.min(BATCH, inputs.count - start);
        probabilities.push(await predictor.predict(inputs.images.slice(start * imageSize, (start + count) * imageSize), count, imageShape));
      }
    } finally {
      await predictor.release();
    }
  } else {
    const { tf } = await loadTensorFlow("auto", { warn: () => {} });
    const model = await loadLayersModel(tf, directory);
    for (let start = 0; start < inputs.count; start += BATCH) {
      const count = Math.min(BATCH, inputs.count - start);
      const images = inputs.images.subarray(start * imageSize, (start + count) * imageSize);
      probabilities.push(tf.tidy(() => (model.predict(tf.tensor(images, [count, ...imageShape])) as ReturnType<typeof tf.tensor>).dataSync() as Float32Array));
    }
    model.dispose();
  }
  const flat = new Float32Array(probabilities.reduce((sum, part) => sum + part.length, 0));
  probabilities.reduce((offset, part) => (flat.set(part, offset), offset + part.length), 0);
  const classes = flat.length / inputs.count;
  const rows: Row[] = Array.from({ length: inputs.count }, (_, row) => {
    const values = Array.from(flat.subarray(row * classes, (row + 1) * classes));
    return { row, class: values.indexOf(Math.max(...values)), probabilities: values };
  });
  return { rows, flavor: useOnnx ? "onnx" : "tfjs" };
}

async function predictTabular(directory: string, document: ModelDocument, input: string, uri: string): Promise<{ rows: Row[]; flavor: string }> {
  const flavor = document.flavors.lightgbm;
  if (!flavor) throw new UsageError(`${uri} has no lightgbm flavor (it has ${Object.keys(document.flavors).join(", ")}): not a power/tick model`);
  const columns = document.signature ? (JSON.parse(document.signature.inputs) as Array<{ name?: string }>) : [];
  const features = columns.map((column) => column.name).filter((name): name is string => typeof name === "string");
  if (features.length === 0) throw new UsageError(`${uri} has no named feature columns in its signature`);
  const { values, rows } = await readFeatureCsv(input, features);
  const { Booster } = await import("../lightgbm/index.js");
  const booster = await Booster.loadModelFromString(await readFile(path.join(directory, String(flavor.data ?? "model.lgb")), "utf8"));
  try {
    const predictions = booster.predict({ values, numColumns: features.length });
    if (predictions.length !== rows) throw new DataError(`the model returned ${predictions.length} predictions for ${rows} rows: a multi-output model is not supported here`);
    return { rows: Array.from(predictions, (prediction, row) => ({ row, prediction })), flavor: "lightgbm" };
  } finally {
    booster.dispose();
  }
}

function format(rows: Row[], csv: boolean): string {
  if (!csv) return rows.map((row) => `${JSON.stringify(row)}\n`).join("");
  const first = rows[0];
  if (!first) return "";
  if ("prediction" in first) return `row,prediction\n${rows.map((row) => `${row.row},${(row as { prediction: number }).prediction}`).join("\n")}\n`;
  const classes = first.probabilities.length;
  const header = ["row", "class", ...Array.from({ length: classes }, (_, index) => `p_${index}`)].join(",");
  return `${header}\n${rows.map((row) => { const r = row as { row: number; class: number; probabilities: number[] }; return [r.row, r.class, ...r.probabilities].join(","); }).join("\n")}\n`;
}

export async function runPredict(options: PredictOptions): Promise<PredictSummary> {
  const { store, workflow, modelUri } = options;
  if (!IMAGE_WORKFLOWS.has(workflow) && !TABULAR_WORKFLOWS.has(workflow)) throw new UsageError(`unknown workflow "${workflow}" (mnist, cifar10, power, tick)`);
  if (options.output && !/\.(csv|jsonl)$/i.test(options.output)) throw new UsageError(`--output ${options.output}: name a .csv or .jsonl file`);
  await store.checkAvailable();
  const directory = await mkdtemp(path.join(os.tmpdir(), "podtrain-predict-"));
  try {
    const model = await fetchRegisteredModel(store, modelUri, directory);
    let result: { rows: Row[]; flavor: string };
    if (IMAGE_WORKFLOWS.has(workflow)) {
      const imageShape = imageShapeOf(model.document, modelUri);
      const imageSize = imageShape.reduce((product, dim) => product * dim, 1);
      const preprocessing = (model.document.flavors.tfjs?.preprocessing ?? undefined) as { mean?: number[]; std?: number[] } | undefined;
      const inputs = workflow === "mnist" ? await readMnistInputs(options.input, imageSize) : await readCifar10Inputs(options.input, imageSize, preprocessing);
      result = await predictImages(directory, model.document, inputs, imageShape, options.flavor, modelUri);
    } else {
      if (options.flavor !== "auto") throw new UsageError(`--flavor ${options.flavor} is for the CNN workflows; ${workflow} models are LightGBM`);
      result = await predictTabular(directory, model.document, options.input, modelUri);
    }
    const text = format(result.rows, options.output?.toLowerCase().endsWith(".csv") ?? false);
    // Written whole or not at all: a failed run leaves no half-written predictions file.
    if (options.output) await writeFileAtomic(options.output, text);
    else options.write(text);
    return { rows: result.rows.length, flavor: result.flavor, version: model.version.version, output: options.output ?? "stdout" };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
