import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { SpecError, UsageError } from "../core/errors.js";
import { specSchema, type WorkflowSpec } from "./schema.js";
import { describeIssue, loadYaml } from "./yaml.js";


/** The repository's models/ folder, found relative to this module (src/ or dist/). */
export const MODELS_DIRECTORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../models");

export function specPathFor(registeredModel: string): string {
  return path.join(MODELS_DIRECTORY, `${registeredModel}.yaml`);
}

export interface LoadedSpec {
  file: string;
  spec: WorkflowSpec;
  /** Line lookup for errors found later (workflow params are validated by the workflow). */
  describe(error: z.ZodError, prefix: PropertyKey[]): string;
}

export async function loadSpecFile(file: string): Promise<LoadedSpec> {
  const { value, parsed } = await loadYaml(file, specSchema, "spec");
  return { file, spec: value, describe: (error, prefix) => describeIssue(file, error, parsed, prefix) };
}

/**
 * The spec's own values, checked before any flag is merged: `epochs: -3` in the file is a broken
 * spec (exit 78 with its file:line) even when `--epochs 1` happens to hide it on this command
 * line, because the next run without the flag (a DAG task) would use it. Keys the spec leaves
 * out are not its fault: only issues on keys it sets count here.
 */
export function checkSpecParams(loaded: LoadedSpec, schema: z.ZodType, own: Record<string, unknown> = loaded.spec.params ?? {}): void {
  const result = schema.safeParse(own);
  if (result.success) return;
  const issues = result.error.issues.filter((issue) => issue.path.length > 0 && Object.hasOwn(own, String(issue.path[0])));
  if (issues.length === 0) return;
  throw new SpecError(loaded.describe(new z.ZodError(issues), ["params"]));
}

export interface ParamsSource {
  /** The spec values to use, when the schema covers only part of `params` (tick features). */
  specParams?: Record<string, unknown>;
  /** The flag that sets a key, for the error line; default `--key-with-dashes`. */
  flagOf?: (key: string) => string;
}

/**
 * The one "bad flag or bad spec?" decision: spec values are checked on their own first (exit 78
 * with file:line), then the flags are merged; an issue on a key a flag set is a usage error
 * (exit 64) naming the flag, anything else is the spec's.
 */
export function parseParams<Schema extends z.ZodType>(loaded: LoadedSpec, schema: Schema, overrides: Record<string, unknown> = {}, source: ParamsSource = {}): z.infer<Schema> {
  const own = source.specParams ?? loaded.spec.params ?? {};
  checkSpecParams(loaded, schema, own);
  const result = schema.safeParse({ ...own, ...overrides });
  if (!result.success) {
    const issuePath = result.error.issues[0]?.path ?? [];
    const fromFlag = issuePath.length > 0 && String(issuePath[0]) in overrides;
    // A required value neither the spec nor the flags give is a missing flag, not a broken spec.
    const missing = issuePath.length > 0 && !Object.hasOwn(loaded.spec.params ?? {}, String(issuePath[0])) && !fromFlag;
    if (fromFlag || missing) {
      const key = String(issuePath[0]);
      const flag = source.flagOf?.(key) ?? `--${key.replaceAll("_", "-")}`;
      throw new UsageError(`${flag}: ${result.error.issues[0]?.message}`);
    }
    throw new SpecError(loaded.describe(result.error, ["params"]));
  }
  return result.data;
}

export type { WorkflowSpec };
