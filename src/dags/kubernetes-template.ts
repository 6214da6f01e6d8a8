import type { Deployment } from "./deployment.js";
import { renderDagConstants, renderDagOpening, renderDeadlineSafeTest, renderPartitionListing, renderReadinessSensor, taskOrder } from "./dag-definition.js";
import { PythonImports } from "./python-file.js";
import { pythonCall, pythonTimedelta, pythonValue, raw, type PythonValue } from "./python-literal.js";
import type { DagPlan, StepPlan } from "./task-plan.js";

// The Kubernetes target: each step is a KubernetesPodOperator (common.pods.TrainingPodOperator) running the training image with
// `train …`, built by common/steps.py (TrainingSteps) from what the file names per step: task id,
// arguments, resources, and what sets it apart (a GPU class, a pool, XCom, the fit run id). Only a
// step whose plan carries a GPU request gets GPU limits, node selector and tolerations (and the GPU
// image); every other pod is CPU-only.

/** The per-DAG pod arguments and the step builder; everything else a pod shares comes from common/deployment.py. */
function podConstants(plan: DagPlan, imports: PythonImports): string {
  imports.from("common.deployment", "pod_defaults").from("common.steps", "TrainingSteps");
  const settings = pythonCall("pod_defaults", {
    workflow: plan.spec.workflow,
    dag_id: plan.spec.dag_id,
    termination_grace_period: plan.pods.terminationGracePeriodSeconds,
    active_deadline_seconds: plan.pods.activeDeadlineSeconds,
  });
  return [
    "# Settings every pod of this DAG shares (common/deployment.py: image, env, secrets, security).",
    `POD_DEFAULTS = ${settings}`,
    "",
    "# Builds each step's pod from its arguments and resources (common/steps.py); steps without a GPU use this pool.",
    `STEPS = ${pythonCall("TrainingSteps", { pool: plan.cpuPool }, "", [raw("POD_DEFAULTS")])}`,
    ...stageConstant(plan),
  ].join("\n");
}

/** What sets a step's pod apart; common/steps.py fills in the rest from common/deployment.py. */
function stepSettings(step: StepPlan, plan: DagPlan): Record<string, PythonValue> {
  const poolSlots = step.pool === plan.spec.orchestration.pool ? plan.spec.orchestration.pool_slots : 1;
  return {
    cpu: step.resources.cpu,
    memory: step.resources.memory,
    gpus: step.gpu?.count,
    gpu_class: step.gpu?.className,
    pool: step.pool === plan.cpuPool ? undefined : step.pool,
    pool_slots: poolSlots > 1 ? poolSlots : undefined,
    max_active_tis_per_dagrun: step.taskId === "features" ? plan.partitions?.maxParallel : undefined,
    xcom: step.pushesXcom || undefined,
    reads_fit_run: step.readsFitRun || undefined,
    checkpoint: step.checkpoint ? true : undefined,
    deferrable: step.deferrable || undefined,
  };
}

const STAGES = new Set(["fit", "evaluate", "register"]);

/** The stage steps' shared data arguments, said once in the file (none: nothing to share). */
function stageConstant(plan: DagPlan): string[] {
  if (plan.stageArguments.length === 0) return [];
  return ["", "# What every stage (fit, evaluate, register) reads: its data window and inputs.", `STAGE_ARGUMENTS = ${pythonValue(plan.stageArguments)}`];
}

function stepArguments(step: StepPlan, plan: DagPlan): PythonValue[] {
  const shared = plan.stageArguments;
  const head = step.arguments.slice(0, step.arguments.length - shared.length);
  const isStage = STAGES.has(step.taskId) && shared.length > 0 && step.arguments.slice(head.length).every((argument, index) => argument === shared[index]);
  const own: PythonValue[] = isStage ? [...head, raw("*STAGE_ARGUMENTS")] : [...step.arguments];
  return [...own, ...(step.gpu?.podArguments ?? []), ...(step.checkpoint?.podArguments ?? [])];
}

/** has_candidate, approve, promote and reject from the approval plan (common/steps.py builds them). */
function renderApprovalTail(plan: DagPlan, step: StepPlan, imports: PythonImports): string {
  const approval = plan.approval;
  if (!approval) throw new TypeError("promote needs an approval plan");
  imports.from("datetime", "timedelta");
  const tail = pythonCall(
    "STEPS.approval_tail",
    {
      model: approval.model,
      champion_alias: approval.championAlias,
      candidate_alias: approval.candidateAlias,
      on_reject: approval.onReject,
      gate_metric: approval.gateMetric,
      response_timeout: pythonTimedelta(approval.timeoutSeconds),
      cpu: step.resources.cpu,
      memory: step.resources.memory,
    },
    "    ",
    [raw("register")],
  );
  return [
    "    # A registered candidate waits for a person (approve); the answer runs promote or reject.",
    `    has_candidate, approve, promote, reject = ${tail}`,
  ].join("\n");
}

function renderStep(step: StepPlan, plan: DagPlan, imports: PythonImports): string | undefined {
  if (step.taskId === "promote") return renderApprovalTail(plan, step, imports);
  if (step.taskId === "reject") return undefined; // built with promote by the approval tail
  if (step.taskId !== "features" || !plan.partitions) {
    return `    ${step.taskId} = ${pythonCall("STEPS.step", stepSettings(step, plan), "    ", [step.taskId, stepArguments(step, plan)])}`;
  }
  const listing = renderPartitionListing({ ...plan, partitions: plan.partitions }, imports);
  const mapped = pythonCall("STEPS.partial", stepSettings(step, plan), "    ", [step.taskId]);
  return [
    "    # One feature pod per date partition (dynamic task mapping); a retry redoes one date.",
    `    partitions = ${listing}`,
    `    features = ${mapped}.expand(arguments=partitions)`,
  ].join("\n");
}

export function renderKubernetesDag(plan: DagPlan, deployment: Deployment, imports: PythonImports): string {
  imports.from("__future__", "annotations");
  const constants = renderDagConstants(plan, deployment, imports, true);
  const pods = podConstants(plan, imports);
  const opening = renderDagOpening(plan, deployment.airflow.version, imports);
  const sensor = renderReadinessSensor(plan, imports);
  const steps = plan.steps.flatMap((step) => renderStep(step, plan, imports) ?? []);
  const order = taskOrder(plan, sensor !== undefined);
  return [constants, "", pods, "", opening, ...(sensor ? [sensor, ""] : []), steps.join("\n\n"), "", `    ${order.join(" >> ")}`, "", renderDeadlineSafeTest(imports)].join("\n");
}
