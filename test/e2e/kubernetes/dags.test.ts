import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFixture } from "../../workflows/cifar10/fixtures.js";
import { candidateVersion, context, ENABLED, expectAllSucceeded, expectLineage, expectPods, FIT, IMAGE, REPOSITORY, run, runDag, runParam, startContext, stopContext, xcomRunId } from "./harness.js";

// The GENERATED Kubernetes-target DAGs (dags/*.py) run with Airflow's dag.test() on a real
// single-node cluster (scripts/kubernetes/up.sh): every step is a real pod running `train` from
// the real image, the fit run id travels through the XCom sidecar, and the model version lands
// in a real `mlflow server`. Only test-time overrides are applied, from outside the DAG files,
// by run_dag.py (kubeconfig, hostNetwork, resources for a 2-CPU node, data limits, the CPU
// backend for the CNN fit: no GPU here, though the node advertises nvidia.com/gpu so the fit
// pod's GPU request, node selector and tolerations are scheduled for real).
//
// Needs root, the cluster and the images: scripts/e2e-kubernetes.sh does all of it.

describe.skipIf(!ENABLED)("generated Kubernetes DAGs on a real cluster (PODTRAIN_E2E_KUBERNETES=1; scripts/e2e-kubernetes.sh)", () => {
  beforeAll(startContext);
  afterAll(stopContext);

  it("mnist_cnn_training: validate → fit (GPU request scheduled, CPU backend) → evaluate → register", { timeout: 1_200_000 }, async () => {
    // A spec with a gate a one-epoch fit on 3000 images reaches; mounted into the pods.
    const specs = path.join(context.work, "specs");
    await mkdir(specs, { recursive: true });
    const spec = (await readFile(path.join(REPOSITORY, "models/mnist_cnn.yaml"), "utf8")).replace("threshold: 0.985", "threshold: 0.5");
    await writeFile(path.join(specs, "mnist_cnn.yaml"), spec);
    const result = await runDag("mnist_cnn_training.py", {
      host_paths: [{ name: "e2e-specs", host_path: specs, mount_path: "/e2e/specs", read_only: true }],
      extra_arguments: ["--spec", "/e2e/specs/mnist_cnn.yaml"],
      tasks: {
        fit: {
          image: IMAGE,
          replace_arguments: { "tensorflow-gpu": "tensorflow" },
          extra_arguments: ["--epochs", "1", "--train-limit", "3000", "--test-limit", "1000"],
          resources: FIT,
        },
        evaluate: { extra_arguments: ["--test-limit", "1000"] },
        register: { extra_arguments: ["--test-limit", "1000"] },
      },
    });
    expectAllSucceeded(result, ["validate", "fit", "evaluate", "register", "has_candidate"]);
    expectPods(result, IMAGE);
    // The fit pod kept the DAG's GPU request, node selector and toleration and was scheduled
    // on the node that advertises nvidia.com/gpu (it trained with the CPU backend).
    const fit = result.pods.find((pod) => pod.task_id === "fit");
    expect(fit?.containers[0]?.limits?.["nvidia.com/gpu"]).toBe("1");
    expect(fit?.containers[0]?.args).toContain("tensorflow");
    expect(fit?.node_selector).toEqual({ "nvidia.com/gpu.present": "true", "ml-platform/node-pool": "gpu" });
    expect(fit?.tolerations).toContainEqual(expect.objectContaining({ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }));
    const { runs, version } = await candidateVersion("mnist-cnn", "mnist_cnn");
    expect([runs, version.version]).toEqual([1, "1"]);
    expect(xcomRunId(result, "fit")).toBe(version.runId);
    expectLineage(version, IMAGE);
  });

  it("tick_model_training: partitions → features (one mapped pod per date) → fit → evaluate → register", { timeout: 1_200_000 }, async () => {
    // Ten weekdays of synthetic trades on the node; the feature pods write their partitions
    // next to them (uid 1000), fit trains on the ten-day window ending at the last date.
    const data = path.join(context.work, "tick-data");
    await mkdir(path.join(data, "tick/features"), { recursive: true });
    await run(process.execPath, [path.join(REPOSITORY, "bin/train.js"), "tick", "generate", "--out", path.join(data, "tick/trades"), "--from", "2026-01-05", "--to", "2026-01-16", "--symbols", "3", "--trades-per-day", "20000"]);
    await run("chown", ["-R", "1000:1000", data]);
    const specs = path.join(context.work, "tick-specs");
    await mkdir(specs, { recursive: true });
    const spec = (await readFile(path.join(REPOSITORY, "models/tick_model.yaml"), "utf8")).replace("threshold: 0.52", "threshold: 0.3");
    expect(spec).toContain("threshold: 0.3");
    await writeFile(path.join(specs, "tick_model.yaml"), spec);
    const stageArguments = ["--spec", "/e2e/specs/tick_model.yaml", "--window", "14d"];
    const result = await runDag("tick_model_training.py", {
      ready_sensors: ["wait_for_data"],
      run_conf: { partition_from: "2026-01-05", partition_to: "2026-01-16" },
      host_paths: [
        { name: "e2e-data", host_path: data, mount_path: "/data" },
        { name: "e2e-specs", host_path: specs, mount_path: "/e2e/specs", read_only: true },
      ],
      tasks: { fit: { extra_arguments: stageArguments, resources: FIT }, evaluate: { extra_arguments: stageArguments }, register: { extra_arguments: stageArguments } },
    });
    const features = Array.from({ length: 10 }, (_, index) => `features[${index}]`);
    expectAllSucceeded(result, ["wait_for_data", "partitions", ...features, "fit", "evaluate", "register", "has_candidate"]);
    expectPods(result, IMAGE);
    expect(result.pods.filter((pod) => pod.task_id === "features")).toHaveLength(10);
    const { runs, version } = await candidateVersion("tick-production", "tick_model");
    expect([runs, version.version]).toEqual([1, "1"]);
    expect(xcomRunId(result, "fit")).toBe(version.runId);
    expectLineage(version, IMAGE);
  });

  it("cifar10_cnn_training: validate → fit (GPU request scheduled, CPU backend) → evaluate → register on CIFAR-10-format data", { timeout: 1_200_000 }, async () => {
    // No download here: batches in the official binary format (200 images each) on the node,
    // and a gate that two epochs on them reach. The generated DAG's validate step runs
    // `train cifar10 validate`, which the CLI refuses ("has no separate validate step"): this
    // test fails at validate until the generator or the workflow agree.
    const data = path.join(context.work, "cifar10-data");
    await writeFixture(data, 200, 400, 3);
    const specs = path.join(context.work, "cifar10-specs");
    await mkdir(specs, { recursive: true });
    const spec = (await readFile(path.join(REPOSITORY, "models/cifar10_cnn.yaml"), "utf8")).replace("threshold: 0.85", "threshold: 0.15");
    expect(spec).toContain("threshold: 0.15");
    await writeFile(path.join(specs, "cifar10_cnn.yaml"), spec);
    const result = await runDag("cifar10_cnn_training.py", {
      host_paths: [
        { name: "e2e-data", host_path: data, mount_path: "/data/cifar10", read_only: true },
        { name: "e2e-specs", host_path: specs, mount_path: "/e2e/specs", read_only: true },
      ],
      extra_arguments: ["--spec", "/e2e/specs/cifar10_cnn.yaml", "--data-dir", "/data/cifar10", "--allow-partial-batches"],
      tasks: {
        fit: { image: IMAGE, replace_arguments: { "tensorflow-gpu": "tensorflow" }, extra_arguments: ["--epochs", "2", "--batch-size", "50"], resources: FIT },
      },
    });
    expectAllSucceeded(result, ["validate", "fit", "evaluate", "register", "has_candidate"]);
    expectPods(result, IMAGE);
    const fit = result.pods.find((pod) => pod.task_id === "fit");
    expect(fit?.containers[0]?.limits?.["nvidia.com/gpu"]).toBe("1");
    expect(fit?.node_selector).toEqual({ "nvidia.com/gpu.present": "true", "ml-platform/node-pool": "gpu" });
    const { runs, version } = await candidateVersion("cifar10-cnn", "cifar10_cnn");
    expect([runs, version.version]).toEqual([1, "1"]);
    expect(xcomRunId(result, "fit")).toBe(version.runId);
    expectLineage(version, IMAGE);
  });

  it("power_lgbm_training: validate → fit → evaluate → register on synthetic UCI data on the node", { timeout: 900_000 }, async () => {
    const data = path.join(context.work, "data");
    await mkdir(path.join(data, "power"), { recursive: true });
    await run(process.execPath, [path.join(REPOSITORY, "bin/train.js"), "power", "generate", "--out", path.join(data, "power/household_power_consumption.txt"), "--days", "180", "--seed", "1"]);
    const result = await runDag("power_lgbm_training.py", {
      host_paths: [{ name: "e2e-data", host_path: data, mount_path: "/data", read_only: true }],
      // A CPU limit below the node's 2 CPUs: LightGBM's default thread count must follow the
      // pod's CFS quota (what the container's cgroup says), not the node's cores.
      tasks: { fit: { resources: { requests: FIT.requests, limits: { ...FIT.limits, cpu: "1" } } } },
    });
    expectAllSucceeded(result, ["validate", "fit", "evaluate", "register", "has_candidate"]);
    expectPods(result, IMAGE);
    const { runs, version } = await candidateVersion("power-forecast", "power_lgbm");
    expect([runs, version.version]).toEqual([1, "1"]);
    expect(await runParam(version.runId, "threads"), "LightGBM threads logged by the fit pod").toBe("1");
    expect(xcomRunId(result, "fit")).toBe(version.runId);
    expectLineage(version, IMAGE);
  });
});
