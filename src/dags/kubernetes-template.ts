import { imageName, type Deployment } from "./deployment.js";
import { renderApprovalTasks, renderDagConstants, renderDagOpening, renderDeadlineSafeTest, renderPartitionListing, renderReadinessSensor, secondsOf, taskOrder } from "./dag-definition.js";
import { PythonImports } from "./python-file.js";
import { call, pythonAssign, pythonCall, pythonValue, raw, type PythonValue } from "./python-literal.js";
import type { DagPlan, StepPlan } from "./task-plan.js";

// The Kubernetes target: each step is a KubernetesPodOperator (common.pods.TrainingPodOperator) running the training image with
// `train …`. Only a step whose plan carries a GPU request gets GPU limits, node selector and
// tolerations (and the GPU image); every other pod is CPU-only.

const FIT_RUN_ID = "{{ ti.xcom_pull(task_ids='fit')['run_id'] }}";

function podConstants(plan: DagPlan, deployment: Deployment, imports: PythonImports): string {
  imports.from("airflow.providers.cncf.kubernetes.secret", "Secret").from("kubernetes.client", "models as k8s");
  const kubernetes = deployment.kubernetes;
  const environment: Record<string, PythonValue> = {
    MLFLOW_TRACKING_URI: deployment.mlflow.tracking_uri,
    // `train` derives its idempotent MLflow run key from these (a retry finds its own run).
    AIRFLOW_CTX_DAG_ID: "{{ dag.dag_id }}",
    AIRFLOW_CTX_DAG_RUN_ID: "{{ run_id }}",
    AIRFLOW_CTX_TASK_ID: "{{ task.task_id }}",
    AIRFLOW_CTX_TRY_NUMBER: "{{ ti.try_number }}",
    // Recorded in MLflow as the code version of the run.
    PODTRAIN_IMAGE: "{{ task.image }}",
  };
  const secrets = deployment.mlflow.secrets.map((secret) => call("Secret", {}, ["env", secret.env, secret.secret, secret.key]));
  const containerSecurity = call("k8s.V1SecurityContext", {
    allow_privilege_escalation: false,
    capabilities: call("k8s.V1Capabilities", { drop: ["ALL"] }),
    // The image is built to run read-only; /tmp is an emptyDir (POD_VOLUMES).
    read_only_root_filesystem: true,
  });
  const podDefaults: Record<string, PythonValue> = {
    namespace: kubernetes.namespace,
    service_account_name: kubernetes.service_account,
    in_cluster: kubernetes.in_cluster,
    config_file: kubernetes.in_cluster ? undefined : kubernetes.config_file,
    cluster_context: kubernetes.in_cluster ? undefined : kubernetes.cluster_context,
    image_pull_secrets: kubernetes.image_pull_secrets.map((name) => call("k8s.V1LocalObjectReference", { name })),
    labels: { "app.kubernetes.io/name": "podtrain", "podtrain/workflow": plan.spec.workflow, "podtrain/dag-id": plan.spec.dag_id },
    cmds: ["train"],
    secrets,
    security_context: call("k8s.V1PodSecurityContext", {
      run_as_non_root: true,
      run_as_user: kubernetes.run_as_user,
      run_as_group: kubernetes.run_as_user,
      fs_group: kubernetes.run_as_user,
      seccomp_profile: call("k8s.V1SeccompProfile", { type: "RuntimeDefault" }),
    }),
    container_security_context: containerSecurity,
    xcom_sidecar_container_security_context: containerSecurity,
    xcom_sidecar_image: kubernetes.xcom_sidecar_image ? imageName(kubernetes.xcom_sidecar_image) : undefined,
    // Pulling and starting, once scheduled; how long a pod may stay Pending is per task (schedule_timeout_seconds).
    startup_timeout_seconds: secondsOf(kubernetes.startup_timeout),
    // SIGTERM to SIGKILL: train's own shutdown (checkpoint, run marked KILLED) fits inside it.
    termination_grace_period: plan.pods.terminationGracePeriodSeconds,
    // The task's execution_timeout, enforced by Kubernetes too: deferrable tasks ignore execution_timeout.
    active_deadline_seconds: plan.pods.activeDeadlineSeconds,
    // A retry after a worker died re-attaches to the running pod instead of starting a second one
    // (the provider's successor of reattach_on_restart on Airflow 3.3).
    durable: kubernetes.reattach_on_restart,
    get_logs: true,
    // Failed pods stay for inspection; succeeded ones are removed.
    on_finish_action: "delete_succeeded_pod",
  };
  return [
    `IMAGE = ${pythonValue(imageName(deployment.image))}`,
    `GPU_IMAGE = ${pythonValue(imageName(deployment.gpu_image))}`,
    "",
    `POD_ENV = ${pythonValue(environment)}`,
    "",
    "# Settings every pod of this DAG shares; credentials come from Kubernetes secrets by name.",
    `POD_DEFAULTS = ${pythonValue(podDefaults)}`,
    "",
    ...volumeConstants(plan, deployment),
  ].join("\n");
}

/** The writable /tmp of every pod and, when configured, fit's checkpoint volume. */
function volumeConstants(plan: DagPlan, deployment: Deployment): string[] {
  const lines = [
    "# The root filesystem is read-only: /tmp (scratch, the model before upload) is an emptyDir.",
    pythonAssign("POD_VOLUMES", [call("k8s.V1Volume", { name: "tmp", empty_dir: call("k8s.V1EmptyDirVolumeSource", { size_limit: deployment.kubernetes.tmp_size_limit }) })]),
    pythonAssign("POD_VOLUME_MOUNTS", [call("k8s.V1VolumeMount", { name: "tmp", mount_path: "/tmp" })]),
  ];
  const checkpoint = plan.steps.find((step) => step.checkpoint)?.checkpoint;
  if (!checkpoint) return lines;
  return [
    ...lines,
    "",
    "# Fit's checkpoints survive the pod: a retry, on any node, resumes from the newest one.",
    pythonAssign("CHECKPOINT_VOLUME", call("k8s.V1Volume", { name: "checkpoints", persistent_volume_claim: call("k8s.V1PersistentVolumeClaimVolumeSource", { claim_name: checkpoint.claim }) })),
    pythonAssign("CHECKPOINT_MOUNT", call("k8s.V1VolumeMount", { name: "checkpoints", mount_path: checkpoint.mountPath })),
  ];
}

function resourcesOf(step: StepPlan): PythonValue {
  const { cpu, memory } = step.resources;
  // Memory limit = request (no overcommit for training); no CPU limit (throttling only slows fits).
  const limits: Record<string, string> = { memory };
  if (step.gpu) limits[step.gpu.resource] = String(step.gpu.count);
  return call("k8s.V1ResourceRequirements", { requests: { cpu, memory }, limits });
}

function podArguments(step: StepPlan, plan: DagPlan): Record<string, PythonValue> {
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
    return [renderApprovalTasks(plan, imports), "", `    promote = ${pythonCall("TrainingPodOperator", podArguments(step, plan), "    ")}`].join("\n");
  }
  if (step.taskId !== "features" || !plan.partitions) {
    return `    ${step.taskId} = ${pythonCall("TrainingPodOperator", podArguments(step, plan), "    ")}`;
  }
  const listing = renderPartitionListing({ ...plan, partitions: plan.partitions }, imports);
  const mapped = pythonCall("TrainingPodOperator.partial", podArguments(step, plan), "    ");
  return [
    "    # One feature pod per date partition (dynamic task mapping); a retry redoes one date.",
    `    partitions = ${listing}`,
    `    features = ${mapped}.expand(arguments=partitions)`,
  ].join("\n");
}

export function renderKubernetesDag(plan: DagPlan, deployment: Deployment, imports: PythonImports): string {
  imports.from("__future__", "annotations");
  const constants = renderDagConstants(plan, deployment, imports);
  const pods = podConstants(plan, deployment, imports);
  const opening = renderDagOpening(plan, imports);
  const sensor = renderReadinessSensor(plan, imports);
  const steps = plan.steps.map((step) => renderStep(step, plan, imports));
  const order = taskOrder(plan, sensor !== undefined);
  return [constants, "", pods, "", opening, ...(sensor ? [sensor, ""] : []), steps.join("\n\n"), "", `    ${order.join(" >> ")}`, "", renderDeadlineSafeTest(imports)].join("\n");
}
