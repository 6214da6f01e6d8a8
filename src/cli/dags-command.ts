import path from "node:path";
import { type Command, Option } from "commander";
import { checkDags } from "../dags/check.js";
import { DEFAULT_DEPLOYMENT_FILE } from "../dags/deployment.js";
import { generateDags, type DagTarget } from "../dags/generate.js";
import { addOptionWithAliases } from "./option-conventions.js";
import { PROJECT_DIR_HELP, projectDirectory } from "./project-dir.js";

// `train dags generate|check`: the Airflow DAG files are generated from models/*.yaml and the
// deployment config. Actions only parse flags and print; errors are typed and the CLI entry
// point maps them to exit codes.

interface DagsFlags {
  outDir?: string;
  projectDir?: string;
  deployment: string;
  target: DagTarget;
}

/** A --deployment typed by the user is relative to the cwd; the default lives in the project directory. */
function deploymentOf(flags: { deployment: string; projectDir?: string }): string {
  if (flags.deployment === DEFAULT_DEPLOYMENT_FILE) return DEFAULT_DEPLOYMENT_FILE;
  return path.relative(projectDirectory(flags.projectDir), path.resolve(flags.deployment));
}

function targetOption(): Option {
  return new Option("--target <target>", "kubernetes: KubernetesPodOperator steps; local: BashOperator steps running bin/train.js")
    .choices(["kubernetes", "local"])
    .default("kubernetes");
}

export function registerDagsCommand(program: Command): void {
  const dags = program.command("dags").description("generate and check the Airflow DAG files from models/*.yaml");

  const generate = dags
    .command("generate")
    .description("write one DAG file per workflow spec (and pools.json) into the output folder")
    .option("--deployment <file>", "deployment config", DEFAULT_DEPLOYMENT_FILE)
    .addOption(targetOption())
    .option("--project-dir <dir>", PROJECT_DIR_HELP)
    .action(async (flags: DagsFlags) => {
      const result = await generateDags({ root: projectDirectory(flags.projectDir), deploymentFile: deploymentOf(flags), target: flags.target, ...(flags.outDir ? { out: path.resolve(flags.outDir) } : {}) });
      for (const file of result.written) process.stdout.write(`wrote ${file}\n`);
    });

  const check = dags
    .command("check")
    .description("fail when the committed DAG files differ from what the specs generate")
    .option("--deployment <file>", "deployment config", DEFAULT_DEPLOYMENT_FILE)
    .option("--project-dir <dir>", PROJECT_DIR_HELP)
    .action(async (flags: Omit<DagsFlags, "target">) => {
      const result = await checkDags({ root: projectDirectory(flags.projectDir), deploymentFile: deploymentOf(flags), ...(flags.outDir ? { out: path.resolve(flags.outDir) } : {}) });
      process.stdout.write(`${result.checked.length} generated files are up to date\n`);
    });
  // --out-dir as for every folder target (was --out).
  addOptionWithAliases(generate, new Option("--out-dir <dir>", "output folder (default: dags/ of the project directory, or .cache/dags-local for --target local)"), ["--out <dir>"]);
  addOptionWithAliases(check, new Option("--out-dir <dir>", "folder holding the committed DAG files (default: dags/ of the project directory)"), ["--out <dir>"]);
}
