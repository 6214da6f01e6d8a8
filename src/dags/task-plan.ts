import path from "node:path";
import { SpecError } from "../core/errors.js";
import type { PodResources, WorkflowSpec } from "../config/schema.js";
import { WORKFLOWS } from "../workflows/catalog.js";
import { parseDurationSeconds } from "../core/duration.js";
import { partitionSettingsOf, type Deployment, type Toleration } from "./deployment.js";
import { objectStorePath } from "./object-store.js";
import type { OrchestrationShape } from "../workflows/types.js";

// What a generated DAG does, independent of how a step runs (Kubernetes pod or local process).
// Every step is one `train …` invocation; the argument lists below are the CLI contract the
// DAGs rely on, kept in this one place. What differs per workflow (validate or partitions, GPU
// arguments) is read from its catalog entry's data-only orchestration shape.

export type DagShape = "validated" | "partitioned";

export interface GpuRequest {
  /** The deployment config's GPU class (gpu_classes): the generated DAG names it, common/deployment.py holds it. */
  className: string;
  count: number;
  scheduleTimeoutSeconds: number;
  resource: string;
  nodeSelector: Record<string, string>;
  tolerations: Toleration[];
  /** Appended to the step's arguments on a GPU pod only (the local target has no GPU pods). */
  podArguments: string[];
}

/** The checkpoint volume of a fit pod (deployment config `checkpoints`). */
export interface CheckpointVolume {
  claim: string;
  mountPath: string;
  /** Appended to fit's arguments on the pod: one folder per DAG run, stable across its retries. */
  podArguments: string[];
}

export interface StepPlan {
  taskId: "validate" | "features" | "fit" | "evaluate" | "register" | "promote" | "reject";
  /** Arguments after `train`; may hold Airflow templates. */
  arguments: string[];
  resources: PodResources;
  gpu?: GpuRequest;
  checkpoint?: CheckpointVolume;
  /** Seconds the pod may stay unscheduled: the GPU class's (node pool scale-up) or the CPU default. */
  scheduleTimeoutSeconds: number;
  /** Wait for the pod in the triggerer instead of a worker slot (spec: deferrable_fit). */
  deferrable: boolean;
  pool: string;
  /** The step writes its result for XCom (`--xcom`). */
  pushesXcom: boolean;
  /** The step reads the MLflow run id from fit's XCom. */
  readsFitRun: boolean;
}

export interface PartitionPlan {
  /** `train tick features …` without the `--date D` that each mapped task adds. */
  baseArguments: string[];
  firstDate: string;
  lastDate: string;
  /** ISO weekdays (1 = Monday) to keep, or undefined for every day. */
  weekdays: number[] | undefined;
  maxPartitions: number;
  maxParallel: number;
}

/** The approval tail (spec registry.approval: required): has_candidate -> approve -> promote | reject. */
export interface ApprovalPlan {
  model: string;
  championAlias: string;
  candidateAlias: string;
  gateMetric: string;
  timeoutSeconds: number;
  /** What `reject` does to the candidate alias (spec registry.on_reject). */
  onReject: WorkflowSpec["registry"]["on_reject"];
  /** Airflow templates: the candidate version, the reviewer, the reviewer's comment. */
  version: string;
  approver: string;
  reason: string;
  rejectReason: string;
}

export interface DagPlan {
  spec: WorkflowSpec;
  /** Spec path relative to the repository root, for the header and doc. */
  specFile: string;
  shape: DagShape;
  /** Pool for steps that hold no GPU (sensor, validation, evaluation, registration). */
  cpuPool: string;
  /** What fit, evaluate and register take after `<workflow> --stage <name> --xcom`: the data window and inputs. */
  stageArguments: string[];
  partitions?: PartitionPlan;
  steps: StepPlan[];
  approval?: ApprovalPlan;
  /** Pod lifetime bounds shared by every pod of the DAG. */
  pods: {
    /** SIGTERM to SIGKILL (spec: termination_grace_period, at least train's grace period + margin). */
    terminationGracePeriodSeconds: number;
    /** The pod's own deadline = the task's execution_timeout, which deferrable tasks do not enforce. */
    activeDeadlineSeconds: number;
  };
}

// Templates: a manual run may pass an explicit range (params), otherwise the data interval.
// `data_interval_start` is the previous schedule tick, so its date is already covered.
const FIRST_PARTITION_DATE = "{{ params.partition_from or macros.ds_add((data_interval_start or dag_run.run_after) | ds, 1) }}";
const LAST_PARTITION_DATE = "{{ params.partition_to or ((data_interval_end or dag_run.run_after) | ds) }}";

const CRON_DAY_NAMES: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

/** ISO weekdays named by a cron day-of-week field ("1-5", "MON,WED"), undefined for every day. */
export function weekdaysOfCron(schedule: string | null): number[] | undefined {
  const fields = schedule?.trim().split(/\s+/);
  if (!fields || fields.length !== 5) return undefined;
  const field = fields[4] ?? "*";
  const days = new Set<number>();
  const dayNumber = (text: string): number => CRON_DAY_NAMES[text.toLowerCase()] ?? Number(text);
  for (const part of field.split(",")) {
    if (part === "*" || part.includes("/")) return undefined; // steps: keep every day, never drop data
    const [from, to] = part.split("-").map(dayNumber);
    if (from === undefined || Number.isNaN(from) || (to !== undefined && Number.isNaN(to))) return undefined;
    for (let day = from; day <= (to ?? from); day += 1) days.add(day % 7 === 0 ? 7 : day % 7);
  }
  return [...days].sort((left, right) => left - right);
}

function gpuRequestFor(orchestration: OrchestrationShape, resources: PodResources, deployment: Deployment, specFile: string): GpuRequest | undefined {
  if (resources.gpu === 0) return undefined;
  const className = resources.gpu_class;
  const gpuClass = className === undefined ? undefined : deployment.gpu_classes[className];
  if (!className || !gpuClass) {
    throw new SpecError(`${specFile}: orchestration.resources.fit.gpu_class: "${className ?? ""}" is not a GPU class of the deployment config (known: ${Object.keys(deployment.gpu_classes).join(", ") || "none"})`);
  }
  // On a GPU pod, insist on the GPU (the workflow's catalog entry says how, if it can).
  const podArguments = [...orchestration.gpuFitArguments];
  return { className, count: resources.gpu, scheduleTimeoutSeconds: seconds(gpuClass.schedule_timeout), resource: gpuClass.resource, nodeSelector: gpuClass.node_selector, tolerations: gpuClass.tolerations, podArguments };
}

function seconds(duration: string): number {
  const value = parseDurationSeconds(duration);
  if (value === undefined) throw new TypeError(`not a duration: ${duration}`); // the schemas already checked
  return value;
}

function checkpointVolumeOf(deployment: Deployment): CheckpointVolume | undefined {
  const checkpoints = deployment.checkpoints;
  if (!checkpoints) return undefined;
  const directory = `${checkpoints.mount_path.replace(/\/+$/, "")}/{{ dag.dag_id }}/{{ run_id }}`;
  return { claim: checkpoints.pvc, mountPath: checkpoints.mount_path, podArguments: ["--checkpoint-dir", directory] };
}

const REGISTER_RESULT = "ti.xcom_pull(task_ids='register')";
const APPROVAL_RESULT = "ti.xcom_pull(task_ids='approve')";

function approvalOf(spec: WorkflowSpec): ApprovalPlan | undefined {
  const registry = spec.registry;
  // auto_promote moves the champion at registration: nothing left to approve.
  if (registry.approval !== "required" || registry.auto_promote) return undefined;
  return {
    model: spec.registered_model,
    championAlias: registry.champion_alias,
    candidateAlias: registry.candidate_alias,
    gateMetric: spec.gate.metric,
    timeoutSeconds: seconds(registry.approval_timeout),
    onReject: registry.on_reject,
    version: `{{ ${REGISTER_RESULT}['registered_version'] }}`,
    approver: `{{ ${APPROVAL_RESULT}['responded_by_user']['name'] }}`,
    reason: `{{ ${APPROVAL_RESULT}['params_input'].get('reason') or 'approved in Airflow' }}`,
    rejectReason: `{{ ${APPROVAL_RESULT}['params_input'].get('reason') or 'rejected in Airflow' }}`,
  };
}

export function planDag(spec: WorkflowSpec, deployment: Deployment, specFile: string): DagPlan {
  const orchestration = spec.orchestration;
  if (!(orchestration.pool in deployment.pools)) {
    throw new SpecError(`${specFile}: orchestration.pool: "${orchestration.pool}" has no slot count in the deployment config's pools`);
  }
  const workflowSettings = deployment.workflows[spec.workflow];
  // With an object store configured, data paths under its data_root become s3:// URLs.
  const dataPath = (argument: string): string => objectStorePath(argument, deployment.object_store);
  const extra = (workflowSettings?.arguments ?? []).map(dataPath);
  const input = WORKFLOWS[spec.workflow].orchestration.input;
  const fitGpu = gpuRequestFor(WORKFLOWS[spec.workflow].orchestration, orchestration.resources.fit, deployment, specFile);
  // A GPU pool counts GPUs: steps that hold no GPU must not take its slots.
  const cpuPool = fitGpu ? "default_pool" : orchestration.pool;
  const shape: DagShape = input.kind === "partitions" ? "partitioned" : "validated";
  const asOf = input.kind === "partitions" ? [input.windowEndFlag, LAST_PARTITION_DATE] : [];
  const cpu = orchestration.resources.default;
  const stageArguments = [...asOf, ...extra];
  const stage = (name: "fit" | "evaluate" | "register"): string[] => [spec.workflow, "--stage", name, "--xcom", ...stageArguments];

  const cpuScheduleTimeout = seconds(deployment.kubernetes.schedule_timeout);
  const cpuStep = { resources: cpu, pool: cpuPool, scheduleTimeoutSeconds: cpuScheduleTimeout, deferrable: false };
  const checkpoint = checkpointVolumeOf(deployment);
  const steps: StepPlan[] = [];
  let partitions: PartitionPlan | undefined;
  if (input.kind === "partitions") {
    const settings = partitionSettingsOf(deployment, spec.workflow);
    partitions = {
      baseArguments: [spec.workflow, ...input.command, ...settings.feature_arguments.map(dataPath)],
      firstDate: FIRST_PARTITION_DATE,
      lastDate: LAST_PARTITION_DATE,
      weekdays: weekdaysOfCron(orchestration.schedule),
      maxPartitions: settings.max_partitions_per_run,
      maxParallel: settings.max_parallel_partitions,
    };
    steps.push({ taskId: "features", arguments: partitions.baseArguments, ...cpuStep, pushesXcom: false, readsFitRun: false });
  } else {
    steps.push({ taskId: "validate", arguments: [spec.workflow, "validate", ...extra], ...cpuStep, pushesXcom: false, readsFitRun: false });
  }
  steps.push(
    {
      taskId: "fit",
      arguments: stage("fit"),
      resources: orchestration.resources.fit,
      ...(fitGpu ? { gpu: fitGpu } : {}),
      ...(checkpoint ? { checkpoint } : {}),
      scheduleTimeoutSeconds: fitGpu?.scheduleTimeoutSeconds ?? cpuScheduleTimeout,
      deferrable: orchestration.deferrable_fit,
      pool: orchestration.pool,
      pushesXcom: true,
      readsFitRun: false,
    },
    { taskId: "evaluate", arguments: stage("evaluate"), ...cpuStep, pushesXcom: true, readsFitRun: true },
    { taskId: "register", arguments: stage("register"), ...cpuStep, pushesXcom: true, readsFitRun: true },
  );
  const approval = approvalOf(spec);
  if (approval) {
    steps.push({
      taskId: "promote",
      arguments: ["promote", approval.model, approval.version, "--alias", approval.championAlias, "--approver", approval.approver, "--reason", approval.reason],
      ...cpuStep,
      pushesXcom: false,
      readsFitRun: false,
    });
    const rejectArguments = ["reject", approval.model, approval.version, "--candidate-alias", approval.candidateAlias, "--on-reject", approval.onReject, "--rejected-by", approval.approver, "--reason", approval.rejectReason];
    steps.push({ taskId: "reject", arguments: rejectArguments, ...cpuStep, pushesXcom: false, readsFitRun: false });
  }
  const pods = { terminationGracePeriodSeconds: seconds(orchestration.termination_grace_period), activeDeadlineSeconds: seconds(orchestration.execution_timeout) };
  return { spec, specFile: specFile.split(path.sep).join("/"), shape, cpuPool, stageArguments, ...(partitions ? { partitions } : {}), steps, ...(approval ? { approval } : {}), pods };
}
