"""Keras 3 side of the CIFAR-10 throughput benchmark (run by benchmarks/cifar10/run.mjs).

Builds the same network as src/workflows/cifar10/model.ts (VGG-style, batch norm, global average
pooling, logits + softmax cross-entropy, SGD with momentum, L2 = weight_decay / 2) and times
`train_on_batch` on synthetic CIFAR-shaped batches. Prints one JSON object on stdout.
Thread counts come from TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS, set by the runner
for both sides alike.
"""
import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

FILTERS = (64, 128, 256)
DROPOUT = (0.2, 0.3, 0.4)


def build_model(weight_decay: float) -> keras.Model:
    regularizer = keras.regularizers.L2(weight_decay / 2) if weight_decay > 0 else None
    inputs = keras.Input((32, 32, 3), name="image")
    x = inputs
    for filters, rate in zip(FILTERS, DROPOUT):
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal", kernel_regularizer=regularizer)(x)
            x = layers.BatchNormalization()(x)  # momentum 0.99, epsilon 1e-3: the tfjs defaults too
            x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout(rate)(x)
    x = layers.GlobalAveragePooling2D()(x)
    logits = layers.Dense(10, kernel_initializer=keras.initializers.RandomNormal(stddev=0.01), kernel_regularizer=regularizer, name="logits")(x)
    return keras.Model(inputs, logits, name="cifar10_cnn_logits")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    # The same thread counts the tfjs-node side gets through these variables (TensorFlow's C runtime
    # reads them when no session config says otherwise); set explicitly so Keras cannot differ.
    for variable, setter in (("TF_NUM_INTRAOP_THREADS", tf.config.threading.set_intra_op_parallelism_threads), ("TF_NUM_INTEROP_THREADS", tf.config.threading.set_inter_op_parallelism_threads)):
        if os.environ.get(variable):
            setter(int(os.environ[variable]))
    keras.utils.set_random_seed(args.seed)
    model = build_model(args.weight_decay)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=args.learning_rate, momentum=0.9),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    # Synthetic data, normalised floats like the TypeScript side feeds: a few distinct batches cycled.
    rng = np.random.default_rng(args.seed)
    batches = []
    for _ in range(4):
        images = ((rng.integers(0, 256, (args.batch_size, 32, 32, 3), dtype=np.uint8) / 255.0 - 0.48) / 0.25).astype(np.float32)
        labels = np.eye(10, dtype=np.float32)[rng.integers(0, 10, args.batch_size)]
        batches.append((images, labels))

    for step in range(args.warmup):
        model.train_on_batch(*batches[step % len(batches)])
    step_seconds = []
    for step in range(args.steps):
        started = time.perf_counter()
        loss = model.train_on_batch(*batches[step % len(batches)])
        step_seconds.append(time.perf_counter() - started)
    total = sum(step_seconds)
    print(json.dumps({
        "side": "keras",
        "images_per_second": args.batch_size * args.steps / total,
        "step_seconds": step_seconds,
        "last_loss": float(loss[0] if isinstance(loss, (list, tuple)) else loss),
        "parameters": model.count_params(),
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "jit_compile": bool(model.jit_compile),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
    }))


if __name__ == "__main__":
    main()
