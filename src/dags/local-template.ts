import type { Deployment } from "./deployment.js";
import { renderApprovalTasks, renderDagConstants, renderDagOpening, renderDeadlineSafeTest, renderPartitionListing, renderReadinessSensor, taskOrder } from "./dag-definition.js";
import { PythonImports } from "./python-file.js";
import { pythonCall, pythonValue, raw, type PythonValue } from "./python-literal.js";
import type { DagPlan, StepPlan } from "./task-plan.js";

// The local target (`dags generate --target local`): the same DAGs, but each step is a
// BashOperator running the built CLI (`node bin/train.js …`) in a checkout, so
// `airflow dags test` exercises the real orchestration on a laptop without Kubernetes.

const FIT_RUN_ID = "{{ ti.xcom_pull(task_ids='fit')['run_id'] }}";
export const LOCAL_TRAIN_COMMAND = ["node", "bin/train.js"];

/** POSIX shell quoting; Airflow templates inside quotes still render (Jinja runs first). */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * `train promote` with the reviewer's name and comment from the environment: they are free text
 * a person typed, so they never become part of the shell command (no quoting to escape).
 */
function promoteCommand(plan: DagPlan): { command: string; env: Record<string, string> } {
  const approval = plan.approval;
  if (!approval) throw new TypeError("promote needs an approval plan");
  const train = [...LOCAL_TRAIN_COMMAND, "promote", approval.model].map(shellQuote).join(" ");
  return {
    command: `set -euo pipefail; ${train} "$PODTRAIN_PROMOTE_VERSION" --alias ${shellQuote(approval.championAlias)} --reason "$PODTRAIN_PROMOTE_REASON"`,
    // PODTRAIN_APPROVER is train promote's own default for --approver.
    env: { PODTRAIN_PROMOTE_VERSION: approval.version, PODTRAIN_APPROVER: approval.approver, PODTRAIN_PROMOTE_REASON: approval.reason },
  };
}

/** `train reject` the same way: the reviewer's name and comment stay out of the command line. */
function rejectCommand(plan: DagPlan): { command: string; env: Record<string, string> } {
  const approval = plan.approval;
  if (!approval) throw new TypeError("reject needs an approval plan");
  const train = [...LOCAL_TRAIN_COMMAND, "reject", approval.model].map(shellQuote).join(" ");
  const flags = ["--candidate-alias", approval.candidateAlias, "--on-reject", approval.onReject].map(shellQuote).join(" ");
  return {
    command: `set -euo pipefail; ${train} "$PODTRAIN_REJECT_VERSION" ${flags} --rejected-by "$PODTRAIN_REVIEWER" --reason "$PODTRAIN_REJECT_REASON"`,
    env: { PODTRAIN_REJECT_VERSION: approval.version, PODTRAIN_REVIEWER: approval.approver, PODTRAIN_REJECT_REASON: approval.rejectReason },
  };
}

function bashCommand(step: StepPlan, plan: DagPlan): string {
  if (step.taskId === "promote") return promoteCommand(plan).command;
  if (step.taskId === "reject") return rejectCommand(plan).command;
  // The spec the DAG was generated from, so a checkout's own models/ drive the local run.
  const train = [...LOCAL_TRAIN_COMMAND, ...step.arguments, "--spec", plan.specFile].map(shellQuote).join(" ");
  if (!step.pushesXcom) return `set -euo pipefail; ${train}`;
  // `--xcom` writes the result file; only its JSON goes to stdout, which BashOperator pushes.
  return `set -euo pipefail; xcom="$(mktemp)"; trap 'rm -f "$xcom"' EXIT; ${train.replace(" --xcom", ' --xcom "$xcom"')} 1>&2; cat "$xcom"`;
}

function bashArguments(step: StepPlan, plan: DagPlan): Record<string, PythonValue> {
  return {
    task_id: step.taskId,
    bash_command: step.taskId === "features" ? undefined : bashCommand(step, plan),
    cwd: raw("REPOSITORY"),
    env: step.taskId === "promote" ? promoteCommand(plan).env : step.taskId === "reject" ? rejectCommand(plan).env : step.readsFitRun ? { MLFLOW_RUN_ID: FIT_RUN_ID } : undefined,
    append_env: true,
    pool: step.pool,
    max_active_tis_per_dagrun: step.taskId === "features" ? plan.partitions?.maxParallel : undefined,
    do_xcom_push: step.pushesXcom,
    output_processor: step.pushesXcom ? raw("json.loads") : undefined,
  };
}

function renderStep(step: StepPlan, plan: DagPlan, imports: PythonImports): string {
  imports.from("airflow.providers.standard.operators.bash", "BashOperator");
  if (step.pushesXcom) imports.module("json");
  if (step.taskId === "promote") {
    return [renderApprovalTasks(plan, imports), "", `    promote = ${pythonCall("BashOperator", bashArguments(step, plan), "    ")}`].join("\n");
  }
  if (step.taskId !== "features" || !plan.partitions) {
    return `    ${step.taskId} = ${pythonCall("BashOperator", bashArguments(step, plan), "    ")}`;
  }
  const listing = renderPartitionListing({ ...plan, partitions: plan.partitions }, imports, { shell_prefix: LOCAL_TRAIN_COMMAND });
  return [
    `    partitions = ${listing}`,
    `    features = ${pythonCall("BashOperator.partial", bashArguments(step, plan), "    ")}.expand(bash_command=partitions)`,
  ].join("\n");
}

export function renderLocalDag(plan: DagPlan, deployment: Deployment, imports: PythonImports, repositoryRoot: string): string {
  imports.from("__future__", "annotations");
  const constants = renderDagConstants(plan, deployment, imports);
  const opening = renderDagOpening(plan, deployment.airflow.version, imports);
  const sensor = renderReadinessSensor(plan, imports);
  const steps = plan.steps.map((step) => renderStep(step, plan, imports));
  const order = taskOrder(plan, sensor !== undefined);
  return [
    constants,
    "",
    "# The checkout whose built CLI (npm run build) the steps run.",
    `REPOSITORY = ${pythonValue(repositoryRoot)}`,
    "",
    opening,
    ...(sensor ? [sensor, ""] : []),
    steps.join("\n\n"),
    "",
    `    ${order.join(" >> ")}`,
    "",
    renderDeadlineSafeTest(imports),
  ].join("\n");
}
