import { parseDurationSeconds } from "../core/duration.js";
import { deadlineModule, retryExponentialBackoff, timetableModule } from "./airflow-target.js";
import type { AirflowTarget, Deployment } from "./deployment.js";
import { PythonImports } from "./python-file.js";
import { call, pythonAssign, pythonCall, pythonValue, pythonString, pythonText, pythonTimedelta, raw, type PythonValue, type RawPython } from "./python-literal.js";
import type { DagPlan } from "./task-plan.js";

// The parts of a generated DAG file that do not depend on how steps run: module constants
// (timezone, doc, alert, deadline) and the DAG(...) call with its scheduling policy.

function seconds(duration: string): number {
  const value = parseDurationSeconds(duration);
  if (value === undefined) throw new TypeError(`not a duration: ${duration}`); // the spec schema already checked
  return value;
}

export function timedeltaOf(duration: string): RawPython {
  return pythonTimedelta(seconds(duration));
}

export function secondsOf(duration: string): number {
  return seconds(duration);
}

function docMarkdown(plan: DagPlan): string {
  const { spec } = plan;
  const orchestration = spec.orchestration;
  const readiness = orchestration.readiness;
  const trigger =
    readiness.kind === "asset"
      ? `Runs when the asset \`${readiness.uri}\` is updated (data-aware; the spec's time schedule \`${orchestration.schedule ?? "none"}\` is documentation only).`
      : readiness.kind === "external_task"
        ? `Scheduled \`${orchestration.schedule ?? "manual"}\` (${orchestration.timezone}); starts work only once \`${readiness.dag_id}${readiness.task_id ? `.${readiness.task_id}` : ""}\` succeeded for the same logical date (sensor, reschedule mode, timeout ${readiness.timeout}).`
        : `Scheduled \`${orchestration.schedule ?? "manual"}\` (${orchestration.timezone}).`;
  const lines = [
    `# ${spec.dag_id}`,
    "",
    spec.description,
    "",
    `- Spec: \`${plan.specFile}\` (experiment \`${spec.experiment}\`, registered model \`${spec.registered_model}\`).`,
    `- Trigger: ${trigger}`,
    `- Steps: ${taskOrder(plan, false).filter((id) => id !== "partitions" && id !== "has_candidate").map((id) => (id.startsWith("[") ? "`promote` | `reject`" : `\`${id}\``)).join(" -> ")}; each ${plan.approval ? "step but \`approve\`" : "step"} runs \`train\` in its own pod, the fit run id travels by XCom.`,
    `- Gate: registers only when \`${spec.gate.metric}\` ${spec.gate.direction === "maximize" ? ">=" : "<="} ${spec.gate.threshold}${spec.gate.compare_to_champion ? " and beats the champion" : ""}; the \`${spec.registry.champion_alias}\` alias ${spec.registry.auto_promote ? "moves automatically" : "moves only after an explicit approval"}.`,
    `- Lateness deadline: ${orchestration.deadline} after the run is queued; failures and misses alert the on-call webhook.`,
  ];
  if (plan.approval) {
    lines.push(
      `- Approval: when a candidate was registered, \`approve\` waits up to ${spec.registry.approval_timeout} for a person (Airflow UI, Required actions);`,
      `  Approve runs \`promote\` (\`train promote\`, the reviewer as approver); Reject runs \`reject\` (\`train reject\`: rejection tags, candidate alias ${plan.spec.registry.on_reject === "clear_candidate" ? "cleared" : "kept"});`,
      "  the timeout fails `approve` (alerted) and both are skipped. Either way but Approve, the champion stays.",
    );
  }
  if (plan.partitions) {
    lines.push(
      `- Partitions: one feature pod per trading date in the data interval (at most ${plan.partitions.maxParallel} at once, ${plan.partitions.maxPartitions} per run).`,
      "  Backfill a range in one run (one retrain, not one per day) by triggering with params `partition_from` / `partition_to`;",
      `  or per interval: \`airflow backfill create --dag-id ${spec.dag_id} --from-date YYYY-MM-DD --to-date YYYY-MM-DD\` (max_active_runs=${orchestration.max_active_runs}).`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The MLflow UI as a reviewer reaches it: the config's ui_url, else the tracking URI. */
export function mlflowUiUrl(deployment: Deployment): string {
  return (deployment.mlflow.ui_url ?? deployment.mlflow.tracking_uri).replace(/\/+$/, "");
}

function approvalMarkdown(plan: DagPlan, deployment: Deployment): string {
  const approval = plan.approval;
  if (!approval) return "";
  const ui = mlflowUiUrl(deployment);
  return [
    "{% set r = ti.xcom_pull(task_ids='register') %}",
    `**Model** \`${approval.model}\` version **{{ r['registered_version'] }}** (alias \`${approval.candidateAlias}\`)`,
    "",
    `**Gate** \`${approval.gateMetric}\` = {{ r['metrics']['${approval.gateMetric}'] }}: {{ r['gate_reason'] }}`,
    "",
    `**MLflow run** [{{ r['run_id'] }}](${ui}/#/experiments/{{ r['experiment_id'] }}/runs/{{ r['run_id'] }})`,
    "",
    "**Data and code versions**: the version's tags `data.version`, `mlflow.source.git.commit` and `podtrain.image`.",
    "",
    `Approve: \`${approval.championAlias}\` moves to this version (\`train promote\`, your comment is the recorded reason). Reject: the champion stays, the version is tagged as rejected with your comment.`,
    "",
  ].join("\n");
}

/** The settings the alert callbacks take (deployment config `alerts`). */
export function alertSettings(deployment: Deployment): Record<string, PythonValue> {
  return { connection_id: deployment.alerts.connection_id, fallback_env: deployment.alerts.fallback_env };
}

/**
 * Module-level constants of a DAG file; returns Python source. `shared`: the alert and deadline
 * wiring comes from the generated dags/common/deployment.py (Kubernetes target) instead of
 * being written out in the file (local target, which runs with any checkout's dags/common).
 */
export function renderDagConstants(plan: DagPlan, deployment: Deployment, imports: PythonImports, shared = false): string {
  const orchestration = plan.spec.orchestration;
  imports.module("pendulum").from("datetime", "timedelta");
  const common = [
    `TIMEZONE = pendulum.timezone(${pythonString(orchestration.timezone)})`,
    "",
    `DOC_MD = ${pythonText(docMarkdown(plan))}`,
    // The Kubernetes target's approval tail (common/steps.py) writes the reviewer's text itself.
    ...(plan.approval && !shared ? ["", "# What the reviewer sees in the approve task (Airflow renders the templates).", `APPROVAL_MD = ${pythonText(approvalMarkdown(plan, deployment))}`] : []),
  ];
  const comment = [
    "",
    "# Queued-at, not logical date: a run is late relative to when it could start (catch-up and",
    "# backfill runs have old logical dates). The callback runs in the triggerer.",
  ];
  if (shared) {
    imports.from("common.deployment", "ON_FAILURE", "lateness_deadline");
    // lateness_deadline() in common/deployment.py says what the deadline measures.
    return [...common, "", `LATENESS_DEADLINE = lateness_deadline(${pythonString(plan.spec.dag_id)}, ${pythonValue(timedeltaOf(orchestration.deadline))}, ${pythonString(orchestration.deadline)})`].join("\n");
  }
  imports.from("common.alerts", "FailureAlert", "deadline_missed");
  imports.from(deadlineModule(deployment.airflow.version), "AsyncCallback", "DeadlineAlert", "DeadlineReference");
  return [
    ...common,
    "",
    "# Posts to the alert webhook when a task has failed for good (after its retries) or the run failed.",
    pythonAssign("ON_FAILURE", call("FailureAlert", alertSettings(deployment))),
    ...comment,
    pythonAssign(
      "LATENESS_DEADLINE",
      call("DeadlineAlert", {
        reference: raw("DeadlineReference.DAGRUN_QUEUED_AT"),
        interval: timedeltaOf(orchestration.deadline),
        callback: call("AsyncCallback", { kwargs: { ...alertSettings(deployment), dag_id: plan.spec.dag_id, deadline: orchestration.deadline } }, [raw("deadline_missed")]),
      }),
    ),
  ].join("\n");
}

function scheduleOf(plan: DagPlan, target: AirflowTarget, imports: PythonImports): PythonValue {
  const orchestration = plan.spec.orchestration;
  if (orchestration.readiness.kind === "asset") {
    imports.from("airflow.sdk", "Asset");
    return [raw(`Asset(${pythonString(orchestration.readiness.uri)})`)];
  }
  if (orchestration.schedule === null) return null;
  // Data-interval timetable: `train` arguments are templated from the interval a run covers.
  imports.from(timetableModule(target), "CronDataIntervalTimetable");
  return raw(`CronDataIntervalTimetable(${pythonString(orchestration.schedule)}, timezone=TIMEZONE)`);
}

/** The `with DAG(...) as dag:` line and its arguments. */
export function renderDagOpening(plan: DagPlan, target: AirflowTarget, imports: PythonImports): string {
  const { spec } = plan;
  const orchestration = spec.orchestration;
  imports.from("airflow.sdk", "DAG");
  const [year, month, day] = orchestration.start_date.split("-").map(Number);
  const params = plan.partitions
    ? {
        partition_from: call("Param", { type: ["null", "string"], format: "date", description: "First partition date of a range run" }, [null]),
        partition_to: call("Param", { type: ["null", "string"], format: "date", description: "Last partition date of a range run" }, [null]),
      }
    : undefined;
  if (params) imports.from("airflow.sdk", "Param");
  const dagArguments: Record<string, PythonValue> = {
    dag_id: spec.dag_id,
    description: spec.description,
    doc_md: raw("DOC_MD"),
    schedule: scheduleOf(plan, target, imports),
    start_date: raw(`pendulum.datetime(${year}, ${month}, ${day}, tz=TIMEZONE)`),
    catchup: orchestration.catchup,
    max_active_runs: orchestration.max_active_runs,
    max_active_tasks: orchestration.max_active_tasks,
    dagrun_timeout: timedeltaOf(orchestration.dagrun_timeout),
    deadline: raw("LATENESS_DEADLINE"),
    // Run-level too: a dagrun_timeout fails the run without a task failing for good.
    on_failure_callback: raw("ON_FAILURE"),
    tags: [...orchestration.tags],
    params,
    default_args: {
      owner: orchestration.owner,
      queue: orchestration.queue,
      priority_weight: orchestration.priority_weight,
      // Absolute: the spec's number is the task's priority, not a sum over downstream tasks.
      weight_rule: "absolute",
      retries: orchestration.retries,
      retry_delay: timedeltaOf(orchestration.retry_delay),
      // Airflow 3.3 takes a multiplier here (2.0 doubles the delay each retry, 0 keeps it constant), 3.1 a bool.
      retry_exponential_backoff: retryExponentialBackoff(target, orchestration.retry_exponential_backoff),
      max_retry_delay: timedeltaOf(orchestration.max_retry_delay),
      execution_timeout: timedeltaOf(orchestration.execution_timeout),
      on_failure_callback: raw("ON_FAILURE"),
    },
  };
  return `with ${pythonCall("DAG", dagArguments)} as dag:`;
}

/** The readiness sensor task, or undefined when the spec has none (or uses an asset schedule). */
export function renderReadinessSensor(plan: DagPlan, imports: PythonImports): string | undefined {
  const readiness = plan.spec.orchestration.readiness;
  if (readiness.kind !== "external_task") return undefined;
  imports.from("airflow.providers.standard.sensors.external_task", "ExternalTaskSensor");
  const sensor = pythonCall(
    "ExternalTaskSensor",
    {
      task_id: "wait_for_data",
      external_dag_id: readiness.dag_id,
      external_task_id: readiness.task_id,
      allowed_states: ["success"],
      failed_states: ["failed", "upstream_failed"],
      // Reschedule mode frees the worker slot between pokes; the timeout bounds the wait.
      mode: "reschedule",
      poke_interval: secondsOf(readiness.poke_interval),
      timeout: secondsOf(readiness.timeout),
      pool: plan.cpuPool,
      retries: 0,
    },
    "    ",
  );
  return `    wait_for_data = ${sensor}`;
}

/**
 * The task listing the date partitions of a run (tick): both targets map their feature step over
 * it; `extra` carries what only one target needs (the local shell prefix).
 */
export function renderPartitionListing(plan: DagPlan & { partitions: NonNullable<DagPlan["partitions"]> }, imports: PythonImports, extra: Record<string, PythonValue> = {}): string {
  const partitions = plan.partitions;
  imports.from("common.partitions", "partition_arguments");
  return pythonCall(
    `partition_arguments.override(task_id="partitions", pool=${pythonValue(plan.cpuPool)})`,
    {
      base_arguments: partitions.baseArguments,
      first_date: partitions.firstDate,
      last_date: partitions.lastDate,
      weekdays: partitions.weekdays ?? null,
      max_partitions: partitions.maxPartitions,
      ...extra,
    },
    "    ",
  );
}

/**
 * The module-level line after the DAG: `dag.test()` and `airflow dags test` of Airflow 3.3
 * cannot finish a DAG with a deadline alert (dags/common/deadlines.py says why); the wrapper
 * fixes test() for this DAG object only, the scheduler's view is unchanged.
 */
export function renderDeadlineSafeTest(imports: PythonImports): string {
  imports.from("common.deadlines", "deadline_safe_test");
  return [
    "# dag.test() / `airflow dags test` of Airflow 3.3 leave a DAG run with a deadline alert \"running\"",
    "# after it succeeded (common/deadlines.py says why); this fixes test() only.",
    "deadline_safe_test(dag)",
  ].join("\n");
}

/**
 * The approval tasks before `promote` and `reject`: has_candidate (skips the tail when the gate
 * did not pass) and approve (human in the loop, waits without a worker slot, branches to the
 * step the person chose, times out into a failure alert).
 */
export function renderApprovalTasks(plan: DagPlan, imports: PythonImports): string {
  const approval = plan.approval;
  if (!approval) throw new TypeError("renderApprovalTasks needs an approval plan");
  imports.from("common.approval", "ApproveOrReject", "candidate_registered").from("airflow.sdk", "Param");
  const check = `candidate_registered.override(task_id="has_candidate", pool=${pythonValue(plan.cpuPool)})(register.output)`;
  const approve = pythonCall(
    "ApproveOrReject",
    {
      task_id: "approve",
      subject: `Promote ${approval.model} version {{ ti.xcom_pull(task_ids='register')['registered_version'] }} to ${approval.championAlias}?`,
      body: raw("APPROVAL_MD"),
      options_mapping: { Approve: "promote", Reject: "reject" },
      params: { reason: call("Param", { type: "string", description: "Your reason (recorded on the model version)" }, [""]) },
      response_timeout: pythonTimedelta(approval.timeoutSeconds),
      pool: plan.cpuPool,
      // Asking again after a timeout is a new decision, not a retry.
      retries: 0,
    },
    "    ",
  );
  return [`    # Only a registered candidate is put to a person; the answer runs promote or reject.`, `    has_candidate = ${check}`, "", `    approve = ${approve}`].join("\n");
}

/** Task ids in dependency order; the approval tasks go just before the branches promote and reject. */
export function taskOrder(plan: DagPlan, hasSensor: boolean): string[] {
  const steps = plan.steps.flatMap((step) => (step.taskId === "promote" ? ["has_candidate", "approve", "[promote, reject]"] : step.taskId === "reject" ? [] : [step.taskId]));
  return [...(hasSensor ? ["wait_for_data"] : []), ...(plan.partitions ? ["partitions"] : []), ...steps];
}
