import { randomUUID } from "node:crypto";
import path from "node:path";
import { stringify as stringifyYaml } from "yaml";
import { writeFileAtomic } from "../core/fs-atomic.js";

// MLflow's model format: a folder with an `MLmodel` YAML file listing flavors. The UI lists any
// folder with it as a model; Python loads the flavors it knows (lightgbm, python_function).

export const MLMODEL_FILE = "MLmodel";
export const MODEL_ARTIFACT_PATH = "model";

export interface TensorSpec {
  type: "tensor";
  "tensor-spec": { dtype: string; shape: number[] };
}

/** A named column of a tabular (DataFrame) signature, as MLflow's ColSpec writes it. */
export interface ColumnSpec {
  type: "double" | "float" | "long" | "integer" | "string" | "boolean";
  name: string;
  required: boolean;
}

export type SignatureSpec = TensorSpec | ColumnSpec;

export interface MLmodelInput {
  runId: string;
  /** The MLflow 3 logged model this folder is the artifacts of (MLflow writes it as model_id). */
  modelId?: string;
  flavors: Record<string, Record<string, unknown>>;
  signature?: { inputs: SignatureSpec[]; outputs: SignatureSpec[] };
}

export async function writeMLmodel(modelDirectory: string, input: MLmodelInput): Promise<void> {
  const document: Record<string, unknown> = {
    artifact_path: MODEL_ARTIFACT_PATH,
    flavors: input.flavors,
    ...(input.modelId ? { model_id: input.modelId } : {}),
    model_uuid: randomUUID().replaceAll("-", ""),
    run_id: input.runId,
    utc_time_created: new Date().toISOString().replace("T", " ").replace("Z", "000"),
  };
  if (input.signature) {
    document.signature = { inputs: JSON.stringify(input.signature.inputs), outputs: JSON.stringify(input.signature.outputs) };
  }
  await writeFileAtomic(path.join(modelDirectory, MLMODEL_FILE), stringifyYaml(document));
}
