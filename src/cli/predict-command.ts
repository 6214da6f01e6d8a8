import type { Command } from "commander";
import { PREDICT_FLAVORS, type PredictFlavor, runPredict } from "../predict/predict.js";
import { UsageError } from "../core/errors.js";
import { openExistingTrackingStore } from "../tracking/existing-store.js";

export function registerPredictCommand(program: Command): void {
  program
    .command("predict")
    .description("predict with a registered model (smoke test): JSON lines on stdout, or --out x.csv / x.jsonl")
    .argument("<workflow>", "mnist | cifar10 | power | tick")
    .requiredOption("--model-uri <uri>", "models:/<name>@<alias> or models:/<name>/<version>")
    .requiredOption("--input <file>", "mnist: IDX images; cifar10: a binary batch; CNNs: or .jsonl of model-input arrays; power/tick: CSV of the model's features")
    .option("--out <file>", "write predictions to a .csv or .jsonl file (written whole or not at all) instead of stdout")
    .option("--flavor <flavor>", `CNNs: ${PREDICT_FLAVORS.join(" | ")} (auto: onnx when the model has it)`, "auto")
    .option("--tracking-uri <uri>", "MLflow server or local folder (default: $MLFLOW_TRACKING_URI, else ./mlruns)")
    .action(async (workflow: string, options: { modelUri: string; input: string; out?: string; flavor: string; trackingUri?: string }) => {
      if (!(PREDICT_FLAVORS as readonly string[]).includes(options.flavor)) throw new UsageError(`--flavor ${options.flavor}: expected ${PREDICT_FLAVORS.join(", ")}`);
      const store = await openExistingTrackingStore(options.trackingUri);
      const summary = await runPredict({
        store,
        workflow,
        modelUri: options.modelUri,
        input: options.input,
        ...(options.out ? { output: options.out } : {}),
        flavor: options.flavor as PredictFlavor,
        write: (text) => process.stdout.write(text),
      });
      if (options.out) process.stdout.write(`${summary.rows} predictions of ${options.modelUri} (version ${summary.version}, ${summary.flavor}) written to ${summary.output}\n`);
    });
}
