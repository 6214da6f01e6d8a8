import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { appendFile, mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnist } from "../../src/data/mnist/dataset.js";
import { ONNX_MAX_PROBABILITY_DIFFERENCE } from "../../src/onnx/model-folder.js";
import { loadTensorFlow } from "../../src/tf/backend.js";
import { loadLayersModel } from "../../src/tf/model-io.js";
import { errorLines, runTrain } from "../support/cli.js";
import { freePort, startMlflowServer, type MlflowServer } from "../support/mlflow-server.js";
import { REPOSITORY_ROOT, toolsPython } from "../support/python.js";

// The registered MNIST CNN, loaded by Python MLflow through its onnx flavor (pyfunc), from the
// embedded ./mlruns store and from a real MLflow server: it must predict what the run evaluated.

const TEST_IMAGES = 1000;
const SCRIPT = path.join(REPOSITORY_ROOT, "test/onnx/pyfunc_check.py");

/** The tools venv once scripts/python/tools.txt has onnx; PODTRAIN_ONNX_PYTHON overrides it. */
function onnxPython(): string {
  return process.env.PODTRAIN_ONNX_PYTHON ?? toolsPython();
}

interface PyfuncView {
  checker: string;
  loader: string;
  flavors: string[];
  opset: number[];
  input: Array<Array<string | number>>;
  count: number;
  accuracy: number;
  test_accuracy: number;
  max_diff: number;
  logged_models: Array<{ model_id: string; name: string; status: string; source_run_id: string; model_versions: Array<{ name: string; version: number }>; flavors: string[]; is_version_model: boolean }>;
  run_outputs_are_logged_models: boolean;
  version_model_id: string | null;
}

describe("registered MNIST CNN through mlflow.pyfunc (onnx flavor)", () => {
  let work: string;
  let specFile: string;
  let server: MlflowServer | undefined;
  const files = { images: "", labels: "", jsonl: "" };

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "podtrain-onnx-pyfunc-"));
    // One epoch on 2000 real images reaches ~0.8: a threshold it passes so a candidate is registered.
    specFile = path.join(work, "mnist_cnn.yaml");
    const original = await readFile(path.join(REPOSITORY_ROOT, "models/mnist_cnn.yaml"), "utf8");
    await writeFile(specFile, original.replace("threshold: 0.985", "threshold: 0.5"));
    const { test } = await loadMnist({ testLimit: TEST_IMAGES });
    files.images = path.join(work, "images.f32");
    files.labels = path.join(work, "labels.u8");
    await writeFile(files.images, Float32Array.from(test.images, (pixel) => pixel / 255));
    await writeFile(files.labels, test.labels);
    // The same images as JSON lines of model-input floats, for `train predict`.
    files.jsonl = path.join(work, "images.jsonl");
    const scaled = Float32Array.from(test.images, (pixel) => pixel / 255);
    await writeFile(files.jsonl, Array.from({ length: test.count }, (_, index) => `${JSON.stringify(Array.from(scaled.subarray(index * 784, (index + 1) * 784)))}\n`).join(""));
  });
  afterAll(async () => server?.stop());

  /** Trains and registers, then writes tfjs' own probabilities on the test images. */
  async function trainAndScore(trackingUri: string, modelDirectory: (runId: string) => Promise<string>) {
    const result = await runTrain(["mnist", "--spec", specFile, "--epochs", "1", "--train-limit", "2000", "--test-limit", String(TEST_IMAGES), "--tracking-uri", trackingUri, "--log-format", "json", "--xcom", path.join(work, "xcom.json")], { cwd: work });
    expect(errorLines(result.stderr)).toEqual([]);
    expect(result.exitCode).toBe(0);
    const summary = JSON.parse(await readFile(path.join(work, "xcom.json"), "utf8")) as { run_id: string; registered_version?: string; metrics: Record<string, number> };
    expect(summary.registered_version).toBeDefined();
    expect(summary.metrics.onnx_max_abs_prob_diff).toBeLessThanOrEqual(ONNX_MAX_PROBABILITY_DIFFERENCE);
    const { tf } = await loadTensorFlow("tensorflow", { warn: () => {} });
    const model = await loadLayersModel(tf, await modelDirectory(summary.run_id));
    const pixels = new Float32Array((await readFile(files.images)).buffer.slice(0));
    const probabilities = tf.tidy(() => (model.predict(tf.tensor4d(pixels, [TEST_IMAGES, 28, 28, 1])) as ReturnType<typeof tf.tensor2d>).dataSync());
    model.dispose();
    const tfjsFile = path.join(work, `tfjs-${summary.run_id}.f32`);
    await writeFile(tfjsFile, new Float32Array(probabilities));
    const { stdout } = await promisify(execFile)(onnxPython(), [SCRIPT, trackingUri, "models:/mnist_cnn@candidate", files.images, files.labels, tfjsFile, summary.run_id], {
      env: { ...process.env, MLFLOW_TRACKING_URI: trackingUri, MLFLOW_ALLOW_FILE_STORE: "true", PYTHONWARNINGS: "ignore" },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 300_000,
    });
    const view = JSON.parse(stdout.trim().split("\n").at(-1) ?? "null") as PyfuncView;
    // For the numbers quoted in reports: PODTRAIN_ONNX_REPORT=<file> collects one line per store.
    if (process.env.PODTRAIN_ONNX_REPORT) await appendFile(process.env.PODTRAIN_ONNX_REPORT, `${JSON.stringify({ store: trackingUri, ...view, node: summary.metrics })}\n`);
    return { view, summary };
  }

  /** What search_logged_models shows: the same on ./mlruns and on a server. */
  function expectLoggedModel(view: PyfuncView, runId: string) {
    expect(view.logged_models.map(({ model_id: _id, ...rest }) => rest)).toEqual([
      { name: "model", status: "READY", source_run_id: runId, model_versions: [{ name: "mnist_cnn", version: 1 }], flavors: ["onnx", "python_function", "tfjs"], is_version_model: true },
    ]);
    expect(view.run_outputs_are_logged_models).toBe(true);
    expect([null, view.logged_models[0]?.model_id]).toContain(view.version_model_id);
  }

  /** `train predict` from the same store: the same classes, so the same accuracy as the run logged. */
  async function expectPredictMatches(trackingUri: string, view: PyfuncView) {
    const output = path.join(work, `predict-${encodeURIComponent(trackingUri)}.jsonl`);
    const result = await runTrain(["predict", "mnist", "--model-uri", "models:/mnist_cnn@candidate", "--input", files.jsonl, "--out", output, "--tracking-uri", trackingUri], { cwd: work });
    expect(errorLines(result.stderr)).toEqual([]);
    const labels = await readFile(files.labels);
    const rows = (await readFile(output, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { row: number; class: number });
    expect(rows).toHaveLength(TEST_IMAGES);
    const accuracy = rows.filter((row) => row.class === labels[row.row]).length / TEST_IMAGES;
    expect(accuracy.toFixed(4)).toBe(view.test_accuracy.toFixed(4));
  }

  function expectSameAsEvaluation(view: PyfuncView) {
    expect(view).toMatchObject({ checker: "ok", loader: "mlflow.onnx", flavors: ["onnx", "python_function", "tfjs"], opset: [21], input: [["batch", 28, 28, 1]], count: TEST_IMAGES });
    expect(view.accuracy.toFixed(4)).toBe(view.test_accuracy.toFixed(4));
    expect(view.max_diff).toBeLessThanOrEqual(ONNX_MAX_PROBABILITY_DIFFERENCE);
  }

  it("from the embedded ./mlruns store, with the same logged model as a server shows", async () => {
    const store = path.join(work, "mlruns");
    const { view, summary } = await trainAndScore(store, async (runId) => {
      for (const id of await readdir(store)) if (existsSync(path.join(store, id, runId))) return path.join(store, id, runId, "artifacts", "model");
      throw new Error(`run ${runId} not found in ${store}`);
    });
    expectSameAsEvaluation(view);
    expectLoggedModel(view, summary.run_id);
    await expectPredictMatches(store, view);
    // `mlflow models serve` (uvicorn + the pyfunc scoring server) answers the same over HTTP.
    const { stdout } = await promisify(execFile)(onnxPython(), [path.join(REPOSITORY_ROOT, "test/onnx/serve_check.py"), "models:/mnist_cnn@candidate", files.images, files.labels, String(await freePort())], {
      env: { ...process.env, MLFLOW_TRACKING_URI: `file://${store}`, MLFLOW_ALLOW_FILE_STORE: "true", PYTHONWARNINGS: "ignore" },
      timeout: 300_000,
    });
    const served = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as { count: number; accuracy: number };
    expect(served.count).toBe(TEST_IMAGES);
    expect(served.accuracy.toFixed(4)).toBe(view.test_accuracy.toFixed(4));
  });

  it("from a real MLflow server", async () => {
    server = await startMlflowServer();
    const uri = server.uri;
    const { view, summary } = await trainAndScore(uri, async (runId) => {
      const target = path.join(work, `server-model-${runId}`);
      await promisify(execFile)(toolsPython(), ["-c", `import mlflow; mlflow.set_tracking_uri("${uri}"); mlflow.artifacts.download_artifacts(run_id="${runId}", artifact_path="model", dst_path="${target}")`], { env: { ...process.env, MLFLOW_TRACKING_URI: uri, PYTHONWARNINGS: "ignore" } });
      return path.join(target, "model");
    });
    expectSameAsEvaluation(view);
    expectLoggedModel(view, summary.run_id);
    await expectPredictMatches(uri, view);
  });
});
