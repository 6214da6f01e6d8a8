"""Keras 3 side of the MNIST training benchmark (run by benchmarks/mnist/run.mjs in .venv/keras).

Trains the same convnet as src/workflows/mnist/model.ts (conv32-conv64-maxpool-dropout-
dense128-dropout-dense10, Glorot-uniform kernels, Adam, categorical cross-entropy, accuracy)
with Keras' own fit loop on synthetic batches, timing every step in a callback, and prints one
JSON object with the fields of podtrain's BenchResult (src/bench/measure.ts).
"""
import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--steps", type=int, default=30)
parser.add_argument("--warmup", type=int, default=5)
parser.add_argument("--learning-rate", type=float, default=0.001)
parser.add_argument("--seed", type=int, default=42)
parser.add_argument("--epoch-examples", type=int, default=54_000)
# Keras 3 compiles the train step with XLA when it can ("auto"); "off" keeps plain TensorFlow graph
# execution (grappler + oneDNN), the closest to what tfjs-node can do op by op.
parser.add_argument("--jit-compile", choices=["auto", "on", "off"], default="auto")
args = parser.parse_args()

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402  (reads TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS like tfjs-node)
import keras  # noqa: E402
from keras import layers  # noqa: E402


def quantile(values, q):
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    below, above = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def build_model(seed):
    init = lambda offset: keras.initializers.GlorotUniform(seed=seed + offset)  # noqa: E731
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu", kernel_initializer=init(1)),
            layers.Conv2D(64, 3, activation="relu", kernel_initializer=init(2)),
            layers.MaxPooling2D(2),
            layers.Dropout(0.25, seed=seed + 3),
            layers.Flatten(),
            layers.Dense(128, activation="relu", kernel_initializer=init(4)),
            layers.Dropout(0.5, seed=seed + 5),
            layers.Dense(10, activation="softmax", kernel_initializer=init(6)),
        ],
        name="mnist_cnn",
    )
    jit_compile = {"auto": "auto", "on": True, "off": False}[args.jit_compile]
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate), loss="categorical_crossentropy", metrics=["accuracy"], jit_compile=jit_compile)
    return model


class StepTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.wall_ms, self.cpu_ms = [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.wall_start, self.cpu_start = time.perf_counter(), time.process_time()

    def on_train_batch_end(self, batch, logs=None):
        # Reading the loss waits for the step to finish (Keras 3 hands back lazy values).
        float(logs["loss"]) if logs and "loss" in logs else None
        if batch >= args.warmup:
            self.wall_ms.append((time.perf_counter() - self.wall_start) * 1000)
            self.cpu_ms.append((time.process_time() - self.cpu_start) * 1000)


rng = np.random.default_rng(args.seed)
examples = (args.warmup + args.steps) * args.batch_size
images = rng.random((examples, 28, 28, 1), dtype=np.float32)
labels = keras.utils.to_categorical(rng.integers(0, 10, examples), 10).astype("float32")
load_average = [round(value, 2) for value in os.getloadavg()]
model = build_model(args.seed)
timer = StepTimer()
model.fit(images, labels, batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0, callbacks=[timer])
median_ms = statistics.median(timer.wall_ms)
json.dump(
    {
        "implementation": f"Keras {keras.__version__} on TensorFlow {tf.__version__} (Python {platform.python_version()})",
        "workflow": "mnist",
        "jitCompile": bool(model.jit_compile),
        "backend": "keras-tensorflow",
        "device": "CPU (TensorFlow)",
        "tensorflowVersion": tf.__version__,
        "kerasVersion": keras.__version__,
        "python": platform.python_version(),
        "batchSize": args.batch_size,
        "steps": len(timer.wall_ms),
        "warmup": args.warmup,
        "msPerStep": {"median": median_ms, "p10": quantile(timer.wall_ms, 0.1), "p90": quantile(timer.wall_ms, 0.9)},
        "cpuMsPerStep": statistics.median(timer.cpu_ms),
        "imagesPerSecond": args.batch_size * 1000 / median_ms,
        "epochSeconds": args.epoch_examples / args.batch_size * median_ms / 1000,
        "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "loadAverage": load_average,
        "intraOpThreads": tf.config.threading.get_intra_op_parallelism_threads(),
        "interOpThreads": tf.config.threading.get_inter_op_parallelism_threads(),
    },
    sys.stdout,
)
sys.stdout.write("\n")
