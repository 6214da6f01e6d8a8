import { existsSync } from "node:fs";
import type { Command } from "commander";
import { UsageError } from "../core/errors.js";
import { rejectModelVersion, type OnReject } from "../runtime/reject.js";
import { loadSpecFile, specPathFor } from "../config/load.js";
import { openExistingTrackingStore } from "../tracking/existing-store.js";

const ON_REJECT: readonly OnReject[] = ["keep_candidate", "clear_candidate"];

export function registerRejectCommand(program: Command): void {
  program
    .command("reject")
    .description("record that a registered model version was rejected at approval (tags on the version; clears the candidate alias unless the spec keeps it)")
    .argument("<model>", "registered model name, e.g. mnist_cnn")
    .argument("<version>", "model version number")
    .requiredOption("--reason <text>", "why this version is rejected (recorded)")
    .option("--rejected-by <name>", "who rejected (default: $PODTRAIN_REVIEWER, else the OS user)")
    .option("--candidate-alias <alias>", "the candidate alias to clear (default: the spec's registry.candidate_alias, else candidate)")
    .option("--on-reject <what>", "keep_candidate | clear_candidate (default: the spec's registry.on_reject, else clear_candidate)")
    .option("--tracking-uri <uri>", "MLflow server or local folder (default: $MLFLOW_TRACKING_URI, else ./mlruns)")
    .action(async (model: string, version: string, options: { reason: string; rejectedBy?: string; candidateAlias?: string; onReject?: string; trackingUri?: string }) => {
      if (options.onReject !== undefined && !ON_REJECT.includes(options.onReject as OnReject)) {
        throw new UsageError(`--on-reject: expected one of ${ON_REJECT.join(", ")}, got ${JSON.stringify(options.onReject)}`);
      }
      const specFile = specPathFor(model);
      const registry = existsSync(specFile) ? (await loadSpecFile(specFile)).spec.registry : undefined;
      const store = await openExistingTrackingStore(options.trackingUri);
      await store.checkAvailable();
      const record = await rejectModelVersion({
        store,
        model,
        version,
        reason: options.reason,
        ...(options.rejectedBy ? { rejectedBy: options.rejectedBy } : {}),
        candidateAlias: options.candidateAlias ?? registry?.candidate_alias ?? "candidate",
        championAlias: registry?.champion_alias ?? "champion",
        onReject: (options.onReject as OnReject | undefined) ?? registry?.on_reject ?? "clear_candidate",
      });
      if (record.unchanged) {
        process.stdout.write(`${model} version ${version} was already rejected by ${record.rejected_by}: nothing changed\n`);
        return;
      }
      const alias = record.candidate_cleared ? "; candidate alias cleared" : "";
      process.stdout.write(`${model} version ${version} rejected by ${record.rejected_by}: ${record.reason}${alias}\n`);
    });
}
