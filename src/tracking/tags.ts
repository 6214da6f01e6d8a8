import type { CodeVersion } from "../core/code-version.js";

// Every MLflow tag name podtrain writes or reads, in one place: the DAGs, the registry lineage,
// `train promote` and people's queries in the MLflow UI all key on these strings, so a rename
// here is a visible change, not a typo in one file. Names mirror MLflow's own where one exists.

/** MLflow's own tags (mlflow.utils.mlflow_tags): the UI shows them as the run's source and name. */
export const MLFLOW_RUN_NAME_TAG = "mlflow.runName";
export const MLFLOW_USER_TAG = "mlflow.user";
export const MLFLOW_SOURCE_TYPE_TAG = "mlflow.source.type";
export const MLFLOW_SOURCE_NAME_TAG = "mlflow.source.name";
export const MLFLOW_GIT_COMMIT_TAG = "mlflow.source.git.commit";

/** Code version (core/code-version.ts, codeVersionTags below). */
export const VERSION_TAG = "podtrain.version";
export const GIT_DIRTY_TAG = "podtrain.git_dirty";
export const IMAGE_TAG = "podtrain.image";

/** What ran: the workflow, its spec file, and (benchmarks) what kind of run it is. */
export const WORKFLOW_TAG = "podtrain.workflow";
export const SPEC_TAG = "podtrain.spec";
export const KIND_TAG = "podtrain.kind";

/** Exactly-once runs (runtime/run-ownership.ts): the run key, the owning attempt's lease, the last failure. */
export const RUN_KEY_TAG = "podtrain.run_key";
export const LEASE_OWNER_TAG = "podtrain.lease.owner";
export const LEASE_HEARTBEAT_TAG = "podtrain.lease.heartbeat";
export const ERROR_TAG = "podtrain.error";
/** The REST store's idempotency key for run creation: a retried create finds the run it made. */
export const CREATE_REQUEST_TAG = "podtrain.create_request_id";

/** Stage bookkeeping (runtime/run.ts): stages done, fit epochs already logged, the checkpoint resumed from. */
export const STAGES_DONE_TAG = "podtrain.stages_done";
export const EPOCHS_LOGGED_TAG = "podtrain.fit.epochs_logged";
export const RESUMED_FROM_TAG = "podtrain.resumed_from";
/** How the TensorFlow steps ran (graph or eager) and, after a fallback to eager, why. */
export const EXECUTION_TAG = "podtrain.execution";
export const EXECUTION_FALLBACK_TAG = "podtrain.execution_fallback";

/** The MLflow logged model of the run's `model` artifact. */
export const LOGGED_MODEL_TAG = "podtrain.logged_model_id";
/** On a logged model: the registered versions made from it (mlflow.utils.mlflow_tags.MLFLOW_MODEL_VERSIONS). */
export const MLFLOW_MODEL_VERSIONS_TAG = "mlflow.modelVersions";

/** The registration gate's verdict, on the run and on the model version. */
export const GATE_PASSED_TAG = "podtrain.gate.passed";
export const GATE_REASON_TAG = "podtrain.gate.reason";
export const GATE_METRIC_TAG = "podtrain.gate.metric";
export const GATE_VALUE_TAG = "podtrain.gate.value";

/** Promotion audit on model versions (runtime/promote.ts, runtime/registration.ts). */
export const PROMOTED_BY_TAG = "podtrain.promoted_by";
export const PROMOTION_TAG_PREFIX = "podtrain.promotion";
export const SUPERSEDED_BY_TAG = "podtrain.superseded_by";
/** The latest promotion's audit entry (JSON), beside the timestamped ones. */
export const PROMOTION_LATEST_TAG = `${PROMOTION_TAG_PREFIX}.latest`;

/** Rejection audit on model versions (runtime/reject.ts). */
/** Who rejected the version (the reviewer's Airflow user name, or the OS user by hand). */
export const REJECTED_BY_TAG = "podtrain.rejected_by";
/** The reviewer's comment. */
export const REJECTION_REASON_TAG = "podtrain.rejection_reason";
/** ISO 8601 time of the rejection. */
export const REJECTED_AT_TAG = "podtrain.rejected_at";
/** JSON {dag_id, run_id, task_id, try_number} of the Airflow task that recorded the rejection. */
export const REJECTION_AIRFLOW_TAG = "podtrain.rejection.airflow";

/** Stage-scoped facts (`podtrain.<stage>.device`, `podtrain.evaluate.data_version`, …). */
export function stageTag(stage: string, name: string): string {
  return `podtrain.${stage}.${name}`;
}

/**
 * Data tags: `data.version` is every workflow's data fingerprint (the registry lineage and the DAG
 * docs point at it); the other `data.*` names describe one workflow's inputs and live with it.
 */
export const DATA_TAG_PREFIX = "data.";
export const DATA_VERSION_TAG = "data.version";

/** The Airflow task a run was made by (runtime/airflow.ts). */
export const AIRFLOW_TAG_PREFIX = "airflow.";
export const AIRFLOW_DAG_ID_TAG = "airflow.dag_id";
export const AIRFLOW_RUN_ID_TAG = "airflow.run_id";
export const AIRFLOW_TASK_ID_TAG = "airflow.task_id";
export const AIRFLOW_TRY_NUMBER_TAG = "airflow.try_number";

/** The tags MLflow's UI shows for code version, plus ours. */
export function codeVersionTags(version: CodeVersion): Record<string, string> {
  return {
    [VERSION_TAG]: version.packageVersion,
    ...(version.gitSha ? { [MLFLOW_GIT_COMMIT_TAG]: version.gitSha } : {}),
    ...(version.gitDirty === undefined ? {} : { [GIT_DIRTY_TAG]: String(version.gitDirty) }),
    ...(version.imageTag ? { [IMAGE_TAG]: version.imageTag } : {}),
  };
}
