import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { TensorFlowModule } from "./backend.js";

// The TensorFlow.js layers-model format (model.json + weights.bin), written and read through
// in-memory IO handlers so it works on every backend (file:// handlers exist only in tfjs-node).
export const MODEL_JSON_FILE = "model.json";
export const WEIGHTS_FILE = "weights.bin";
export const LAYERS_MODEL_FORMAT = "layers-model";

type LayersModel = Awaited<ReturnType<TensorFlowModule["loadLayersModel"]>>;

export async function saveLayersModel(tf: TensorFlowModule, model: LayersModel, directory: string): Promise<void> {
  await mkdir(directory, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData;
      if (!weightData || Array.isArray(weightData)) throw new Error("expected one weight buffer from tfjs");
      const modelJson = {
        format: LAYERS_MODEL_FORMAT,
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
      };
      await writeFile(path.join(directory, WEIGHTS_FILE), new Uint8Array(weightData as ArrayBuffer));
      await writeFile(path.join(directory, MODEL_JSON_FILE), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
}

export async function loadLayersModel(tf: TensorFlowModule, directory: string): Promise<LayersModel> {
  const modelJson = JSON.parse(await readFile(path.join(directory, MODEL_JSON_FILE), "utf8")) as {
    modelTopology: object;
    weightsManifest: Array<{ paths: string[]; weights: Parameters<TensorFlowModule["io"]["fromMemory"]>[1] }>;
  };
  const weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights ?? []);
  const buffers = await Promise.all(modelJson.weightsManifest.flatMap((group) => group.paths).map((file) => readFile(path.join(directory, file))));
  const joined = Buffer.concat(buffers);
  const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData }));
}
