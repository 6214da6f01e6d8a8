"""Reference side of the LightGBM parity test: trains with Python lightgbm on the data the
TypeScript test wrote and writes the model text and predictions back.

Usage: python python_reference.py WORK_DIR
WORK_DIR holds request.json ({"numRows", "numColumns", "numIterations", "parameters"}),
features.f64 (row-major little-endian float64) and labels.f32 (float32).
Writes model.txt, predictions.f64, raw.f64 and versions.json into WORK_DIR.
"""
import json
import sys
from pathlib import Path

import lightgbm
import numpy


def main() -> None:
    work_dir = Path(sys.argv[1])
    request = json.loads((work_dir / "request.json").read_text())
    features = numpy.fromfile(work_dir / "features.f64", dtype="<f8").reshape(
        request["numRows"], request["numColumns"]
    )
    labels = numpy.fromfile(work_dir / "labels.f32", dtype="<f4")
    dataset = lightgbm.Dataset(features, label=labels, params=request["parameters"])
    booster = lightgbm.train(request["parameters"], dataset, num_boost_round=request["numIterations"])
    (work_dir / "model.txt").write_text(booster.model_to_string())
    booster.predict(features).astype("<f8").tofile(work_dir / "predictions.f64")
    booster.predict(features, raw_score=True).astype("<f8").tofile(work_dir / "raw.f64")
    (work_dir / "versions.json").write_text(
        json.dumps({"lightgbm": lightgbm.__version__, "numpy": numpy.__version__})
    )


if __name__ == "__main__":
    main()
