import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ColumnSpec, SignatureSpec } from "../../tracking/mlmodel.js";

// The model folder MLflow 3.17's `mlflow.lightgbm.save_model(booster)` writes, mirrored key for
// key (checked against the real MLflow in .venv/tools, see test/tracking/model-formats/lightgbm.test.ts), so that
// Python's `mlflow.lightgbm.load_model` and `mlflow.pyfunc.load_model` load our booster.

export const LIGHTGBM_VERSION = "4.6.0";
export const MODEL_FILE = "model.lgb";
/** The versions of the pinned Python environment (scripts/python/tools.txt) the format was checked with. */
const MLFLOW_VERSION = "3.17.2";
const PYTHON_VERSION = "3.11.7";
const REQUIREMENTS = [`mlflow==${MLFLOW_VERSION}`, `lightgbm==${LIGHTGBM_VERSION}`, "numpy==2.4.6", "pandas==3.1.1", "scipy==1.17.1"];

/**
 * LightGBM's C API names the features Column_0, Column_1… when the data set had no names (the
 * WebAssembly API has no LGBM_DatasetSetFeatureNames yet). The model text carries the names on
 * its `feature_names=` line and in the importance section; writing ours there gives the same
 * file Python writes for a DataFrame with these columns.
 */
export function nameFeatures(modelText: string, featureNames: readonly string[]): string {
  for (const name of featureNames) if (/[\s=:]/.test(name)) throw new RangeError(`feature name ${JSON.stringify(name)} cannot go into a LightGBM model file`);
  const named = modelText.replace(/^feature_names=.*$/m, `feature_names=${featureNames.join(" ")}`);
  const importanceAt = named.indexOf("\nfeature_importances:\n");
  if (importanceAt < 0) return named;
  const head = named.slice(0, importanceAt);
  const tail = named.slice(importanceAt).replace(/^Column_(\d+)=/gm, (match, index: string) => `${featureNames[Number(index)] ?? match.slice(0, -1)}=`);
  return head + tail;
}

/**
 * `integerFeatures` are declared `long` in the signature: MLflow refuses an int64 column for a
 * `double` input, and calendar fields arrive as integers from a CSV or a DataFrame.
 */
export async function writeLightGBMModelFolder(directory: string, modelText: string, featureNames: readonly string[], integerFeatures: ReadonlySet<string> = new Set()) {
  await mkdir(directory, { recursive: true });
  // Python's Booster.save_model appends the pandas categorical mapping; null means "none".
  const text = `${nameFeatures(modelText, featureNames).replace(/\n*$/, "\n")}\npandas_categorical:null\n`;
  await writeFile(path.join(directory, MODEL_FILE), text);
  await writeFile(path.join(directory, "requirements.txt"), `${REQUIREMENTS.join("\n")}\n`);
  await writeFile(path.join(directory, "python_env.yaml"), `python: ${PYTHON_VERSION}\nbuild_dependencies:\n- pip\n- setuptools\n- wheel\ndependencies:\n- -r requirements.txt\n`);
  await writeFile(path.join(directory, "conda.yaml"), `channels:\n- conda-forge\ndependencies:\n- python=${PYTHON_VERSION}\n- pip\n- pip:\n${REQUIREMENTS.map((line) => `  - ${line}`).join("\n")}\nname: mlflow-env\n`);
  const inputs: ColumnSpec[] = featureNames.map((name) => ({ type: integerFeatures.has(name) ? "long" : "double", name, required: true }));
  const outputs: SignatureSpec[] = [{ type: "tensor", "tensor-spec": { dtype: "float64", shape: [-1] } }];
  return {
    flavors: {
      lightgbm: {
        code: null,
        data: MODEL_FILE,
        lgb_version: LIGHTGBM_VERSION,
        model_class: "lightgbm.basic.Booster",
        serialization_format: "skops",
        skops_trusted_types: ["lightgbm.sklearn.LGBMClassifier", "lightgbm.basic.Booster", "lightgbm.sklearn.LGBMRegressor", "collections.OrderedDict"],
      },
      python_function: {
        data: MODEL_FILE,
        env: { conda: "conda.yaml", virtualenv: "python_env.yaml" },
        loader_module: "mlflow.lightgbm",
        python_version: PYTHON_VERSION,
      },
    },
    signature: { inputs, outputs },
  };
}
