"""Loads a registered CNN through MLflow's pyfunc (onnx flavor) and scores it on MNIST test images.

Usage: pyfunc_check.py <tracking-uri> <model-uri> <images.f32> <labels.u8> <tfjs-probabilities.f32> <run-id>
Prints one JSON line: accuracy, the run's logged test_accuracy, max |p_onnx - p_tfjs|, the
onnx.checker verdict and the flavors of the loaded model.
"""
import json
import sys

import mlflow
import numpy as np
import onnx
from mlflow import MlflowClient

tracking_uri, model_uri, images_path, labels_path, tfjs_path, run_id = sys.argv[1:7]
mlflow.set_tracking_uri(tracking_uri)
images = np.fromfile(images_path, dtype=np.float32).reshape(-1, 28, 28, 1)
labels = np.fromfile(labels_path, dtype=np.uint8)
tfjs = np.fromfile(tfjs_path, dtype=np.float32).reshape(len(labels), -1)

model = mlflow.pyfunc.load_model(model_uri)
local = mlflow.artifacts.download_artifacts(model_uri)
proto = onnx.load(f"{local}/model.onnx")
onnx.checker.check_model(proto, full_check=True)
predicted = model.predict(images)
probabilities = predicted["probabilities"] if isinstance(predicted, dict) else np.asarray(predicted)
accuracy = float((probabilities.argmax(axis=1) == labels).mean())
client = MlflowClient(tracking_uri)
run = client.get_run(run_id)
logged = client.search_logged_models(experiment_ids=[run.info.experiment_id])
version = client.get_model_version_by_alias("mnist_cnn", "candidate")
logged_view = [{
    "model_id": m.model_id,
    "name": m.name,
    "status": str(m.status).split(".")[-1],
    "source_run_id": m.source_run_id,
    "model_versions": json.loads(m.tags.get("mlflow.modelVersions", "[]")),
    "flavors": sorted(mlflow.models.get_model_info(f"models:/{m.model_id}").flavors),
    # A server's version answer may leave model_id out; its source names the model either way.
    "is_version_model": version.source == f"models:/{m.model_id}",
} for m in logged]
run_outputs = [o.model_id for o in (run.outputs.model_outputs if run.outputs else [])]
print(json.dumps({
    "checker": "ok",
    "loader": model.metadata.flavors["python_function"]["loader_module"],
    "flavors": sorted(model.metadata.flavors),
    "opset": [op.version for op in proto.opset_import],
    "input": [[d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in proto.graph.input],
    "count": int(len(labels)),
    "accuracy": accuracy,
    "test_accuracy": run.data.metrics["test_accuracy"],
    "max_diff": float(np.abs(probabilities - tfjs).max()),
    "logged_models": logged_view,
    "run_outputs_are_logged_models": run_outputs == [m.model_id for m in logged],
    "version_model_id": version.model_id,
}))
