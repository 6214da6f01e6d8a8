import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { SpecError } from "../core/errors.js";
import { readTextFileOr } from "../core/files.js";

// The one YAML loader for configuration (workflow specs, the deployment config): strict YAML
// (duplicate keys refused, alias bombs refused), validated by a zod schema, and every problem
// reported as one `file:line: path.inside: what was expected` line (exit 78).

export interface ParsedYaml {
  value: unknown;
  lineOf(pathInFile: ReadonlyArray<PropertyKey>): number | undefined;
}

function parseYaml(text: string, file: string, what: string): ParsedYaml {
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
    throw new SpecError(`${file}: not a usable YAML ${what}: ${(cause as Error).message.split("\n")[0]}`, { cause });
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

/** Reads, parses and validates `file`; `what` names it in errors ("spec", "deployment config"). */
export async function loadYaml<Schema extends z.ZodType>(file: string, schema: Schema, what: string): Promise<{ value: z.infer<Schema>; parsed: ParsedYaml }> {
  const text = await readTextFileOr(file, (reason, cause) => new SpecError(`cannot read ${what} ${file}: ${reason}`, { cause }));
  const parsed = parseYaml(text, file, what);
  const result = schema.safeParse(parsed.value);
  if (!result.success) throw new SpecError(describeIssue(file, result.error, parsed));
  return { value: result.data, parsed };
}
