import type { Command } from "commander";
import type { WorkflowDefinition } from "../workflows/types.js";
import { registerPowerFetchCommand, registerPowerGenerateCommand } from "./power-command.js";
import { registerTickFeaturesCommand } from "./tick-features-command.js";
import { registerTickGenerateCommand } from "./tick-generate-command.js";

// The commander wiring of the extra subcommands a catalog entry declares (`subcommands` in
// src/workflows/catalog.ts), keyed "<workflow> <subcommand>". The catalog says which exist and
// in which order; this table only says how each one parses its flags.

const REGISTRARS: Record<string, (parent: Command) => void> = {
  "tick features": registerTickFeaturesCommand,
  "tick generate": registerTickGenerateCommand,
  "power generate": registerPowerGenerateCommand,
  "power fetch": registerPowerFetchCommand,
};

export const WIRED_SUBCOMMANDS: readonly string[] = Object.keys(REGISTRARS);

export function registerWorkflowSubcommands(command: Command, definition: WorkflowDefinition): void {
  for (const name of definition.subcommands) {
    const register = REGISTRARS[`${definition.name} ${name}`];
    // A catalog entry naming a subcommand nobody wired is a programming error, caught by the tests.
    if (!register) throw new Error(`workflow ${definition.name} declares subcommand "${name}" but src/cli/workflow-subcommands.ts does not wire it`);
    register(command);
  }
}
