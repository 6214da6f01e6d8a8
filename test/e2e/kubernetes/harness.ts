import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "vitest";
import { startMlflowServer, type MlflowServer } from "../../support/mlflow-server.js";
import { runPythonJson } from "../../support/python.js";

// Shared by the end-to-end tests on the single-node cluster (scripts/kubernetes/up.sh): runs a
// generated DAG file through run_dag.py with Airflow's dag.test() and reads back what happened
// from Airflow (task states, the pods built, XCom) and from the real MLflow server.

export const run = promisify(execFile);
export const REPOSITORY = path.resolve(import.meta.dirname, "../../..");
export const ENABLED = process.env.PODTRAIN_E2E_KUBERNETES === "1";
export const STATE_DIR = process.env.PODTRAIN_K8S_DIR ?? "/tmp/podtrain-k8s";
export const KUBECONFIG = path.join(STATE_DIR, "admin.kubeconfig");
export const REGISTRY = process.env.PODTRAIN_K8S_REGISTRY ?? "127.0.0.1:5000";
export const IMAGE = process.env.PODTRAIN_E2E_IMAGE ?? "registry.example.com/ml-platform/podtrain:0.1.0";
export const SIDECAR_IMAGE = process.env.PODTRAIN_E2E_XCOM_SIDECAR_IMAGE ?? "registry.example.com/ml-platform/podtrain-xcom-sidecar:0.1.0";
/** The generated DAG files to run (a checkout's dags/ by default). */
const DAGS_DIR = process.env.PODTRAIN_E2E_DAGS_DIR ?? path.join(REPOSITORY, "dags");
const AIRFLOW = path.join(REPOSITORY, ".venv/airflow/bin/airflow");
const AIRFLOW_PYTHON = path.join(REPOSITORY, ".venv/airflow/bin/python");

/** Pod resources that fit a 2-CPU node next to the XCom sidecar and the control plane. */
export const SMALL = { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "2Gi" } };
export const FIT = { requests: { cpu: "1", memory: "512Mi" }, limits: { memory: "3Gi" } };

export interface TaskResult {
  state: string;
  try_number: number;
  duration_s: number | null;
}
export interface PodRecord {
  task_id: string;
  containers: Array<{ name: string; image: string; args: string[] | null; requests: Record<string, string> | null; limits: Record<string, string> | null }>;
  node_selector: Record<string, string> | null;
  tolerations: Array<{ key: string; operator: string; effect: string }>;
  host_network: boolean;
  service_account: string;
}
export interface DagResult {
  dag_id: string;
  pods: PodRecord[];
  xcom: Record<string, unknown>;
  state: string;
  tasks: Record<string, TaskResult>;
  overrides: string[];
  wall_s: number;
  /** stdout and stderr of dag.test(): the tasks' logs, the pods' logs. */
  log: string;
  error?: string;
  traceback?: string;
}

/** Where a repository in the local registry keeps an image name of the DAGs (mirror rules). */
export function registryPath(image: string): { repository: string; tag: string } {
  const [name = "", tag = "latest"] = image.split(/:(?=[^/]+$)/);
  const parts = name.split("/");
  const first = parts[0] ?? "";
  const hasHost = parts.length > 1 && (first.includes(".") || first.includes(":"));
  let repository = hasHost ? parts.slice(1).join("/") : name;
  if ((!hasHost || first === "docker.io") && !repository.includes("/")) repository = `library/${repository}`;
  return { repository, tag };
}

export async function imageInRegistry(image: string): Promise<boolean> {
  const { repository, tag } = registryPath(image);
  const response = await fetch(`http://${REGISTRY}/v2/${repository}/manifests/${tag}`, {
    method: "HEAD",
    headers: { Accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json" },
  }).catch(() => undefined);
  return response?.ok ?? false;
}

/** The MLflow server and scratch folder of one test file; start() checks the cluster first. */
export const context: { server: MlflowServer; work: string } = { server: undefined as unknown as MlflowServer, work: "" };

export async function startContext(): Promise<void> {
  const { stdout } = await run("kubectl", ["--kubeconfig", KUBECONFIG, "get", "nodes", "-o", "jsonpath={.items[*].status.allocatable.nvidia\\.com/gpu}"], { env: process.env }).catch((error: unknown) => {
    throw new Error(`no test cluster at ${KUBECONFIG} (start it with scripts/kubernetes/up.sh, then eval "$(scripts/kubernetes/env.sh)" for kubectl): ${String(error)}`);
  });
  expect(stdout.trim(), "the node advertises nvidia.com/gpu").toBe("1");
  for (const image of [IMAGE, SIDECAR_IMAGE]) {
    expect(await imageInRegistry(image), `${image} in the registry ${REGISTRY} (scripts/image.sh pushes it)`).toBe(true);
  }
  context.work = await mkdtemp(path.join(tmpdir(), "podtrain-e2e-k8s-"));
  context.server = await startMlflowServer();
}

export async function stopContext(): Promise<void> {
  await context.server?.stop();
  if (context.work && process.env.PODTRAIN_E2E_KEEP !== "1") await rm(context.work, { recursive: true, force: true });
}

export function kubectl(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run("kubectl", ["--kubeconfig", KUBECONFIG, ...args], { env: process.env, maxBuffer: 64 << 20 });
}

/** Runs one generated DAG file through run_dag.py with a fresh Airflow home. */
export async function runDag(dagFile: string, overrides: Record<string, unknown>): Promise<DagResult> {
  const home = await mkdtemp(path.join(context.work, "airflow-"));
  const environment = {
    ...process.env,
    AIRFLOW_HOME: home,
    AIRFLOW__CORE__LOAD_EXAMPLES: "False",
    AIRFLOW__CORE__UNIT_TEST_MODE: "False",
    AIRFLOW__CORE__DAGS_FOLDER: DAGS_DIR,
    // The operator's default XCom sidecar image (alpine from Docker Hub) is not reachable here.
    AIRFLOW_CONN_KUBERNETES_DEFAULT: JSON.stringify({ conn_type: "kubernetes", extra: { xcom_sidecar_container_image: SIDECAR_IMAGE } }),
    PYTHONPATH: DAGS_DIR,
  };
  await run(AIRFLOW, ["db", "migrate"], { env: environment, maxBuffer: 64 << 20 });
  const overridesFile = path.join(home, "overrides.json");
  const resultFile = path.join(home, "result.json");
  await writeFile(
    overridesFile,
    JSON.stringify({
      dag_file: path.join(DAGS_DIR, dagFile),
      pools_file: path.join(DAGS_DIR, "pools.json"),
      kubeconfig: KUBECONFIG,
      xcom_sidecar_image: SIDECAR_IMAGE,
      env: { MLFLOW_TRACKING_URI: context.server.uri },
      resources: SMALL,
      // approve waits for a person; the approval tail has its own test on the local target.
      until: "has_candidate",
      ...overrides,
    }),
  );
  const outcome = await run(AIRFLOW_PYTHON, [path.join(import.meta.dirname, "run_dag.py"), overridesFile, resultFile], {
    env: environment,
    cwd: home,
    maxBuffer: 256 << 20,
  }).catch((error: unknown) => error as { stdout?: string; stderr?: string });
  await writeFile(path.join(home, "run.log"), `${outcome.stdout ?? ""}\n${outcome.stderr ?? ""}`);
  const result = JSON.parse(await readFile(resultFile, "utf8")) as DagResult;
  result.log = `${outcome.stdout ?? ""}\n${outcome.stderr ?? ""}`;
  console.log(`${result.dag_id}: ${result.state} in ${result.wall_s} s ${JSON.stringify(result.tasks)}`);
  return result;
}

export interface RegisteredVersion {
  version: string;
  runId: string;
  runStatus: string;
  stages: string | null;
  /** The run's podtrain.resumed_from and podtrain.error tags (null when absent). */
  resumedFrom: string | null;
  error: string | null;
  tags: Record<string, string>;
}

export async function candidateVersion(experiment: string, model: string): Promise<{ runs: number; version: RegisteredVersion }> {
  return runPythonJson(`
import json
from mlflow import MlflowClient
client = MlflowClient(${JSON.stringify(context.server.uri)})
experiment = client.get_experiment_by_name(${JSON.stringify(experiment)})
runs = client.search_runs([experiment.experiment_id])
version = client.get_model_version_by_alias(${JSON.stringify(model)}, "candidate")
run = client.get_run(version.run_id)
print(json.dumps({"runs": len(runs), "version": {"version": version.version, "runId": version.run_id,
  "runStatus": run.info.status, "stages": run.data.tags.get("podtrain.stages_done"),
  "resumedFrom": run.data.tags.get("podtrain.resumed_from"), "error": run.data.tags.get("podtrain.error"), "tags": version.tags}}))`);
}

/** A param of an MLflow run on the test server (undefined when the run did not log it). */
export async function runParam(runId: string, key: string): Promise<string | undefined> {
  const params = await runPythonJson<Record<string, string>>(`
import json
from mlflow import MlflowClient
print(json.dumps(MlflowClient(${JSON.stringify(context.server.uri)}).get_run(${JSON.stringify(runId)}).data.params))`);
  return params[key];
}

export function expectAllSucceeded(result: DagResult, tasks: string[]): void {
  expect(result.error, result.traceback).toBeUndefined();
  expect(Object.keys(result.tasks).sort()).toEqual([...tasks].sort());
  const notSucceeded = Object.entries(result.tasks).filter(([, outcome]) => outcome.state !== "success").map(([task, outcome]) => `${task}: ${outcome.state}`);
  expect(notSucceeded, "tasks that did not succeed").toEqual([]);
  expect(result.state).toBe("success");
}

/** Every step ran as a pod from the image, with the sidecar for XCom steps and the DAG's service account. */
export function expectPods(result: DagResult, image: string): void {
  for (const pod of result.pods) {
    expect([pod.task_id, pod.containers[0]?.image, pod.host_network, pod.service_account]).toEqual([pod.task_id, image, true, "podtrain-runner"]);
    const sidecar = pod.containers.find((container) => container.name === "airflow-xcom-sidecar");
    if (sidecar) expect(sidecar.image).toBe(SIDECAR_IMAGE);
  }
}

/** The fit run id the XCom sidecar carried is the run the model version came from. */
export function xcomRunId(result: DagResult, task: string): string | undefined {
  const value = result.xcom[task];
  const parsed = (typeof value === "string" ? JSON.parse(value) : value) as { run_id?: string } | undefined;
  return parsed?.run_id;
}

export function expectLineage(version: RegisteredVersion, image: string): void {
  expect(version.runStatus).toBe("FINISHED");
  expect(version.stages).toBe("evaluate,fit,register");
  expect(version.tags["podtrain.image"]).toBe(image);
  expect(version.tags["podtrain.workflow"]).toBeTruthy();
  expect(version.tags["airflow.dag_run_id"] ?? version.tags["airflow.dag_id"]).toBeTruthy();
  expect(Object.keys(version.tags).some((tag) => tag.startsWith("data."))).toBe(true);
}


/** Status and stages of every run of an experiment (none when it does not exist). */
export async function runStatuses(experiment: string): Promise<Array<{ status: string; stages: string | null; error: string | null }>> {
  return runPythonJson(`
import json
from mlflow import MlflowClient
client = MlflowClient(${JSON.stringify(context.server.uri)})
experiment = client.get_experiment_by_name(${JSON.stringify(experiment)})
runs = client.search_runs([experiment.experiment_id]) if experiment else []
print(json.dumps([{"status": r.info.status, "stages": r.data.tags.get("podtrain.stages_done"), "error": r.data.tags.get("podtrain.error")} for r in runs]))`);
}
