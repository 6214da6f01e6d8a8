// Stands in for bin/train.js in orchestration tests: records each call (arguments and the
// Airflow/MLflow environment it got) and answers --xcom like the real `train` does.
import { appendFileSync, writeFileSync } from "node:fs";

const args = process.argv.slice(2);
const call = {
  args,
  mlflowRunId: process.env.MLFLOW_RUN_ID ?? null,
  dagId: process.env.AIRFLOW_CTX_DAG_ID ?? null,
  dagRunId: process.env.AIRFLOW_CTX_DAG_RUN_ID ?? null,
  taskId: process.env.AIRFLOW_CTX_TASK_ID ?? null,
};
appendFileSync(new URL("../calls.jsonl", import.meta.url), `${JSON.stringify(call)}\n`);
const xcom = args.indexOf("--xcom");
if (xcom >= 0) {
  const result = { run_id: "stub-run-1", experiment_id: "1", metrics: { test_accuracy: 0.99 }, gate_passed: true };
  writeFileSync(args[xcom + 1], JSON.stringify(result));
}
