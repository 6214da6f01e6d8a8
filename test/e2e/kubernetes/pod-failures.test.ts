import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { candidateVersion, context, ENABLED, FIT, IMAGE, kubectl, REPOSITORY, runDag, runStatuses, startContext, stopContext, xcomRunId } from "./harness.js";

// What a real cluster does to the pods of the generated DAGs, on the single-node test cluster:
// a fit pod deleted mid-training (a spot preemption: SIGTERM, then the grace period), a pod
// OOM-killed by its memory limit, and an image that does not exist. Same runner and test-time
// overrides as dags.test.ts.

/** An MNIST spec whose gate a short CPU fit reaches, with its own experiment, mounted into the pods. */
async function mnistOverrides(name: string, fit: Record<string, unknown>): Promise<Record<string, unknown>> {
  const specs = path.join(context.work, `${name}-specs`);
  await mkdir(specs, { recursive: true });
  const spec = (await readFile(path.join(REPOSITORY, "models/mnist_cnn.yaml"), "utf8")).replace("threshold: 0.985", "threshold: 0.5").replace("experiment: mnist-cnn\n", `experiment: mnist-cnn-${name}\n`);
  expect(spec).toContain(`experiment: mnist-cnn-${name}\n`);
  await writeFile(path.join(specs, "mnist_cnn.yaml"), spec);
  return {
    host_paths: [{ name: "e2e-specs", host_path: specs, mount_path: "/e2e/specs", read_only: true }],
    extra_arguments: ["--spec", "/e2e/specs/mnist_cnn.yaml"],
    tasks: {
      fit: { image: IMAGE, replace_arguments: { "tensorflow-gpu": "tensorflow" }, resources: FIT, ...fit },
      evaluate: { extra_arguments: ["--test-limit", "1000"] },
      register: { extra_arguments: ["--test-limit", "1000"] },
    },
  };
}

/**
 * Deletes (gracefully: SIGTERM, grace period) the first try's fit pod once its log shows the end
 * of epoch `epoch`: mid-training whatever the machine's speed, with a checkpoint to resume from.
 */
async function preemptFitPod(epoch: number, done: { value: boolean }): Promise<string | undefined> {
  while (!done.value) {
    const { stdout } = await kubectl("-n", "ml-training", "get", "pods", "-l", "task_id=fit,try_number=1", "--field-selector=status.phase=Running", "-o", "jsonpath={range .items[*]}{.metadata.name} {.status.phase}{\"\\n\"}{end}").catch(() => ({ stdout: "" }));
    const [name, phase] = stdout.trim().split(" ");
    if (name && phase === "Running") {
      const { stdout: log } = await kubectl("-n", "ml-training", "logs", name, "-c", "base").catch(() => ({ stdout: "" }));
      if (new RegExp(`"msg":"epoch ${epoch}/\\d+ done"`).test(log)) {
        await kubectl("-n", "ml-training", "delete", "pod", name, "--wait=false");
        return name;
      }
    }
    await sleep(500);
  }
  return undefined;
}

describe.skipIf(!ENABLED)("pod failures of the generated DAGs on a real cluster (PODTRAIN_E2E_KUBERNETES=1)", () => {
  beforeAll(startContext);
  afterAll(stopContext);

  it("fit pod deleted mid-training: the retry continues the same MLflow run and the DAG succeeds", { timeout: 1_200_000 }, async () => {
    const overrides = await mnistOverrides("preempt", { retries: 1, extra_arguments: ["--epochs", "3", "--train-limit", "15000", "--test-limit", "1000"] });
    const done = { value: false };
    const preemption = preemptFitPod(1, done);
    const result = await runDag("mnist_cnn_training.py", overrides).finally(() => {
      done.value = true;
    });
    const deleted = await preemption;
    expect(deleted, "the first fit pod was deleted while it trained").toBeTruthy();
    expect(result.error, result.traceback).toBeUndefined();
    expect(result.tasks.fit).toMatchObject({ state: "success", try_number: 2 });
    for (const task of ["validate", "evaluate", "register"]) expect([task, result.tasks[task]?.state]).toEqual([task, "success"]);
    const { runs, version } = await candidateVersion("mnist-cnn-preempt", "mnist_cnn");
    // One run: the retry found the run of the deleted pod by its run key and continued it.
    expect([runs, version.version, version.runStatus]).toEqual([1, "1", "FINISHED"]);
    // It resumed from the checkpoint the deleted pod wrote on SIGTERM, and the killed attempt's
    // error tag does not stay on the finished run.
    expect(version.resumedFrom, "podtrain.resumed_from").toBeTruthy();
    expect(version.error).toBeNull();
    expect(xcomRunId(result, "fit")).toBe(version.runId);
  });

  it("fit pod OOM-killed by its memory limit: the task fails with a message that says OOMKilled", { timeout: 900_000 }, async () => {
    const overrides = await mnistOverrides("oom", {
      extra_arguments: ["--epochs", "1", "--train-limit", "3000"],
      resources: { requests: { cpu: "500m", memory: "128Mi" }, limits: { memory: "160Mi" } },
    });
    const result = await runDag("mnist_cnn_training.py", overrides);
    expect(result.error, result.traceback).toBeUndefined();
    expect(result.tasks.validate?.state).toBe("success");
    expect(result.tasks.fit?.state).toBe("failed");
    expect([result.tasks.evaluate?.state, result.tasks.register?.state]).toEqual(["upstream_failed", "upstream_failed"]);
    expect(result.log).toContain("OOMKilled");
    // What the killed fit left in MLflow (reported, the run lifecycle is the CLI's business).
    console.log(`runs after the OOM kill: ${JSON.stringify(await runStatuses("mnist-cnn-oom"))}`);
  });

  it("an image that does not exist: the task fails fast with the pull error, not after the startup timeout", { timeout: 600_000 }, async () => {
    const missing = "registry.example.com/ml-platform/podtrain:0.0.0-does-not-exist";
    const result = await runDag("power_lgbm_training.py", { tasks: { validate: { image: missing } } });
    expect(result.error, result.traceback).toBeUndefined();
    expect(result.tasks.validate?.state).toBe("failed");
    expect(result.tasks.fit?.state).toBe("upstream_failed");
    // The DAG's startup_timeout is 600 s; the operator stops at the first pull failure.
    expect(result.tasks.validate?.duration_s ?? Infinity).toBeLessThan(120);
    expect(result.log).toContain("0.0.0-does-not-exist");
    expect(result.log).toMatch(/ErrImagePull|ImagePullBackOff|Image cannot be pulled/);
  });
});
