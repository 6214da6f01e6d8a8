import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { nameFeatures, writeLightGBMModelFolder } from "../../../src/tracking/model-formats/lightgbm.js";
import { runPythonJson } from "../../support/python.js";
import { temporaryDirectory } from "../../workflows/power/fixtures.js";

interface PythonModel {
  flavors: Record<string, Record<string, unknown>>;
  files: string[];
  inputs: unknown[];
  outputs: unknown[];
  modelText: string;
}

describe("MLflow lightgbm flavor", () => {
  it("matches what MLflow 3.17's mlflow.lightgbm.save_model writes for a Booster, key for key", async () => {
    const reference = await temporaryDirectory();
    const python = await runPythonJson<PythonModel>(`
import json, os, yaml, numpy as np, pandas as pd, lightgbm as lgb, mlflow.lightgbm
from mlflow.models import infer_signature
frame = pd.DataFrame(np.random.default_rng(0).random((60, 3)), columns=["lag_1h", "lag_24h", "hour"])
booster = lgb.train({"verbose": -1, "num_threads": 1}, lgb.Dataset(frame, frame.lag_1h * 2), 3)
mlflow.lightgbm.save_model(booster, "${reference}/model", signature=infer_signature(frame, booster.predict(frame)))
document = yaml.safe_load(open("${reference}/model/MLmodel"))
print(json.dumps({"flavors": document["flavors"], "files": sorted(os.listdir("${reference}/model")),
  "inputs": json.loads(document["signature"]["inputs"]), "outputs": json.loads(document["signature"]["outputs"]),
  "modelText": booster.model_to_string()}))`);
    const ours = path.join(await temporaryDirectory(), "model");
    const written = await writeLightGBMModelFolder(ours, python.modelText, ["lag_1h", "lag_24h", "hour"]);
    // MLflow builds skops_trusted_types from a set: its order changes from run to run.
    const sortTrusted = (flavors: Record<string, Record<string, unknown>>) =>
      ({ ...flavors, lightgbm: { ...flavors.lightgbm, skops_trusted_types: [...(flavors.lightgbm?.skops_trusted_types as string[])].sort() } });
    expect(sortTrusted(written.flavors)).toEqual(sortTrusted(python.flavors));
    expect(written.signature.inputs).toEqual(python.inputs);
    expect(written.signature.outputs).toEqual(python.outputs);
    expect([...(await readdir(ours)), "MLmodel"].sort()).toEqual(python.files);
    expect(parseYaml(await readFile(path.join(ours, "python_env.yaml"), "utf8"))).toMatchObject({ python: "3.11.7", dependencies: ["-r requirements.txt"] });
  });

  it("names the features in the model text where the C API wrote Column_N", () => {
    const text = "tree\nversion=v4\nfeature_names=Column_0 Column_1\nTree=0\nsplit_feature=1\n\nfeature_importances:\nColumn_1=3\nColumn_0=1\n\nparameters:\n[boosting: gbdt]\n";
    const named = nameFeatures(text, ["lag_1h", "hour"]);
    expect(named).toContain("\nfeature_names=lag_1h hour\n");
    expect(named).toContain("\nfeature_importances:\nhour=3\nlag_1h=1\n");
    expect(named).toContain("split_feature=1");
    expect(() => nameFeatures(text, ["bad name", "hour"])).toThrow(/cannot go into a LightGBM model file/);
  });
});
