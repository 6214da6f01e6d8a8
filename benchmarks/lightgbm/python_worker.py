"""Python side of the LightGBM benchmark: native lightgbm on the data the orchestrator wrote.

Usage: python python_worker.py WORK_DIR NUM_THREADS OUTPUT_PREFIX
Prints one JSON line with timings (seconds) and peak RSS (bytes); writes predictions to
WORK_DIR/OUTPUT_PREFIX.predictions.f64.
"""
import json
import resource
import sys
import time
from pathlib import Path

import lightgbm
import numpy


def main() -> None:
    work_dir, num_threads, prefix = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    request = json.loads((work_dir / "request.json").read_text())
    features = numpy.fromfile(work_dir / "features.f64", dtype="<f8").reshape(request["numRows"], request["numColumns"])
    labels = numpy.fromfile(work_dir / "labels.f32", dtype="<f4")
    parameters = {**request["parameters"], "num_threads": num_threads}

    started = time.perf_counter()
    dataset = lightgbm.Dataset(features, label=labels, params=parameters).construct()
    dataset_seconds = time.perf_counter() - started

    # CPU time (all threads of this process) next to wall time: on a shared machine the wall
    # time grows with other people's load, CPU time much less.
    started, started_cpu = time.perf_counter(), time.process_time()
    booster = lightgbm.train(parameters, dataset, num_boost_round=request["numIterations"])
    train_seconds, train_cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu

    started, started_cpu = time.perf_counter(), time.process_time()
    predictions = booster.predict(features, num_threads=num_threads)
    predict_seconds, predict_cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    predictions.astype("<f8").tofile(work_dir / f"{prefix}.predictions.f64")
    (work_dir / f"{prefix}.model.txt").write_text(booster.model_to_string())

    print(json.dumps({
        "datasetSeconds": dataset_seconds,
        "trainSeconds": train_seconds,
        "predictSeconds": predict_seconds,
        "trainCpuSeconds": train_cpu_seconds,
        "predictCpuSeconds": predict_cpu_seconds,
        # ru_maxrss is in KiB on Linux.
        "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "version": lightgbm.__version__,
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
