import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { writeSyntheticPowerFile } from "../../src/data/power/synthetic-file.js";
import { REPOSITORY_ROOT } from "../support/python.js";

// The container images run Node 24 LTS; development machines may still have Node 20.
describe("train on Node 24", () => {
  // What `npm run setup` runs last inside the images: the provisioning self-check (load the
  // binding, conv2d gradient) under Node 24, where tfjs-node needs the restored util functions.
  it("passes the provisioning self-check under Node 24", () => {
    const node24 = execFileSync(path.join(REPOSITORY_ROOT, "scripts/node-binary.sh"), ["24.11.1"], { encoding: "utf8" }).trim();
    const result = spawnSync(node24, [path.join(REPOSITORY_ROOT, "native/tensorflow/provision.mjs"), "--check"], { cwd: REPOSITORY_ROOT, encoding: "utf8" });
    expect(result.stderr).not.toMatch(/provision: error|is not a function/);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/OK: @tensorflow\/tfjs-node 4\.22\.0 runs on TensorFlow 2\.21\.0 \(backend 'tensorflow'\) under Node\.js v24\./);
  });

  it("trains MNIST on the native backend under Node 24", async () => {
    const node24 = execFileSync(path.join(REPOSITORY_ROOT, "scripts/node-binary.sh"), ["24.11.1"], { encoding: "utf8" }).trim();
    const cwd = await mkdtemp(path.join(os.tmpdir(), "podtrain-node24-"));
    const result = spawnSync(node24, [path.join(REPOSITORY_ROOT, "bin/train.js"), "mnist", "--epochs", "1", "--train-limit", "500", "--test-limit", "200", "--no-register", "--backend", "tensorflow"], {
      cwd,
      encoding: "utf8",
      env: { ...process.env, MLFLOW_TRACKING_URI: "" },
    });
    expect(result.stderr).not.toMatch(/train: error/);
    // util.isArray exists on Node 24 but warns (DEP0044) on tfjs-node's first op: replaced too.
    expect(result.stderr).not.toMatch(/DEP0044|DeprecationWarning/);
    expect(result.status).toBe(0);
    expect(spawnSync(node24, ["--version"], { encoding: "utf8" }).stdout).toMatch(/^v24\./);
    expect(result.stdout).toMatch(/test_accuracy/);
  });

  // LightGBM's threads are Emscripten pthreads (Node Workers sharing the wasm memory): the loader
  // and its worker script must work under the images' Node too, and the process must exit.
  it("trains power on two LightGBM threads under Node 24 and exits", async () => {
    const node24 = execFileSync(path.join(REPOSITORY_ROOT, "scripts/node-binary.sh"), ["24.11.1"], { encoding: "utf8" }).trim();
    const cwd = await mkdtemp(path.join(os.tmpdir(), "podtrain-node24-power-"));
    const dataFile = path.join(cwd, "household_power_consumption.txt");
    await writeSyntheticPowerFile(dataFile, { days: 120, seed: 4 });
    const result = spawnSync(node24, [path.join(REPOSITORY_ROOT, "bin/train.js"), "power", "--data-file", dataFile, "--threads", "2", "--num-iterations", "40", "--no-register"], {
      cwd,
      encoding: "utf8",
      env: { ...process.env, MLFLOW_TRACKING_URI: "", PODTRAIN_LIGHTGBM_THREADS: "2" },
      timeout: 180_000,
    });
    expect(result.stderr).not.toMatch(/train: error/);
    expect(result.signal).toBeNull(); // a worker pool keeping Node alive would run into the timeout
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/test_skill_vs_seasonal_naive\s+-?\d/);
  }, 240_000);
});
