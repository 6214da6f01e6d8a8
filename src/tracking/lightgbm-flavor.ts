import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { DataError } from "../runtime/errors.js";
import { writeFileAtomic } from "./fs-atomic.js";
import { MLMODEL_FILE } from "./mlmodel.js";

// The model folder `mlflow.lightgbm.save_model` writes for a `lightgbm.Booster` (MLflow 3.17.2):
//   model.lgb          LightGBM's text model format (Booster.save_model)
//   MLmodel            flavors `lightgbm` and `python_function` (written by the run lifecycle)
//   conda.yaml, python_env.yaml, requirements.txt   the Python environment to serve it with
// so that `mlflow.lightgbm.load_model` and `mlflow.pyfunc.load_model` open a model trained here
// as if Python had trained it. Shared by every LightGBM workflow (tick, power).

export const LIGHTGBM_MODEL_FILE = "model.lgb";
/** The LightGBM compiled to WebAssembly in native/lightgbm (its BUILD-INFO.json). */
export const LIGHTGBM_VERSION = "4.6.0";
/** The MLflow whose layout this mirrors; the Python environment serving the model needs it. */
export const MLFLOW_VERSION = "3.17.2";
/** The Python of the pinned tool environment (scripts/python); MLflow warns on another minor version. */
export const SERVING_PYTHON_VERSION = "3.11.7";

// What MLflow infers for a Booster, minus plotting: lightgbm's own dependencies and pandas for pyfunc.
const REQUIREMENTS = [`mlflow==${MLFLOW_VERSION}`, `lightgbm==${LIGHTGBM_VERSION}`, "numpy", "pandas", "scipy"];

/** The `flavors` mapping of the MLmodel file, as MLflow writes it for a Booster. */
export function lightgbmFlavors(): Record<string, Record<string, unknown>> {
  return {
    lightgbm: {
      code: null,
      data: LIGHTGBM_MODEL_FILE,
      lgb_version: LIGHTGBM_VERSION,
      model_class: "lightgbm.basic.Booster",
      // MLflow writes these for every model; a Booster is stored as text regardless of them.
      serialization_format: "skops",
      skops_trusted_types: ["collections.OrderedDict", "lightgbm.sklearn.LGBMRegressor", "lightgbm.basic.Booster", "lightgbm.sklearn.LGBMClassifier"],
    },
    python_function: {
      data: LIGHTGBM_MODEL_FILE,
      env: { conda: "conda.yaml", virtualenv: "python_env.yaml" },
      loader_module: "mlflow.lightgbm",
      python_version: SERVING_PYTHON_VERSION,
    },
  };
}

/** Writes the model text and the environment files; returns the flavors for the MLmodel file. */
export async function writeLightGBMModelFolder(directory: string, modelText: string): Promise<Record<string, Record<string, unknown>>> {
  await writeFileAtomic(path.join(directory, LIGHTGBM_MODEL_FILE), modelText);
  await writeFileAtomic(path.join(directory, "requirements.txt"), `${REQUIREMENTS.join("\n")}\n`);
  await writeFileAtomic(
    path.join(directory, "python_env.yaml"),
    stringifyYaml({ python: SERVING_PYTHON_VERSION, build_dependencies: ["pip", "setuptools", "wheel"], dependencies: ["-r requirements.txt"] }),
  );
  await writeFileAtomic(
    path.join(directory, "conda.yaml"),
    stringifyYaml({ channels: ["conda-forge"], dependencies: [`python=${SERVING_PYTHON_VERSION}`, "pip", { pip: REQUIREMENTS }], name: "mlflow-env" }),
  );
  return lightgbmFlavors();
}

/** The LightGBM model text of a model folder: the file its MLmodel's lightgbm flavor names, else model.lgb. */
export async function readLightGBMModelText(directory: string): Promise<string> {
  let file = LIGHTGBM_MODEL_FILE;
  try {
    const document = parseYaml(await readFile(path.join(directory, MLMODEL_FILE), "utf8")) as { flavors?: { lightgbm?: { data?: unknown } } };
    const data = document?.flavors?.lightgbm?.data;
    if (typeof data === "string" && data.length > 0) file = data;
  } catch {
    // No MLmodel (a bare folder from fit): the default file name.
  }
  try {
    return await readFile(path.join(directory, file), "utf8");
  } catch (error) {
    throw new DataError(`no LightGBM model at ${path.join(directory, file)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}
