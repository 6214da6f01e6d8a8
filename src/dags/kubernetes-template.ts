import type { Deployment } from "./deployment.js";
import { renderApprovalTasks, renderDagConstants, renderDagOpening, renderDeadlineSafeTest, renderPartitionListing, renderReadinessSensor, taskOrder } from "./dag-definition.js";
import { PythonImports } from "./python-file.js";
import { call, pythonCall, pythonValue, raw, type PythonValue } from "./python-literal.js";
import type { DagPlan, StepPlan } from "./task-plan.js";

// The Kubernetes target: each step is a KubernetesPodOperator (common.pods.TrainingPodOperator) running the training image with
// `train …`. Only a step whose plan carries a GPU request gets GPU limits, node selector and
// tolerations (and the GPU image); every other pod is CPU-only.

const FIT_RUN_ID = "{{ ti.xcom_pull(task_ids='fit')['run_id'] }}";

/** The per-DAG pod arguments; everything else a pod shares comes from common/deployment.py. */
function podConstants(plan: DagPlan, imports: PythonImports): string {
  imports.from("common.deployment", "pod_defaults");
  const settings = pythonCall("pod_defaults", {
    workflow: plan.spec.workflow,
    dag_id: plan.spec.dag_id,
    termination_grace_period: plan.pods.terminationGracePeriodSeconds,
    active_deadline_seconds: plan.pods.activeDeadlineSeconds,
  });
  return ["# Settings every pod of this DAG shares (common/deployment.py: image, env, secrets, security).", `POD_DEFAULTS = ${settings}`].join("\n");
}

function resourcesOf(step: StepPlan): PythonValue {
  const { cpu, memory } = step.resources;
  // Memory limit = request (no overcommit for training); no CPU limit (throttling only slows fits).
  const limits: Record<string, string> = { memory };
  if (step.gpu) limits[step.gpu.resource] = String(step.gpu.count);
  return call("k8s.V1ResourceRequirements", { requests: { cpu, memory }, limits });
}

function podArguments(step: StepPlan, plan: DagPlan, imports: PythonImports): Record<string, PythonValue> {
  imports.from("common.deployment", step.gpu ? "GPU_IMAGE" : "IMAGE", "POD_ENV", "POD_VOLUMES", "POD_VOLUME_MOUNTS");
  if (step.checkpoint) imports.from("common.deployment", "CHECKPOINT_VOLUME", "CHECKPOINT_MOUNT");
  const poolSlots = step.pool === plan.spec.orchestration.pool ? plan.spec.orchestration.pool_slots : 1;
  return {
    task_id: step.taskId,
    image: raw(step.gpu ? "GPU_IMAGE" : "IMAGE"),
    arguments: step.taskId === "features" ? undefined : [...step.arguments, ...(step.gpu?.podArguments ?? []), ...(step.checkpoint?.podArguments ?? [])],
    env_vars: raw(step.readsFitRun ? `{**POD_ENV, "MLFLOW_RUN_ID": ${pythonValue(FIT_RUN_ID)}}` : "POD_ENV"),
    container_resources: resourcesOf(step),
    volumes: raw(step.checkpoint ? "[*POD_VOLUMES, CHECKPOINT_VOLUME]" : "POD_VOLUMES"),
    volume_mounts: raw(step.checkpoint ? "[*POD_VOLUME_MOUNTS, CHECKPOINT_MOUNT]" : "POD_VOLUME_MOUNTS"),
    schedule_timeout_seconds: step.scheduleTimeoutSeconds,
    // Explicit: the cluster-wide [operators] default_deferrable must not turn it on unasked.
    deferrable: step.deferrable,
    node_selector: step.gpu && Object.keys(step.gpu.nodeSelector).length > 0 ? step.gpu.nodeSelector : undefined,
    tolerations: step.gpu?.tolerations.map((toleration) => call("k8s.V1Toleration", { ...toleration })),
    pool: step.pool,
    pool_slots: poolSlots > 1 ? poolSlots : undefined,
    max_active_tis_per_dagrun: step.taskId === "features" ? plan.partitions?.maxParallel : undefined,
    do_xcom_push: step.pushesXcom,
    "**POD_DEFAULTS": null,
  };
}

function renderStep(step: StepPlan, plan: DagPlan, imports: PythonImports): string {
  imports.from("common.pods", "TrainingPodOperator");
  if (step.taskId === "promote") {
    return [renderApprovalTasks(plan, imports), "", `    promote = ${pythonCall("TrainingPodOperator", podArguments(step, plan, imports), "    ")}`].join("\n");
  }
  if (step.taskId !== "features" || !plan.partitions) {
    return `    ${step.taskId} = ${pythonCall("TrainingPodOperator", podArguments(step, plan, imports), "    ")}`;
  }
  const listing = renderPartitionListing({ ...plan, partitions: plan.partitions }, imports);
  const mapped = pythonCall("TrainingPodOperator.partial", podArguments(step, plan, imports), "    ");
  return [
    "    # One feature pod per date partition (dynamic task mapping); a retry redoes one date.",
    `    partitions = ${listing}`,
    `    features = ${mapped}.expand(arguments=partitions)`,
  ].join("\n");
}

export function renderKubernetesDag(plan: DagPlan, deployment: Deployment, imports: PythonImports): string {
  imports.from("__future__", "annotations").from("kubernetes.client", "models as k8s");
  const constants = renderDagConstants(plan, deployment, imports, true);
  const pods = podConstants(plan, imports);
  const opening = renderDagOpening(plan, deployment.airflow.version, imports);
  const sensor = renderReadinessSensor(plan, imports);
  const steps = plan.steps.map((step) => renderStep(step, plan, imports));
  const order = taskOrder(plan, sensor !== undefined);
  return [constants, "", pods, "", opening, ...(sensor ? [sensor, ""] : []), steps.join("\n\n"), "", `    ${order.join(" >> ")}`, "", renderDeadlineSafeTest(imports)].join("\n");
}
