import path from "node:path";
import { writeFileAtomic } from "../core/fs-atomic.js";
import { AIRFLOW_DAG_ID_TAG, AIRFLOW_RUN_ID_TAG, AIRFLOW_TASK_ID_TAG, AIRFLOW_TRY_NUMBER_TAG } from "../tracking/tags.js";

// KubernetesPodOperator reads a task's return value from this file (do_xcom_push=True), and
// Airflow exports the task identity to the environment as AIRFLOW_CTX_*.
export const DEFAULT_XCOM_PATH = "/airflow/xcom/return.json";

export interface AirflowIdentity {
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber?: string;
}

export function airflowIdentityFromEnvironment(environment: NodeJS.ProcessEnv = process.env): AirflowIdentity | undefined {
  const dagId = environment.AIRFLOW_CTX_DAG_ID;
  const runId = environment.AIRFLOW_CTX_DAG_RUN_ID;
  const taskId = environment.AIRFLOW_CTX_TASK_ID;
  if (!dagId || !runId || !taskId) return undefined;
  return { dagId, runId, taskId, ...(environment.AIRFLOW_CTX_TRY_NUMBER ? { tryNumber: environment.AIRFLOW_CTX_TRY_NUMBER } : {}) };
}

/** The run key makes a retried task find its own run instead of creating a second one. */
export function defaultRunKey(identity: AirflowIdentity | undefined): string | undefined {
  return identity ? `${identity.dagId}/${identity.runId}` : undefined;
}

export function airflowTags(identity: AirflowIdentity | undefined): Record<string, string> {
  if (!identity) return {};
  return {
    [AIRFLOW_DAG_ID_TAG]: identity.dagId,
    [AIRFLOW_RUN_ID_TAG]: identity.runId,
    [AIRFLOW_TASK_ID_TAG]: identity.taskId,
    ...(identity.tryNumber ? { [AIRFLOW_TRY_NUMBER_TAG]: identity.tryNumber } : {}),
  };
}

export async function writeXcom(file: string, value: unknown): Promise<string> {
  const resolved = path.resolve(file);
  await writeFileAtomic(resolved, `${JSON.stringify(value)}\n`);
  return resolved;
}
