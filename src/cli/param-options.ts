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

export function addParamOptions(command: Command, schema: z.ZodObject): void {
  for (const [key, field] of Object.entries(schema.shape)) {
    const shape = describeField(field as z.ZodType);
    // Nested settings (tick's `input` contract: a column mapping) live in the spec only: a flag cannot hold a mapping.
    if (shape.type === "object") continue;
    const flag = flagName(key);
    const suffix = shape.defaultValue === undefined ? "" : ` (spec default: ${String(shape.defaultValue)})`;
    const description = `${shape.description ?? key}${suffix}`;
    if (shape.type === "boolean") {
      command.addOption(new Option(`--${flag}`, description));
      command.addOption(new Option(`--no-${flag}`).hideHelp());
    } else if (shape.type === "number") {
      command.addOption(new Option(`--${flag} <number>`, description).argParser(numberFlag()));
    } else if (shape.type === "array") {
      // Lists are comma-separated on the command line: --return-horizons-bars 1,5,15.
      const parseItem = (item: string): string | number => (shape.itemType === "number" ? numberFlag()(item) : item);
      command.addOption(new Option(`--${flag} <items>`, `${description}; comma-separated`).argParser((text: string) => text.split(",").map((item) => item.trim()).filter(Boolean).map(parseItem)));
    } else if (shape.choices) {
      command.addOption(new Option(`--${flag} <choice>`, description).choices(shape.choices));
    } else {
      command.addOption(new Option(`--${flag} <value>`, description));
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
