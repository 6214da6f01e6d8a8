import { AIRFLOW_DAG_ID_TAG, AIRFLOW_RUN_ID_TAG, DATA_VERSION_TAG, GATE_METRIC_TAG, GATE_VALUE_TAG, PROMOTION_LATEST_TAG, SUPERSEDED_BY_TAG, VERSION_TAG } from "../tracking/tags.js";
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { UsageError } from "../core/errors.js";
import { loadSpecFile, specPathFor } from "../config/load.js";
import { openExistingTrackingStore } from "../tracking/existing-store.js";
import type { ModelVersion } from "../tracking/store.js";
import { formatTable, formatTime, outputFormatOption, type OutputFormat } from "./table.js";

// `train models list|show`: registered models, their versions, aliases, gate metric and lineage
// (data version, Airflow run, code version), from the local registry or an MLflow server.

const TRACKING_HELP = "MLflow tracking server (http…) or local folder (default: $MLFLOW_TRACKING_URI, else ./mlruns)";

export function registerModelsCommand(program: Command): void {
  const models = program.command("models").description("list registered models and their versions (local ./mlruns or an MLflow server)");
  models
    .command("list")
    .description("every registered model with its version count and aliases")
    .option("--tracking-uri <uri>", TRACKING_HELP)
    .addOption(outputFormatOption())
    .action(async (options: { trackingUri?: string; format: OutputFormat }) => {
      process.stdout.write(await listModels(options));
    });
  models
    .command("show")
    .description("a model's versions: aliases, gate metric and value, source run, data version, Airflow run")
    .argument("<name>", "registered model name, e.g. mnist_cnn (as `train models list` prints it)")
    .option("--tracking-uri <uri>", TRACKING_HELP)
    .addOption(outputFormatOption())
    .action(async (name: string, options: { trackingUri?: string; format: OutputFormat }) => {
      process.stdout.write(await showModel(name, options));
    });
}

export async function listModels(options: { trackingUri?: string; format: OutputFormat }): Promise<string> {
  const store = await openExistingTrackingStore(options.trackingUri);
  const models = await Promise.all((await store.registry.listRegisteredModels()).map(async (model) => ({ ...model, versions: (await store.registry.listModelVersions(model.name)).length })));
  if (options.format === "json") {
    return `${JSON.stringify({ tracking: store.location, models: models.map((model) => ({ name: model.name, versions: model.versions, aliases: model.aliases, updated_at: model.updatedAt ?? null })) })}\n`;
  }
  if (models.length === 0) return `no registered models on ${store.location}\n`;
  const rows = models.map((model) => [model.name, String(model.versions), aliasList(model.aliases), formatTime(model.updatedAt)]);
  return formatTable(["MODEL", "VERSIONS", "ALIASES", "UPDATED"], rows);
}

function aliasList(aliases: Record<string, string>): string {
  return Object.entries(aliases).sort(([a], [b]) => a.localeCompare(b)).map(([alias, version]) => `${alias}=${version}`).join(",") || "-";
}

/** Who promoted the version last (the audit entry `train promote` writes), if anyone. */
function promotion(entry: string | undefined): string | undefined {
  if (!entry) return undefined;
  try {
    return (JSON.parse(entry) as { approved_by?: string }).approved_by;
  } catch {
    return undefined;
  }
}

/** The lineage a version carries (registration copies it from the run's tags). */
function lineageOf(version: ModelVersion) {
  const tags = version.tags;
  const airflow = tags[AIRFLOW_DAG_ID_TAG] ? `${tags[AIRFLOW_DAG_ID_TAG]}/${tags[AIRFLOW_RUN_ID_TAG] ?? "?"}` : undefined;
  return {
    gate_metric: tags[GATE_METRIC_TAG],
    gate_value: tags[GATE_VALUE_TAG] === undefined ? undefined : Number(tags[GATE_VALUE_TAG]),
    data_version: tags[DATA_VERSION_TAG],
    code_version: tags[VERSION_TAG],
    airflow_run: airflow,
    promoted_by: promotion(tags[PROMOTION_LATEST_TAG]),
    superseded_by: tags[SUPERSEDED_BY_TAG],
  };
}

export async function showModel(name: string, options: { trackingUri?: string; format: OutputFormat }): Promise<string> {
  const store = await openExistingTrackingStore(options.trackingUri);
  const versions = await store.registry.listModelVersions(name);
  if (versions.length === 0) {
    const known = (await store.registry.listRegisteredModels()).map((model) => model.name).join(", ") || "none";
    throw new UsageError(`no registered model "${name}" on ${store.location} (registered: ${known})`);
  }
  const specFile = specPathFor(name);
  const spec = existsSync(specFile) ? (await loadSpecFile(specFile)).spec : undefined;
  const gate = spec?.gate;
  const championAlias = spec?.registry.champion_alias ?? "champion";
  const described = versions.map((version) => ({ version: version.version, aliases: version.aliases, run_id: version.runId, source: version.source, ...lineageOf(version) }));
  if (options.format === "json") return `${JSON.stringify({ tracking: store.location, name, ...(gate ? { gate } : {}), versions: described })}\n`;
  const header = `${name}: ${versions.length} version(s)${gate ? `; gate ${gate.metric} ${gate.direction === "maximize" ? ">=" : "<="} ${gate.threshold}` : ""}\n`;
  const rows = described.map((version) => [
    version.version,
    version.aliases.join(",") || "-",
    version.gate_metric && version.gate_value !== undefined ? `${version.gate_metric}=${Number(version.gate_value.toFixed(4))}` : "-",
    version.run_id ?? "-",
    version.data_version?.slice(0, 12) ?? "-",
    version.airflow_run ?? "-",
  ]);
  const latest = versions.at(-1)!;
  const promote = latest.aliases.includes(championAlias) ? "" : `promote the latest: train promote ${name} ${latest.version} --reason "why it is better"${options.trackingUri ? ` --tracking-uri ${options.trackingUri}` : ""}\n`;
  return `${header}${formatTable(["VERSION", "ALIASES", "GATE", "RUN ID", "DATA", "AIRFLOW RUN"], rows)}${promote}`;
}
