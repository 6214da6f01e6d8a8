import { existsSync } from "node:fs";
import type { Command } from "commander";
import { UsageError } from "../core/errors.js";
import { promoteModelVersion } from "../runtime/promote.js";
import { loadSpecFile, specPathFor } from "../config/load.js";
import { openExistingTrackingStore } from "../tracking/existing-store.js";

export function registerPromoteCommand(program: Command): void {
  program
    .command("promote")
    .description("move the champion alias to a registered model version, with an audit trail (the approval step)")
    .argument("<model>", "registered model name, e.g. mnist_cnn")
    .argument("<version>", "model version number")
    .requiredOption("--reason <text>", "why this version is promoted (recorded)")
    .option("--alias <alias>", "alias to move (default: the spec's champion alias)")
    .option("--approver <name>", "who approved (default: $PODTRAIN_APPROVER, else the OS user)")
    .option("--override-rejection", "promote a version a reviewer rejected (the overridden rejection is recorded in the audit tags)")
    .option("--tracking-uri <uri>", "MLflow server or local folder (default: $MLFLOW_TRACKING_URI, else ./mlruns)")
    .action(async (model: string, version: string, options: { reason: string; alias?: string; approver?: string; overrideRejection?: boolean; trackingUri?: string }) => {
      const specFile = specPathFor(model);
      const alias = options.alias ?? (existsSync(specFile) ? (await loadSpecFile(specFile)).spec.registry.champion_alias : "champion");
      const store = await openExistingTrackingStore(options.trackingUri);
      // A version that does not exist: say which ones do, and where to look.
      const versions = (await store.registry.listModelVersions(model)).map((existing) => existing.version);
      if (!versions.includes(version)) {
        const uri = options.trackingUri ? ` --tracking-uri ${options.trackingUri}` : "";
        throw new UsageError(versions.length === 0 ? `no registered model "${model}" on ${store.location}: \`train models list${uri}\` lists the models there` : `${model} has no version ${version} on ${store.location} (versions: ${versions.join(", ")}); \`train models show ${model}${uri}\` shows them`);
      }
      const record = await promoteModelVersion({ store, model, version, reason: options.reason, alias, ...(options.approver ? { approver: options.approver } : {}), overrideRejection: options.overrideRejection ?? false });
      if (record.unchanged) {
        process.stdout.write(`${model} version ${version} is already ${alias}: nothing changed\n`);
        return;
      }
      const previous = record.previous_version ? ` (was version ${record.previous_version})` : "";
      process.stdout.write(`${model} version ${version} is now ${alias}${previous}; approved by ${record.approved_by}: ${record.reason}\n`);
    });
}
