"""Serves a registered model with `mlflow models serve` and scores images over HTTP.

Usage: serve_check.py <model-uri> <images.f32> <labels.u8> <port>
Prints one JSON line: the served accuracy and the number of images scored.
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import numpy as np

model_uri, images_path, labels_path, port = sys.argv[1:5]
images = np.fromfile(images_path, dtype=np.float32).reshape(-1, 28, 28, 1)
labels = np.fromfile(labels_path, dtype=np.uint8)
bin_dir = os.path.dirname(sys.executable)
env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
server = subprocess.Popen(
    [os.path.join(bin_dir, "mlflow"), "models", "serve", "-m", model_uri, "--env-manager", "local", "-h", "127.0.0.1", "-p", port],
    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
)
try:
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                raise SystemExit(f"mlflow models serve did not come up (exit {server.poll()})")
            time.sleep(0.5)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations",
        data=json.dumps({"inputs": images.tolist()}).encode(),
        headers={"Content-Type": "application/json"},
    )
    predictions = json.loads(urllib.request.urlopen(request, timeout=120).read())["predictions"]
    probabilities = np.asarray(predictions["probabilities"] if isinstance(predictions, dict) else predictions)
    print(json.dumps({"count": int(len(probabilities)), "accuracy": float((probabilities.argmax(axis=1) == labels).mean())}))
finally:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)
