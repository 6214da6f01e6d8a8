import { AIRFLOW_TAG_PREFIX, DATA_VERSION_TAG, ERROR_TAG, IMAGE_TAG, RUN_KEY_TAG, SPEC_TAG, STAGES_DONE_TAG, VERSION_TAG, WORKFLOW_TAG } from "../tracking/tags.js";
import { Option, type Command } from "commander";
import { UsageError } from "../core/errors.js";
import { displayMetric } from "../runtime/gate.js";
import { openExistingTrackingStore } from "../tracking/existing-store.js";
import { MlflowRequestError } from "../tracking/rest/http-client.js";
import { RUN_STATUSES, type RunInfo, type RunStatus, type TrackingStore } from "../tracking/store.js";
import { numberFlag } from "./flag-parsers.js";
import { groupMetrics } from "./run-summary.js";
import { formatSeconds, formatTable, formatTime, outputFormatOption, type OutputFormat } from "./table.js";

// `train runs list|show`: the runs of the local store or an MLflow server without opening the
// MLflow UI; the same commands and output against either.

const TRACKING_HELP = "MLflow tracking server (http…) or local folder (default: $MLFLOW_TRACKING_URI, else ./mlruns)";
const DEFAULT_LIMIT = 20;

interface ListOptions {
  experiment?: string;
  status?: RunStatus;
  limit: number;
  trackingUri?: string;
  format: OutputFormat;
}

export function registerRunsCommand(program: Command): void {
  const runs = program.command("runs").description("list and inspect tracked runs (local ./mlruns or an MLflow server)");
  runs
    .command("list")
    .description("the newest runs first, with status, start time (UTC) and duration")
    .option("--experiment <name>", "only this experiment (default: all)")
    .addOption(new Option("--status <status>", "only runs in this state").choices(RUN_STATUSES))
    .addOption(new Option("--limit <n>", "at most this many runs").argParser(numberFlag({ integer: true, exclusiveMinimum: 0 })).default(DEFAULT_LIMIT))
    .option("--tracking-uri <uri>", TRACKING_HELP)
    .addOption(outputFormatOption())
    .action(async (options: ListOptions) => {
      process.stdout.write(await listRuns(options));
    });
  runs
    .command("show")
    .description("one run: status, parameters, metrics (test first), podtrain and data tags, the error of a failed run")
    .argument("<run-id>", "the 32-character run id (as `train runs list` prints it)")
    .option("--tracking-uri <uri>", TRACKING_HELP)
    .addOption(outputFormatOption())
    .action(async (runId: string, options: { trackingUri?: string; format: OutputFormat }) => {
      process.stdout.write(await showRun(runId, options));
    });
}

async function experimentsOf(store: TrackingStore, name: string | undefined): Promise<Map<string, string>> {
  const experiments = await store.listExperiments();
  const chosen = name === undefined ? experiments : experiments.filter((experiment) => experiment.name === name);
  if (name !== undefined && chosen.length === 0) {
    const known = experiments.map((experiment) => experiment.name).sort().join(", ") || "none";
    throw new UsageError(`no experiment "${name}" on ${store.location} (experiments: ${known})`);
  }
  return new Map(chosen.map((experiment) => [experiment.experimentId, experiment.name]));
}

export async function listRuns(options: ListOptions): Promise<string> {
  const store = await openExistingTrackingStore(options.trackingUri);
  const experiments = await experimentsOf(store, options.experiment);
  const runs = await store.listRuns([...experiments.keys()], { ...(options.status ? { status: options.status } : {}), maxResults: options.limit });
  if (options.format === "json") {
    return `${JSON.stringify({ tracking: store.location, runs: runs.map((run) => runJson(run, experiments.get(run.experimentId))) })}\n`;
  }
  if (runs.length === 0) return `no runs${options.status ? ` with status ${options.status}` : ""} on ${store.location}\n`;
  const rows = runs.map((run) => [run.runId, experiments.get(run.experimentId) ?? run.experimentId, run.status, formatTime(run.startTime), formatSeconds(run.startTime, run.endTime), run.runName]);
  return formatTable(["RUN ID", "EXPERIMENT", "STATUS", "STARTED", "TOOK", "NAME"], rows);
}

/** The run summary's spelling (snake_case, times in ms since the epoch), for scripts. */
function runJson(info: RunInfo, experiment?: string) {
  return {
    run_id: info.runId,
    run_name: info.runName,
    experiment_id: info.experimentId,
    ...(experiment === undefined ? {} : { experiment }),
    status: info.status,
    start_time: info.startTime,
    end_time: info.endTime ?? null,
    artifact_uri: info.artifactUri,
  };
}

/** Tags worth reading: ours and the data's; MLflow's own bookkeeping stays in the JSON. */
const SHOWN_TAG_PREFIXES = [WORKFLOW_TAG, SPEC_TAG, RUN_KEY_TAG, STAGES_DONE_TAG, "podtrain.gate.", VERSION_TAG, IMAGE_TAG, DATA_VERSION_TAG, AIRFLOW_TAG_PREFIX];

export async function showRun(runId: string, options: { trackingUri?: string; format: OutputFormat }): Promise<string> {
  const store = await openExistingTrackingStore(options.trackingUri);
  const run = await store.getRun(runId).catch((error: unknown) => {
    if (error instanceof MlflowRequestError && error.errorCode === "RESOURCE_DOES_NOT_EXIST") throw new UsageError(`run ${runId} not found on ${store.location}: \`train runs list --tracking-uri ${store.location}\` lists the runs there`);
    throw error;
  });
  if (options.format === "json") return `${JSON.stringify({ tracking: store.location, ...runJson(run.info), params: run.params, metrics: run.metrics, tags: run.tags })}\n`;
  const { info } = run;
  const lines = [
    `run ${info.runId}  ${info.status}  ${info.runName}`,
    `  experiment ${info.experimentId}   started ${formatTime(info.startTime)}   took ${formatSeconds(info.startTime, info.endTime)}`,
    `  artifacts  ${info.artifactUri}`,
  ];
  const error = run.tags[ERROR_TAG];
  if (error && info.status !== "FINISHED") lines.push(`  error      ${error}`);
  const width = Math.max(24, ...Object.keys(run.metrics).map((name) => name.length), ...Object.keys(run.params).map((name) => name.length));
  for (const group of groupMetrics(run.metrics)) {
    lines.push(`  ${group.title} metrics`);
    for (const [name, value] of group.metrics) lines.push(`    ${name.padEnd(width)} ${displayMetric(value)}`);
  }
  const params = Object.entries(run.params).sort(([a], [b]) => a.localeCompare(b));
  if (params.length > 0) lines.push("  params", ...params.map(([name, value]) => `    ${name.padEnd(width)} ${value}`));
  const tags = Object.entries(run.tags).filter(([key]) => SHOWN_TAG_PREFIXES.some((prefix) => key.startsWith(prefix))).sort(([a], [b]) => a.localeCompare(b));
  if (tags.length > 0) lines.push("  tags", ...tags.map(([name, value]) => `    ${name.padEnd(width)} ${value}`));
  return `${lines.join("\n")}\n`;
}
