import { statSync } from "node:fs";
import path from "node:path";
import { DEFAULT_XCOM_PATH } from "../runtime/airflow.js";
import { UsageError } from "../core/errors.js";

// `--xcom` without a path means "the pod's XCom file": it is written only where Airflow's
// KubernetesPodOperator mounted its xcom folder. On a laptop that folder does not exist, and a
// bare --xcom must not create /airflow/xcom/return.json there: it is refused before any run.

export const XCOM_HELP = `write the summary as JSON for Airflow's KubernetesPodOperator: to <path>, or without one to ${DEFAULT_XCOM_PATH} (only where ${path.dirname(DEFAULT_XCOM_PATH)} exists, as in a pod)`;

export function xcomPathOf(option: string | boolean | undefined, xcomFile = DEFAULT_XCOM_PATH): string | undefined {
  if (!option) return undefined;
  if (option !== true) return option;
  const directory = path.dirname(xcomFile);
  const present = (() => {
    try {
      return statSync(directory).isDirectory();
    } catch {
      return false;
    }
  })();
  if (!present) throw new UsageError(`--xcom without a path writes ${xcomFile}, but ${directory} does not exist (it does in an Airflow pod): pass --xcom <file> to write the summary elsewhere`);
  return xcomFile;
}
