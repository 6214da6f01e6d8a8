import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { SpecError, UsageError } from "../runtime/errors.js";
import { specSchema, type WorkflowSpec } from "./schema.js";

/** The repository's models/ folder, found relative to this module (src/ or dist/). */
export const MODELS_DIRECTORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../models");

export function specPathFor(registeredModel: string): string {
  return path.join(MODELS_DIRECTORY, `${registeredModel}.yaml`);
}

interface ParsedYaml {
  value: unknown;
  lineOf(pathInFile: ReadonlyArray<PropertyKey>): number | undefined;
}

function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const firstError = document.errors[0];
  if (firstError) {
    const line = firstError.linePos?.[0]?.line;
    throw new SpecError(`${file}${line ? `:${line}` : ""}: not valid YAML: ${firstError.message.split("\n")[0]}`);
  }
  let value: unknown;
  try {
    // toJS refuses alias bombs ("billion laughs": maxAliasCount) instead of expanding them.
    value = document.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    throw new SpecError(`${file}: not a usable YAML spec: ${(cause as Error).message.split("\n")[0]}`, { cause });
  }
  return {
    value,
    lineOf(pathInFile) {
      // Walk up to the deepest node that exists, so a missing key points at its parent.
      for (let depth = pathInFile.length; depth >= 0; depth -= 1) {
        const node = document.getIn(pathInFile.slice(0, depth) as unknown[], true) as { range?: [number] } | undefined;
        if (node && typeof node === "object" && node.range) return lineCounter.linePos(node.range[0]).line;
      }
      return undefined;
    },
  };
}

/** Formats the first issue of a zod error as `file:line: path.inside: what was expected`. */
export function describeIssue(file: string, error: z.ZodError, parsed?: ParsedYaml, prefix: PropertyKey[] = []): string {
  const issue = error.issues[0];
  if (!issue) return `${file}: invalid`;
  const fullPath = [...prefix, ...issue.path];
  const line = parsed?.lineOf(fullPath);
  const where = fullPath.length > 0 ? fullPath.map(String).join(".") : "(top level)";
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more issue${error.issues.length > 2 ? "s" : ""})` : "";
  return `${file}${line ? `:${line}` : ""}: ${where}: ${issue.message}${more}`;
}

export interface LoadedSpec {
  file: string;
  spec: WorkflowSpec;
  /** Line lookup for errors found later (workflow params are validated by the workflow). */
  describe(error: z.ZodError, prefix: PropertyKey[]): string;
}

export async function loadSpecFile(file: string): Promise<LoadedSpec> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (cause) {
    throw new SpecError(`cannot read spec ${file}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
  const parsed = parseYaml(text, file);
  const result = specSchema.safeParse(parsed.value);
  if (!result.success) throw new SpecError(describeIssue(file, result.error, parsed));
  return { file, spec: result.data, describe: (error, prefix) => describeIssue(file, error, parsed, prefix) };
}

/** Validates `spec.params` with the workflow's own schema, reporting lines in the spec file. */
/**
 * The spec's own values, checked before any flag is merged: `epochs: -3` in the file is a broken
 * spec (exit 78 with its file:line) even when `--epochs 1` happens to hide it on this command
 * line, because the next run without the flag (a DAG task) would use it. Keys the spec leaves
 * out are not its fault: only issues on keys it sets count here.
 */
export function checkSpecParams(loaded: LoadedSpec, schema: z.ZodType): void {
  const own = loaded.spec.params ?? {};
  const result = schema.safeParse(own);
  if (result.success) return;
  const issues = result.error.issues.filter((issue) => issue.path.length > 0 && Object.hasOwn(own, String(issue.path[0])));
  if (issues.length === 0) return;
  throw new SpecError(loaded.describe(new z.ZodError(issues), ["params"]));
}

export function parseParams<Schema extends z.ZodType>(loaded: LoadedSpec, schema: Schema, overrides: Record<string, unknown> = {}): z.infer<Schema> {
  checkSpecParams(loaded, schema);
  const result = schema.safeParse({ ...loaded.spec.params, ...overrides });
  if (!result.success) {
    const issuePath = result.error.issues[0]?.path ?? [];
    const fromFlag = issuePath.length > 0 && String(issuePath[0]) in overrides;
    // A required value neither the spec nor the flags give is a missing flag, not a broken spec.
    const missing = issuePath.length > 0 && !Object.hasOwn(loaded.spec.params ?? {}, String(issuePath[0])) && !fromFlag;
    if (fromFlag || missing) {
      const key = String(issuePath[0]);
      throw new UsageError(`--${key.replaceAll("_", "-")}: ${result.error.issues[0]?.message}`);
    }
    throw new SpecError(loaded.describe(result.error, ["params"]));
  }
  return result.data;
}

export type { WorkflowSpec };
