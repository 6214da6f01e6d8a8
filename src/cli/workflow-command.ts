import path from "node:path";
import { Command, Option } from "commander";
import { STAGES, runWorkflow, type RunSummary, type Stage } from "../runtime/run.js";
import { writeXcom } from "../runtime/airflow.js";
import { createReporter, type LogFormat } from "../runtime/reporter.js";
import { loadSpecFile, parseParams, specPathFor } from "../config/load.js";
import { UsageError } from "../core/errors.js";
import { openTrackingStore } from "../tracking/resolve.js";
import type { WorkflowDefinition } from "../workflows/types.js";
import { DEFAULT_GRACE_PERIOD_SECONDS } from "../runtime/signals.js";
import { numberFlag } from "./flag-parsers.js";
import { isObjectStoreUri } from "../data/object-store/uri.js";
import { addParamOptions, paramOverrides } from "./param-options.js";
import { formatSummaryText, summaryObject, useColour } from "./run-summary.js";
import { XCOM_HELP, xcomPathOf } from "./xcom-option.js";
import { resolveSpecFile } from "./project-dir.js";

interface CommonOptions {
  spec?: string;
  trackingUri?: string;
  runKey?: string;
  runId?: string;
  runName?: string;
  stage: Stage;
  register: boolean;
  xcom?: string | boolean;
  logFormat: LogFormat;
  gracePeriod: number;
  checkpointDir?: string;
  quiet?: boolean;
  verbose?: boolean;
}

export function registerWorkflowCommand(program: Command, definition: WorkflowDefinition): Command {
  const command = program
    .command(definition.name)
    .description(definition.summary)
    // Flags after a subcommand (validate, features…) belong to the subcommand.
    .enablePositionalOptions()
    .option("--spec <file>", `workflow spec (default: models/${definition.registeredModel}.yaml)`)
    .option("--tracking-uri <uri>", "MLflow tracking server (http…) or local folder (default: $MLFLOW_TRACKING_URI, else ./mlruns)")
    .option("--run-key <key>", "idempotency key: a run with the same key is continued, not duplicated (default: from Airflow's AIRFLOW_CTX_* variables)")
    .option("--run-id <id>", "continue this MLflow run (default: $MLFLOW_RUN_ID, which the DAGs set for evaluate and register)")
    .option("--run-name <name>", "MLflow run name")
    .addOption(new Option("--stage <stage>", "part of the flow to run (DAG steps run one each)").choices(STAGES).default("all"))
    .option("--no-register", "skip the registration gate")
    .option("--xcom [path]", XCOM_HELP)
    .addOption(new Option("--grace-period <seconds>", "on SIGTERM/SIGINT: stop at the next step, checkpoint, mark the run KILLED and exit within this many seconds (keep it below the pod's terminationGracePeriodSeconds)").argParser(numberFlag({ exclusiveMinimum: 0 })).default(DEFAULT_GRACE_PERIOD_SECONDS))
    .option("--checkpoint-dir <dir>", "write training checkpoints to <dir>/<run id>/ (a mounted volume, or s3://bucket/prefix) instead of the run's MLflow artifacts (checkpoints/)")
    .addOption(new Option("--log-format <format>", "stderr log lines for people (pretty) or one JSON object per line (json; the summary on stdout is then JSON too); auto: pretty on a terminal").choices(["auto", "pretty", "json"]).default("auto"))
    .addOption(new Option("--quiet", "only warnings and errors on stderr, no progress bar (the summary still goes to stdout)").conflicts("verbose"))
    .option("--verbose", "debug lines, and TensorFlow's own native log (silenced by default)");
  addParamOptions(command, definition.paramsSchema);
  registerValidateCommand(command, definition);
  command.action(async (options: CommonOptions & Record<string, unknown>) => {
    const started = performance.now();
    const summary = await trainCommand(definition, options);
    const facts = { summary, wallSeconds: (performance.now() - started) / 1000 };
    process.stdout.write(options.logFormat === "json" ? `${JSON.stringify(summaryObject(facts))}\n` : formatSummaryText(facts, useColour(process.stdout)));
  });
  return command;
}

function registerValidateCommand(parent: Command, definition: WorkflowDefinition): void {
  const validate = parent
    .command("validate")
    .description(`read and check the ${definition.name} input data without training (prints the data version as JSON)`)
    .option("--spec <file>", `workflow spec (default: models/${definition.registeredModel}.yaml)`)
    .option("--xcom [path]", XCOM_HELP);
  addParamOptions(validate, definition.paramsSchema, { dataOnly: true });
  validate.action(async (options: { spec?: string; xcom?: string | boolean } & Record<string, unknown>) => {
    const result = await validateCommand(definition, options);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  });
}

export async function validateCommand(definition: WorkflowDefinition, options: { spec?: string; xcom?: string | boolean } & Record<string, unknown>): Promise<Record<string, string | number>> {
  const loaded = await loadSpecFile(options.spec ? resolveSpecFile(options.spec) : specPathFor(definition.registeredModel));
  const params = parseParams(loaded, definition.paramsSchema, paramOverrides(options, definition.paramsSchema)) as Record<string, unknown>;
  const module = await definition.load();
  if (!module.validate) throw new UsageError(`train ${definition.name} has no separate validate step: its data is checked when it trains`);
  const xcomPath = xcomPathOf(options.xcom);
  const result = validateResult(await module.validate(params, createReporter("auto")));
  if (xcomPath) await writeXcom(xcomPath, result);
  return result;
}

/**
 * One shape for every workflow's validate output: snake_case keys (`data.version` is
 * `data_version`) and counts as JSON numbers; versions and hashes stay strings.
 */
export function validateResult(raw: Record<string, string | number>): Record<string, string | number> {
  return Object.fromEntries(
    Object.entries(raw).map(([key, value]) => {
      const name = key.replaceAll(".", "_");
      const numeric = typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value) && !/version|hash|sha256|_id$/.test(name);
      return [name, numeric ? Number(value) : value];
    }),
  );
}

export async function trainCommand(definition: WorkflowDefinition, options: CommonOptions & Record<string, unknown>): Promise<RunSummary> {
  const loaded = await loadSpecFile(options.spec ? resolveSpecFile(options.spec) : specPathFor(definition.registeredModel));
  if (loaded.spec.workflow !== definition.name) {
    throw new UsageError(`${loaded.file} is a spec for "train ${loaded.spec.workflow}", not "train ${definition.name}"`);
  }
  const params = parseParams(loaded, definition.paramsSchema, paramOverrides(options, definition.paramsSchema)) as Record<string, unknown>;
  const xcomPath = xcomPathOf(options.xcom);
  // Before TensorFlow loads: --verbose shows its own INFO log (src/tf/backend.ts keeps a choice made here).
  if (options.verbose) process.env.TF_CPP_MIN_LOG_LEVEL ??= "0";
  const reporter = createReporter(options.logFormat, process.stderr, { ...(options.quiet ? { quiet: true } : {}), ...(options.verbose ? { verbose: true } : {}) });
  const store = await openTrackingStore(options.trackingUri);
  return runWorkflow({
    definition,
    loaded,
    params,
    store,
    reporter,
    stage: options.stage,
    register: options.register,
    gracePeriodSeconds: options.gracePeriod,
    ...(options.checkpointDir ? { checkpointDirectory: isObjectStoreUri(options.checkpointDir) ? options.checkpointDir : path.resolve(options.checkpointDir) } : {}),
    ...(options.runKey ? { runKey: options.runKey } : {}),
    ...((options.runId ?? process.env.MLFLOW_RUN_ID) ? { runId: options.runId ?? process.env.MLFLOW_RUN_ID } : {}),
    ...(options.runName ? { runName: options.runName } : {}),
    ...(xcomPath ? { xcomPath } : {}),
  });
}
