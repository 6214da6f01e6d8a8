import { Option, type Command } from "commander";
import { numberFlag } from "./flag-parsers.js";
import type { z } from "zod";

// CLI flags are derived from a workflow's zod parameter schema so flags, spec keys and MLflow
// param names cannot drift: `batch_size` in YAML is `--batch-size` here and `batch_size` in MLflow.

interface FieldShape {
  type: string;
  description: string | undefined;
  choices?: string[];
  defaultValue?: unknown;
  /** For arrays: the type of the items. */
  itemType?: string;
}

function describeField(field: z.ZodType): FieldShape {
  let current = field as z.ZodType & { def: { type: string; innerType?: z.ZodType; defaultValue?: unknown; entries?: Record<string, string>; element?: { def: { type: string } } } };
  const description = current.description;
  let defaultValue: unknown;
  while (current.def.type === "default" || current.def.type === "prefault" || current.def.type === "optional" || current.def.type === "nullable") {
    if (current.def.type === "default") defaultValue = current.def.defaultValue;
    current = current.def.innerType as typeof current;
  }
  return {
    type: current.def.type,
    description: description ?? current.description,
    ...(current.def.entries ? { choices: Object.values(current.def.entries) } : {}),
    ...(defaultValue === undefined ? {} : { defaultValue }),
    ...(current.def.element ? { itemType: current.def.element.def.type } : {}),
  };
}

export function flagName(key: string): string {
  return key.replaceAll("_", "-");
}

function optionKey(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

/**
 * Parameters that shape the model or the fit, not the data: `validate` accepts them (a shared
 * command line works for every DAG step) but does not list them in its help.
 */
const TRAINING_ONLY = new Set([
  "epochs", "batch_size", "learning_rate", "momentum", "weight_decay", "schedule", "augment", "validation_split", "seed", "backend", "execution",
  "checkpoint_every_epochs", "checkpoint_every_minutes", "num_leaves", "num_iterations", "early_stopping_rounds", "min_data_in_leaf", "feature_fraction", "threads", "predictions_file",
]);

/**
 * Spec keys read by one subcommand that has its own flag for them (`train tick features
 * --workers`): the workflow's own command line would accept them and do nothing with them.
 */
const SUBCOMMAND_ONLY = new Set(["workers"]);

function defaultText(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.join(",");
  if (value === null) return "none";
  return String(value);
}

export function addParamOptions(command: Command, schema: z.ZodObject, options: { dataOnly?: boolean } = {}): void {
  for (const [key, field] of Object.entries(schema.shape)) {
    const shape = describeField(field as z.ZodType);
    // Nested settings (tick's `input` contract: a column mapping) live in the spec only: a flag cannot hold a mapping.
    if (shape.type === "object" || SUBCOMMAND_ONLY.has(key)) continue;
    const flag = flagName(key);
    const hidden = options.dataOnly === true && TRAINING_ONLY.has(key);
    const suffix = shape.defaultValue === undefined ? "" : ` (spec default: ${defaultText(shape.defaultValue)})`;
    const description = `${shape.description ?? key.replaceAll("_", " ")}${suffix}`;
    const add = (option: Option) => command.addOption(hidden ? option.hideHelp() : option);
    if (shape.type === "boolean") {
      // The listed form is the one that changes something: --no-augment when augment is on by default.
      const onByDefault = shape.defaultValue === true;
      add(onByDefault ? new Option(`--${flag}`).hideHelp() : new Option(`--${flag}`, description));
      add(onByDefault ? new Option(`--no-${flag}`, `turn off: ${description}`) : new Option(`--no-${flag}`).hideHelp());
    } else if (shape.type === "number") {
      add(new Option(`--${flag} <number>`, description).argParser(numberFlag()));
    } else if (shape.type === "array") {
      // Lists are comma-separated on the command line: --return-horizons-bars 1,5,15.
      const parseItem = (item: string): string | number => (shape.itemType === "number" ? numberFlag()(item) : item);
      add(new Option(`--${flag} <items>`, `${description}; comma-separated`).argParser((text: string) => text.split(",").map((item) => item.trim()).filter(Boolean).map(parseItem)));
    } else if (shape.choices) {
      add(new Option(`--${flag} <choice>`, description).choices(shape.choices));
    } else {
      add(new Option(`--${flag} <value>`, description));
    }
  }
}

/** The flags the user actually gave, keyed like the spec (snake_case). */
export function paramOverrides(options: Record<string, unknown>, schema: z.ZodObject): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = options[optionKey(key)];
    if (value !== undefined) overrides[key] = value;
  }
  return overrides;
}
