import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SpecError, UsageError } from "../../src/core/errors.js";
import { loadSpecFile, parseParams, specPathFor } from "../../src/config/load.js";
import { WORKFLOWS } from "../../src/workflows/catalog.js";

async function writeSpec(text: string): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), "podtrain-spec-")), "bad.yaml");
  await writeFile(file, text);
  return file;
}

describe("loadSpecFile", () => {
  it("loads every committed spec with the values of the brief", async () => {
    const expected = {
      mnist: { dag: "mnist_cnn_training", pool: "gpu_pool", queue: "gpu_queue", experiment: "mnist-cnn" },
      cifar10: { dag: "cifar10_cnn_training", pool: "gpu_pool", queue: "gpu_queue", experiment: "cifar10-cnn" },
      tick: { dag: "tick_model_training", pool: "high_priority_cpu", queue: "realtime_queue", experiment: "tick-production" },
      power: { dag: "power_lgbm_training", pool: "default_pool", queue: "batch_queue", experiment: "power-forecast" },
    } as const;
    for (const definition of Object.values(WORKFLOWS)) {
      const { spec } = await loadSpecFile(specPathFor(definition.registeredModel));
      const want = expected[definition.name];
      expect(spec.workflow).toBe(definition.name);
      expect(spec.registered_model).toBe(definition.registeredModel);
      expect([spec.dag_id, spec.orchestration.pool, spec.orchestration.queue, spec.experiment]).toEqual([want.dag, want.pool, want.queue, want.experiment]);
      expect(spec.registry.auto_promote).toBe(false);
    }
    const tick = (await loadSpecFile(specPathFor("tick_model"))).spec.orchestration;
    const others = await Promise.all(["mnist_cnn", "cifar10_cnn", "power_lgbm"].map(async (name) => (await loadSpecFile(specPathFor(name))).spec.orchestration));
    // The brief: tick data has the highest priority and the most conservative concurrency.
    for (const other of others) expect(tick.priority_weight).toBeGreaterThan(other.priority_weight);
    expect(tick.max_active_runs).toBe(1);
  });

  it("names the file, line and path of an invalid value", async () => {
    const original = await readFile(specPathFor("mnist_cnn"), "utf8");
    const file = await writeSpec(original.replace("priority_weight: 5", "priority_weight: high"));
    const line = original.split("\n").findIndex((text) => text.includes("priority_weight")) + 1;
    await expect(loadSpecFile(file)).rejects.toThrow(new RegExp(`^${file.replaceAll(".", "\\.")}:${line}: orchestration\\.priority_weight: .*expected number`));
    await expect(loadSpecFile(file)).rejects.toBeInstanceOf(SpecError);
  });

  it("rejects unknown keys, bad durations and broken YAML", async () => {
    const original = await readFile(specPathFor("mnist_cnn"), "utf8");
    await expect(loadSpecFile(await writeSpec(original.replace("retries: 2", "retries: 2\n  retires: 3")))).rejects.toThrow(/orchestration: Unrecognized key: "retires"/);
    await expect(loadSpecFile(await writeSpec(original.replace("retry_delay: 10m", "retry_delay: ten minutes")))).rejects.toThrow(/orchestration\.retry_delay: expected a duration/);
    await expect(loadSpecFile(await writeSpec("workflow: [mnist\n"))).rejects.toThrow(/not valid YAML/);
    await expect(loadSpecFile("/nonexistent/spec.yaml")).rejects.toThrow(/cannot read spec \/nonexistent\/spec.yaml: ENOENT/);
  });
});

describe("parseParams", () => {
  it("applies schema defaults and flag overrides", async () => {
    const loaded = await loadSpecFile(specPathFor("mnist_cnn"));
    const params = parseParams(loaded, WORKFLOWS.mnist.paramsSchema, { epochs: 2 });
    expect(params).toMatchObject({ epochs: 2, batch_size: 128, backend: "auto" });
  });

  it("reports a bad value from the spec with its line, and a bad flag as a usage error", async () => {
    const original = await readFile(specPathFor("mnist_cnn"), "utf8");
    const loaded = await loadSpecFile(await writeSpec(original.replace("batch_size: 128", "batch_size: -4")));
    expect(() => parseParams(loaded, WORKFLOWS.mnist.paramsSchema)).toThrow(/:\d+: params\.batch_size: Too small/);
    const good = await loadSpecFile(specPathFor("mnist_cnn"));
    expect(() => parseParams(good, WORKFLOWS.mnist.paramsSchema, { epochs: 1.5 })).toThrow(UsageError);
    expect(() => parseParams(good, WORKFLOWS.mnist.paramsSchema, { epochs: 1.5 })).toThrow(/^--epochs: /);
  });
});
