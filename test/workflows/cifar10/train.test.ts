import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileTrackingStore } from "../../../src/tracking/file-store.js";
import { writeFixture } from "./fixtures.js";

// Trains through the real CLI (a separate process, like an Airflow pod) on a few hundred
// images in the official binary format and checks that the model overfits them.

const root = path.resolve(import.meta.dirname, "../../..");
const require = createRequire(import.meta.url);
const provisioned = existsSync(path.join(path.dirname(require.resolve("@tensorflow/tfjs-node/package.json")), "deps", "PODTRAIN-PROVISION.json"));
if (!provisioned) console.warn("skipping the CIFAR-10 training test: native TensorFlow not provisioned; run `npm run setup`");

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), "podtrain-cifar10-train-"));
  // bin/train.js runs dist/; `npm test` builds first, a bare `vitest run` may not have.
  if (!existsSync(path.join(root, "dist/workflows/cifar10/workflow.js"))) {
    const build = spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: root, encoding: "utf8" });
    if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
  }
});
afterAll(() => rm(directory, { recursive: true, force: true }));

function train(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, "bin/train.js"), ...args], { cwd: root, env: { ...process.env, MLFLOW_TRACKING_URI: "" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(!provisioned)("train cifar10 (native TensorFlow)", () => {
  it("overfits 180 images: training loss falls well below its start, the run is FINISHED", { timeout: 600_000 }, async () => {
    const fixture = await writeFixture(path.join(directory, "data"), 40, 50, 5);
    const tracking = path.join(directory, "mlruns");
    const xcom = path.join(directory, "xcom.json");
    const epochs = 8;
    const result = await train([
      "cifar10", "--data-dir", fixture.root, "--allow-partial-batches", "--tracking-uri", tracking, "--xcom", xcom,
      "--epochs", String(epochs), "--batch-size", "20", "--learning-rate", "0.01", "--schedule", "cosine", "--no-augment",
      "--weight-decay", "0", "--validation-split", "0.1", "--seed", "7", "--backend", "tensorflow", "--log-format", "json",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const epochLines = result.stderr.split("\n").filter((line) => line.includes("done\"")).map((line) => JSON.parse(line) as Record<string, number>);
    const losses = epochLines.map((line) => line.train_loss!);
    console.info(`train_loss per epoch: ${losses.map((loss) => loss.toFixed(4)).join(" → ")}`);
    expect(losses).toHaveLength(epochs);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.25);
    expect(epochLines.at(-1)!.train_accuracy).toBeGreaterThan(0.8);

    const summary = JSON.parse(await readFile(xcom, "utf8")) as { run_id: string };
    const run = await new FileTrackingStore(tracking).getRun(summary.run_id);
    expect(run.info.status).toBe("FINISHED");
    expect(run.metrics).toHaveProperty("test_accuracy");
    expect(run.metrics).toHaveProperty("val_loss");
    // The ONNX copy predicted what tfjs does on held-out images (else the run fails).
    expect(run.metrics.onnx_max_abs_prob_diff).toBeLessThanOrEqual(1e-5);
    expect(run.metrics.onnx_model_bytes).toBeGreaterThan(4_600_000);
    expect(run.metrics.learning_rate).toBeCloseTo(0.005 * (1 + Math.cos((7 * Math.PI) / 8)), 8); // cosine, last of 8 epochs
    expect(run.params).toMatchObject({ epochs: "8", schedule: "cosine", augment: "false", resolved_backend: "tensorflow", tensorflow_version: "2.21.0" });
    expect(run.tags["data.version"]).toMatch(/^[0-9a-f]{64}$/);
    expect(run.tags["data.train_images"]).toBe("200");
    // The whole step ran as one TensorFlow function (batch norm, L2, momentum lowered).
    expect(run.tags["podtrain.execution"]).toBe("graph");
    const artifacts = await new FileTrackingStore(tracking).listArtifacts(summary.run_id, "model");
    expect(artifacts.sort()).toEqual(["model/MLmodel", "model/conda.yaml", "model/model.json", "model/model.onnx", "model/python_env.yaml", "model/requirements.txt", "model/weights.bin"]);
  });
});
