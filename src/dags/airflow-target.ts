import type { AirflowTarget } from "./deployment.js";
import { raw, type RawPython } from "./python-literal.js";

// What moved between the Airflow minors the generator targets (deployment config
// `airflow.version`), checked against the pinned releases (3.3.2 in .venv/airflow, 3.1.8):
// - Deadline alerts (new in 3.1): in `airflow.sdk.definitions.deadline` on 3.1, exported from
//   `airflow.sdk` since; the old path is not what 3.3's docs use.
// - CronDataIntervalTimetable: only in `airflow.timetables.interval` on 3.1; in `airflow.sdk` on 3.3.
// - retry_exponential_backoff: a bool on 3.1, a multiplier (float, 0 = off) on 3.3.
// - Human in the loop (standard provider): on 3.1 the task defers to the triggerer, which must
//   run; on 3.3 it waits in AWAITING_INPUT and the scheduler enforces the timeout. The DAG code
//   is the same; only the deployment's processes differ.

export function deadlineModule(target: AirflowTarget): string {
  return target === "3.1" ? "airflow.sdk.definitions.deadline" : "airflow.sdk";
}

export function timetableModule(target: AirflowTarget): string {
  return target === "3.1" ? "airflow.timetables.interval" : "airflow.sdk";
}

export function retryExponentialBackoff(target: AirflowTarget, enabled: boolean): RawPython {
  if (target === "3.1") return raw(enabled ? "True" : "False");
  // A multiplier: 2.0 doubles the delay each retry, 0 keeps it constant.
  return raw(enabled ? "2.0" : "0");
}
