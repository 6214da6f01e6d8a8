import { Command, CommanderError } from "commander";
import { EXIT_CODES, exitCodeOf } from "../core/errors.js";
import { redactSecrets } from "../core/redact.js";
import { isForcedExitUnderway } from "../runtime/signals.js";
import { WORKFLOWS } from "../workflows/catalog.js";
import { registerBenchCommand } from "./bench-command.js";
import { registerDagsCommand } from "./dags-command.js";
import { registerCompletionCommand } from "./completion-command.js";
import { registerDataCommand } from "./data-command.js";
import { registerPredictCommand } from "./predict-command.js";
import { registerModelsCommand } from "./models-command.js";
import { markRequiredOptions } from "./option-conventions.js";
import { registerRunsCommand } from "./runs-command.js";
import { exitWithFilteringParent, runWithNativeLogFilter, wantsNativeLogFilter } from "./native-log.js";
import { registerPromoteCommand } from "./promote-command.js";
import { registerRejectCommand } from "./reject-command.js";
import { registerWorkflowCommand } from "./workflow-command.js";
import { registerWorkflowSubcommands } from "./workflow-subcommands.js";

// Thin entry point: parse flags, run a plain async command, map typed errors to exit codes.

export function buildProgram(): Command {
  const program = new Command("train")
    .description("podtrain: train models, track them in MLflow, run as Airflow pod tasks")
    .version(process.env.npm_package_version ?? "0.1.0")
    // Commander's own usage errors come out like ours: one `train: error: …` line, exit 64.
    .configureOutput({ outputError: (text, write) => write(`train: ${text.trim().replace(/\s*\n\s*/g, " ")} (run with --help for usage)\n`) })
    .enablePositionalOptions()
    .exitOverride();
  for (const definition of Object.values(WORKFLOWS)) registerWorkflowSubcommands(registerWorkflowCommand(program, definition), definition);
  registerPromoteCommand(program);
  registerRejectCommand(program);
  registerPredictCommand(program);
  registerRunsCommand(program);
  registerModelsCommand(program);
  registerDagsCommand(program);
  registerDataCommand(program);
  registerBenchCommand(program);
  registerCompletionCommand(program);
  markRequiredOptions(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  if (wantsNativeLogFilter(argv)) return runWithNativeLogFilter(argv, argv.includes("--verbose"));
  exitWithFilteringParent();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return EXIT_CODES.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message; help and version are successful exits.
      return error.exitCode === 0 ? EXIT_CODES.OK : EXIT_CODES.USAGE;
    }
    const message = error instanceof Error ? error.message : String(error);
    // A forced exit (second signal, grace period spent) has printed the one error line already.
    if (!isForcedExitUnderway()) process.stderr.write(`train: error: ${redactSecrets(message)}\n`);
    if (process.env.PODTRAIN_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${redactSecrets(error.stack)}\n`);
    return exitCodeOf(error);
  }
}
