import path from "node:path";
import { writeFileAtomic } from "../core/fs-atomic.js";

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
    "airflow.dag_id": identity.dagId,
    "airflow.run_id": identity.runId,
    "airflow.task_id": identity.taskId,
    ...(identity.tryNumber ? { "airflow.try_number": identity.tryNumber } : {}),
  };
}

export async function writeXcom(file: string, value: unknown): Promise<string> {
  const resolved = path.resolve(file);
  await writeFileAtomic(resolved, `${JSON.stringify(value)}\n`);
  return resolved;
}
