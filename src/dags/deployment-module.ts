import { deadlineModule } from "./airflow-target.js";
import { alertSettings, mlflowUiUrl, secondsOf } from "./dag-definition.js";
import { imageName, type Deployment } from "./deployment.js";
import { objectStoreEnvironment, objectStoreSecrets } from "./object-store.js";
import { compareText, PythonImports } from "./python-file.js";
import { call, pythonAssign, pythonValue, raw, type PythonValue } from "./python-literal.js";

// dags/common/deployment.py: what every generated Kubernetes DAG shares, rendered once from the
// deployment config: images, pod environment and secrets, security contexts, volumes, pod
// defaults, and the alert and deadline wiring. A deployment change is then a diff of this one
// file; each DAG file keeps only what is particular to its workflow.

export const DEPLOYMENT_MODULE_FILE = "common/deployment.py";

export const MODULE_DOC = [
  '"""What every generated DAG\'s pods and alerts share, from the deployment config.',
  "",
  "The DAG files import these names; only pod_defaults() takes per-DAG values (its labels and the",
  "pod lifetime bounds from the workflow spec). Credentials come from Kubernetes secrets by name:",
  "no value ever appears here.",
  '"""',
].join("\n");

function podEnvironment(deployment: Deployment): Record<string, PythonValue> {
  return {
    MLFLOW_TRACKING_URI: deployment.mlflow.tracking_uri,
    // `train` derives its idempotent MLflow run key from these (a retry finds its own run).
    AIRFLOW_CTX_DAG_ID: "{{ dag.dag_id }}",
    AIRFLOW_CTX_DAG_RUN_ID: "{{ run_id }}",
    AIRFLOW_CTX_TASK_ID: "{{ task.task_id }}",
    AIRFLOW_CTX_TRY_NUMBER: "{{ ti.try_number }}",
    // Recorded in MLflow as the code version of the run.
    PODTRAIN_IMAGE: "{{ task.image }}",
    ...objectStoreEnvironment(deployment.object_store),
  };
}

function podDefaults(deployment: Deployment): Record<string, PythonValue> {
  const kubernetes = deployment.kubernetes;
  const containerSecurity = call("k8s.V1SecurityContext", {
    allow_privilege_escalation: false,
    capabilities: call("k8s.V1Capabilities", { drop: ["ALL"] }),
    // The image is built to run read-only; /tmp is an emptyDir (POD_VOLUMES).
    read_only_root_filesystem: true,
  });
  return {
    namespace: kubernetes.namespace,
    service_account_name: kubernetes.service_account,
    in_cluster: kubernetes.in_cluster,
    config_file: kubernetes.in_cluster ? undefined : kubernetes.config_file,
    cluster_context: kubernetes.in_cluster ? undefined : kubernetes.cluster_context,
    image_pull_secrets: kubernetes.image_pull_secrets.map((name) => call("k8s.V1LocalObjectReference", { name })),
    cmds: ["train"],
    secrets: raw("SECRETS"),
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
    // A retry after a worker died re-attaches to the running pod instead of starting a second one
    // (the provider's successor of reattach_on_restart).
    durable: kubernetes.reattach_on_restart,
    get_logs: true,
    // Failed pods stay for inspection; succeeded ones are removed.
    on_finish_action: "delete_succeeded_pod",
  };
}

function volumes(deployment: Deployment): string[] {
  const lines = [
    "# The root filesystem is read-only: /tmp (scratch, the model before upload) is an emptyDir.",
    pythonAssign("POD_VOLUMES", [call("k8s.V1Volume", { name: "tmp", empty_dir: call("k8s.V1EmptyDirVolumeSource", { size_limit: deployment.kubernetes.tmp_size_limit }) })]),
    pythonAssign("POD_VOLUME_MOUNTS", [call("k8s.V1VolumeMount", { name: "tmp", mount_path: "/tmp" })]),
  ];
  const checkpoints = deployment.checkpoints;
  if (!checkpoints) return lines;
  return [
    ...lines,
    "",
    "# Fit's checkpoints survive the pod: a retry, on any node, resumes from the newest one.",
    pythonAssign("CHECKPOINT_VOLUME", call("k8s.V1Volume", { name: "checkpoints", persistent_volume_claim: call("k8s.V1PersistentVolumeClaimVolumeSource", { claim_name: checkpoints.pvc }) })),
    pythonAssign("CHECKPOINT_MOUNT", call("k8s.V1VolumeMount", { name: "checkpoints", mount_path: checkpoints.mount_path })),
  ];
}

function gpuClasses(deployment: Deployment): Record<string, PythonValue> {
  const classes: Record<string, PythonValue> = {};
  for (const name of Object.keys(deployment.gpu_classes).sort(compareText)) {
    const gpuClass = deployment.gpu_classes[name];
    if (!gpuClass) continue;
    classes[name] = {
      resource: gpuClass.resource,
      node_selector: gpuClass.node_selector,
      tolerations: gpuClass.tolerations.map((toleration) => call("k8s.V1Toleration", { ...toleration })),
      schedule_timeout_seconds: secondsOf(gpuClass.schedule_timeout),
    };
  }
  return classes;
}

export function renderDeploymentModule(deployment: Deployment, imports: PythonImports): string {
  imports
    .from("__future__", "annotations")
    .from("datetime", "timedelta")
    .from("typing", "Any")
    .from("airflow.providers.cncf.kubernetes.secret", "Secret")
    .from("kubernetes.client", "models as k8s")
    .from("common.alerts", "FailureAlert", "deadline_missed")
    .from(deadlineModule(deployment.airflow.version), "AsyncCallback", "DeadlineAlert", "DeadlineReference");
  const secrets = [
    ...deployment.mlflow.secrets.map((secret) => call("Secret", {}, ["env", secret.env, secret.secret, secret.key])),
    ...objectStoreSecrets(deployment.object_store).map((secret) => call("Secret", {}, ["env", secret.env, secret.secret, secret.key])),
  ];
  return [
    `IMAGE = ${pythonValue(imageName(deployment.image))}`,
    `GPU_IMAGE = ${pythonValue(imageName(deployment.gpu_image))}`,
    "",
    "# Links in the approval request point here (the MLflow UI as a reviewer reaches it).",
    `MLFLOW_UI_URL = ${pythonValue(mlflowUiUrl(deployment))}`,
    "",
    `POD_ENV = ${pythonValue(podEnvironment(deployment))}`,
    "",
    "# Read into the environment from Kubernetes secrets (name and key), never a value here.",
    pythonAssign("SECRETS", secrets),
    "",
    ...volumes(deployment),
    "",
    "# How long a pod may stay Pending (unschedulable) before its task fails; a GPU class has its own.",
    `SCHEDULE_TIMEOUT_SECONDS = ${pythonValue(secondsOf(deployment.kubernetes.schedule_timeout))}`,
    "",
    "# Per GPU class: the resource to request, where such pods may run, how long they may stay Pending.",
    pythonAssign("GPU_CLASSES", gpuClasses(deployment)),
    "",
    "# Settings every pod shares; pod_defaults() adds the per-DAG labels and lifetime bounds.",
    `POD_DEFAULTS = ${pythonValue(podDefaults(deployment))}`,
    "",
    "",
    "def pod_defaults(",
    "    *, workflow: str, dag_id: str, termination_grace_period: int, active_deadline_seconds: int",
    ") -> dict[str, Any]:",
    '    """The KubernetesPodOperator arguments every pod of one DAG shares."""',
    "    return {",
    "        **POD_DEFAULTS,",
    '        "labels": {',
    '            "app.kubernetes.io/name": "podtrain",',
    '            "podtrain/workflow": workflow,',
    '            "podtrain/dag-id": dag_id,',
    "        },",
    "        # SIGTERM to SIGKILL: train's own shutdown (checkpoint, run marked KILLED) fits inside it.",
    '        "termination_grace_period": termination_grace_period,',
    "        # The task's execution_timeout, enforced by Kubernetes too: deferrable tasks ignore execution_timeout.",
    '        "active_deadline_seconds": active_deadline_seconds,',
    "    }",
    "",
    "",
    "# The alert webhook: an Airflow connection, else the environment variable.",
    `ALERTS = ${pythonValue(alertSettings(deployment))}`,
    "",
    "# Posts to the alert webhook when a task has failed for good (after its retries) or the run failed.",
    "ON_FAILURE = FailureAlert(**ALERTS)",
    "",
    "",
    "def lateness_deadline(dag_id: str, interval: timedelta, label: str) -> DeadlineAlert:",
    '    """A run not finished `interval` after it was queued alerts the webhook (callback in the triggerer).',
    "",
    "    Queued-at, not logical date: a run is late relative to when it could start (catch-up and",
    "    backfill runs have old logical dates).",
    '    """',
    "    return DeadlineAlert(",
    "        reference=DeadlineReference.DAGRUN_QUEUED_AT,",
    "        interval=interval,",
    '        callback=AsyncCallback(deadline_missed, kwargs={**ALERTS, "dag_id": dag_id, "deadline": label}),',
    "    )",
  ].join("\n");
}
