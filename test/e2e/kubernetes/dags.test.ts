import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMlflowServer, type MlflowServer } from "../../support/mlflow-server.js";
import { runPythonJson } from "../../support/python.js";

// The GENERATED Kubernetes-target DAGs (dags/*.py) run with Airflow's dag.test() on a real
// single-node cluster (scripts/kubernetes/up.sh): every step is a real pod running `train` from
// the real image, the fit run id travels through the XCom sidecar, and the model version lands
// in a real `mlflow server`. Only test-time overrides are applied, from outside the DAG files,
// by run_dag.py (kubeconfig, hostNetwork, resources for a 2-CPU node, data limits, the CPU
// backend for the CNN fit: no GPU here, though the node advertises nvidia.com/gpu so the fit
// pod's GPU request, node selector and tolerations are scheduled for real).
//
// Needs root, the cluster and the images: scripts/e2e-kubernetes.sh does all of it.

const run = promisify(execFile);
const REPOSITORY = path.resolve(import.meta.dirname, "../../..");
const ENABLED = process.env.PODTRAIN_E2E_KUBERNETES === "1";
const STATE_DIR = process.env.PODTRAIN_K8S_DIR ?? "/tmp/podtrain-k8s";
const KUBECONFIG = path.join(STATE_DIR, "admin.kubeconfig");
const REGISTRY = process.env.PODTRAIN_K8S_REGISTRY ?? "127.0.0.1:5000";
const IMAGE = process.env.PODTRAIN_E2E_IMAGE ?? "registry.example.com/ml-platform/podtrain:0.1.0";
const SIDECAR_IMAGE = process.env.PODTRAIN_E2E_XCOM_SIDECAR_IMAGE ?? "registry.example.com/ml-platform/podtrain-xcom-sidecar:0.1.0";
const AIRFLOW = path.join(REPOSITORY, ".venv/airflow/bin/airflow");
const AIRFLOW_PYTHON = path.join(REPOSITORY, ".venv/airflow/bin/python");

/** Pod resources that fit a 2-CPU node next to the XCom sidecar and the control plane. */
const SMALL = { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "2Gi" } };
const FIT = { requests: { cpu: "1", memory: "512Mi" }, limits: { memory: "3Gi" } };

interface TaskResult {
  state: string;
  try_number: number;
  duration_s: number | null;
}
interface PodRecord {
  task_id: string;
  containers: Array<{ name: string; image: string; args: string[] | null; requests: Record<string, string> | null; limits: Record<string, string> | null }>;
  node_selector: Record<string, string> | null;
  tolerations: Array<{ key: string; operator: string; effect: string }>;
  host_network: boolean;
  service_account: string;
}
interface DagResult {
  dag_id: string;
  pods: PodRecord[];
  xcom: Record<string, unknown>;
  state: string;
  tasks: Record<string, TaskResult>;
  overrides: string[];
  wall_s: number;
  error?: string;
  traceback?: string;
}

/** Where a repository in the local registry keeps an image name of the DAGs (mirror rules). */
function registryPath(image: string): { repository: string; tag: string } {
  const [name = "", tag = "latest"] = image.split(/:(?=[^/]+$)/);
  const parts = name.split("/");
  const first = parts[0] ?? "";
  const hasHost = parts.length > 1 && (first.includes(".") || first.includes(":"));
  let repository = hasHost ? parts.slice(1).join("/") : name;
  if ((!hasHost || first === "docker.io") && !repository.includes("/")) repository = `library/${repository}`;
  return { repository, tag };
}

async function imageInRegistry(image: string): Promise<boolean> {
  const { repository, tag } = registryPath(image);
  const response = await fetch(`http://${REGISTRY}/v2/${repository}/manifests/${tag}`, {
    method: "HEAD",
    headers: { Accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json" },
  }).catch(() => undefined);
  return response?.ok ?? false;
}

let server: MlflowServer;
let work: string;

/** Runs one generated DAG file through run_dag.py with a fresh Airflow home. */
async function runDag(dagFile: string, overrides: Record<string, unknown>): Promise<DagResult> {
  const home = await mkdtemp(path.join(work, "airflow-"));
  const environment = {
    ...process.env,
    AIRFLOW_HOME: home,
    AIRFLOW__CORE__LOAD_EXAMPLES: "False",
    AIRFLOW__CORE__UNIT_TEST_MODE: "False",
    AIRFLOW__CORE__DAGS_FOLDER: path.join(REPOSITORY, "dags"),
    // The operator's default XCom sidecar image (alpine from Docker Hub) is not reachable here.
    AIRFLOW_CONN_KUBERNETES_DEFAULT: JSON.stringify({ conn_type: "kubernetes", extra: { xcom_sidecar_container_image: SIDECAR_IMAGE } }),
    PYTHONPATH: path.join(REPOSITORY, "dags"),
  };
  await run(AIRFLOW, ["db", "migrate"], { env: environment, maxBuffer: 64 << 20 });
  const overridesFile = path.join(home, "overrides.json");
  const resultFile = path.join(home, "result.json");
  await writeFile(
    overridesFile,
    JSON.stringify({
      dag_file: path.join(REPOSITORY, "dags", dagFile),
      pools_file: path.join(REPOSITORY, "dags/pools.json"),
      kubeconfig: KUBECONFIG,
      env: { MLFLOW_TRACKING_URI: server.uri },
      resources: SMALL,
      ...overrides,
    }),
  );
  const outcome = await run(AIRFLOW_PYTHON, [path.join(import.meta.dirname, "run_dag.py"), overridesFile, resultFile], {
    env: environment,
    cwd: home,
    maxBuffer: 256 << 20,
  }).catch((error: unknown) => error as { stdout?: string; stderr?: string });
  await writeFile(path.join(work, `${dagFile}.log`), `${outcome.stdout ?? ""}\n${outcome.stderr ?? ""}`);
  const result = JSON.parse(await readFile(resultFile, "utf8")) as DagResult;
  console.log(`${result.dag_id}: ${result.state} in ${result.wall_s} s ${JSON.stringify(result.tasks)}`);
  return result;
}

interface RegisteredVersion {
  version: string;
  runId: string;
  runStatus: string;
  stages: string | null;
  tags: Record<string, string>;
}

async function candidateVersion(experiment: string, model: string): Promise<{ runs: number; version: RegisteredVersion }> {
  return runPythonJson(`
import json
from mlflow import MlflowClient
client = MlflowClient(${JSON.stringify(server.uri)})
experiment = client.get_experiment_by_name(${JSON.stringify(experiment)})
runs = client.search_runs([experiment.experiment_id])
version = client.get_model_version_by_alias(${JSON.stringify(model)}, "candidate")
run = client.get_run(version.run_id)
print(json.dumps({"runs": len(runs), "version": {"version": version.version, "runId": version.run_id,
  "runStatus": run.info.status, "stages": run.data.tags.get("podtrain.stages_done"), "tags": version.tags}}))`);
}

function expectAllSucceeded(result: DagResult, tasks: string[]): void {
  expect(result.error, result.traceback).toBeUndefined();
  expect(Object.keys(result.tasks).sort()).toEqual([...tasks].sort());
  for (const [task, outcome] of Object.entries(result.tasks)) expect([task, outcome.state]).toEqual([task, "success"]);
  expect(result.state).toBe("success");
}

/** Every step ran as a pod from the image, with the sidecar for XCom steps and the DAG's service account. */
function expectPods(result: DagResult, image: string): void {
  for (const pod of result.pods) {
    expect([pod.task_id, pod.containers[0]?.image, pod.host_network, pod.service_account]).toEqual([pod.task_id, image, true, "podtrain-runner"]);
    const sidecar = pod.containers.find((container) => container.name === "airflow-xcom-sidecar");
    if (sidecar) expect(sidecar.image).toBe(SIDECAR_IMAGE);
  }
}

/** The fit run id the XCom sidecar carried is the run the model version came from. */
function xcomRunId(result: DagResult, task: string): string | undefined {
  const value = result.xcom[task];
  const parsed = (typeof value === "string" ? JSON.parse(value) : value) as { run_id?: string } | undefined;
  return parsed?.run_id;
}

function expectLineage(version: RegisteredVersion, image: string): void {
  expect(version.runStatus).toBe("FINISHED");
  expect(version.stages).toBe("evaluate,fit,register");
  expect(version.tags["podtrain.image"]).toBe(image);
  expect(version.tags["podtrain.workflow"]).toBeTruthy();
  expect(version.tags["airflow.dag_run_id"] ?? version.tags["airflow.dag_id"]).toBeTruthy();
  expect(Object.keys(version.tags).some((tag) => tag.startsWith("data."))).toBe(true);
}

describe.skipIf(!ENABLED)("generated Kubernetes DAGs on a real cluster (PODTRAIN_E2E_KUBERNETES=1; scripts/e2e-kubernetes.sh)", () => {
  beforeAll(async () => {
    const { stdout } = await run("kubectl", ["--kubeconfig", KUBECONFIG, "get", "nodes", "-o", "jsonpath={.items[*].status.allocatable.nvidia\\.com/gpu}"], { env: process.env }).catch((error: unknown) => {
      throw new Error(`no test cluster at ${KUBECONFIG} (start it with scripts/kubernetes/up.sh, then eval "$(scripts/kubernetes/env.sh)" for kubectl): ${String(error)}`);
    });
    expect(stdout.trim(), "the node advertises nvidia.com/gpu").toBe("1");
    for (const image of [IMAGE, SIDECAR_IMAGE]) {
      expect(await imageInRegistry(image), `${image} in the registry ${REGISTRY} (scripts/image.sh pushes it)`).toBe(true);
    }
    work = await mkdtemp(path.join(tmpdir(), "podtrain-e2e-k8s-"));
    server = await startMlflowServer();
  });

  afterAll(async () => {
    await server?.stop();
    if (work && process.env.PODTRAIN_E2E_KEEP !== "1") await rm(work, { recursive: true, force: true });
  });

  it("mnist_cnn_training: validate → fit (GPU request scheduled, CPU backend) → evaluate → register", { timeout: 1_200_000 }, async () => {
    // A spec with a gate a one-epoch fit on 3000 images reaches; mounted into the pods.
    const specs = path.join(work, "specs");
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
    expectAllSucceeded(result, ["validate", "fit", "evaluate", "register"]);
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

  it("power_lgbm_training: validate → fit → evaluate → register on synthetic UCI data on the node", { timeout: 900_000 }, async () => {
    const data = path.join(work, "data");
    await mkdir(path.join(data, "power"), { recursive: true });
    await run(process.execPath, [path.join(REPOSITORY, "bin/train.js"), "power", "generate", "--out", path.join(data, "power/household_power_consumption.txt"), "--days", "180", "--seed", "1"]);
    const result = await runDag("power_lgbm_training.py", {
      host_paths: [{ name: "e2e-data", host_path: data, mount_path: "/data", read_only: true }],
      tasks: { fit: { resources: FIT } },
    });
    expectAllSucceeded(result, ["validate", "fit", "evaluate", "register"]);
    expectPods(result, IMAGE);
    const { runs, version } = await candidateVersion("power-forecast", "power_lgbm");
    expect([runs, version.version]).toEqual([1, "1"]);
    expect(xcomRunId(result, "fit")).toBe(version.runId);
    expectLineage(version, IMAGE);
  });
});
