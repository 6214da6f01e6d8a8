// Renders JavaScript values as Python source literals. Every string that reaches a generated DAG
// goes through pythonString, so a spec value holding quotes, backslashes, newlines or non-ASCII
// characters can never break out of its literal or change the meaning of the file.

/** Verbatim Python code (a call, a name): the rare case where a value must not be quoted. */
export class RawPython {
  constructor(readonly code: string) {}
}

export function raw(code: string): RawPython {
  return new RawPython(code);
}

/** A Python tuple, rendered with parentheses (and a trailing comma when it has one element). */
export class PythonTuple {
  constructor(readonly items: readonly PythonValue[]) {}
}

/** A call rendered in place, wrapped one argument per line when it does not fit. */
export class PythonCall {
  constructor(
    readonly callee: string,
    readonly keywords: Readonly<Record<string, PythonValue>>,
    readonly positional: readonly PythonValue[] = [],
  ) {}
}

export function call(callee: string, keywords: Record<string, PythonValue> = {}, positional: PythonValue[] = []): PythonCall {
  return new PythonCall(callee, keywords, positional);
}

export type PythonValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | RawPython
  | PythonTuple
  | PythonCall
  | readonly PythonValue[]
  | { readonly [key: string]: PythonValue };

const LINE_WIDTH = 100;
const INDENT = "    ";

function escapeCharacter(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  switch (character) {
    case "\\":
      return "\\\\";
    case '"':
      return '\\"';
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
  }
  if (code >= 0x20 && code < 0x7f) return character;
  // Everything else is escaped so generated files are pure ASCII and byte-for-byte stable.
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, "0")}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, "0")}`;
  return `\\U${code.toString(16).padStart(8, "0")}`;
}

export function pythonString(text: string): string {
  let body = "";
  for (const character of text) body += escapeCharacter(character);
  return `"${body}"`;
}

function pythonNumber(value: number): string {
  if (Number.isNaN(value)) return 'float("nan")';
  if (!Number.isFinite(value)) return value > 0 ? 'float("inf")' : 'float("-inf")';
  return String(value);
}

function isPlainObject(value: unknown): value is { readonly [key: string]: PythonValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof RawPython) && !(value instanceof PythonTuple) && !(value instanceof PythonCall);
}

/**
 * Renders `value` inline when it fits in the line, otherwise one item per line (black style).
 * `reserve` counts what precedes the value on its line after the indent (`key=`).
 */
export function pythonValue(value: PythonValue, indent = "", reserve = 0): string {
  if (value === null || value === undefined) return "None";
  if (typeof value === "string") return pythonString(value);
  if (typeof value === "number") return pythonNumber(value);
  if (typeof value === "boolean") return value ? "True" : "False";
  if (value instanceof RawPython) return value.code;
  if (value instanceof PythonCall) return pythonCall(value.callee, value.keywords, indent, value.positional, reserve);
  if (value instanceof PythonTuple) {
    const items = value.items.map((item) => (nested: string) => pythonValue(item, nested));
    return bracket("(", ")", items, indent, reserve, value.items.length === 1);
  }
  if (Array.isArray(value)) {
    const items = (value as readonly PythonValue[]).map((item) => (nested: string) => pythonValue(item, nested));
    return bracket("[", "]", items, indent, reserve);
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    const items = entries.map(([key, item]) => (nested: string) => `${pythonString(key)}: ${pythonValue(item, nested, pythonString(key).length + 2)}`);
    return bracket("{", "}", items, indent, reserve);
  }
  throw new TypeError(`cannot render ${typeof value} as a Python literal`);
}

type ItemRenderer = (indent: string) => string;

function bracket(open: string, close: string, items: ItemRenderer[], indent: string, reserve: number, trailingComma = false): string {
  if (items.length === 0) return `${open}${close}`;
  const inline = `${open}${items.map((item) => item(indent)).join(", ")}${trailingComma ? "," : ""}${close}`;
  // +1: the comma that follows a value inside an enclosing bracket.
  if (!inline.includes("\n") && indent.length + reserve + inline.length + 1 <= LINE_WIDTH) return inline;
  const nested = indent + INDENT;
  return `${open}\n${items.map((item) => `${nested}${item(nested)},\n`).join("")}${indent}${close}`;
}

/** A call with keyword arguments, `name(key=value, ...)`; undefined arguments are left out. */
export function pythonCall(
  callee: string,
  keywords: Readonly<Record<string, PythonValue>>,
  indent = "",
  positional: readonly PythonValue[] = [],
  reserve = 0,
): string {
  const items: ItemRenderer[] = [
    ...positional.map((item) => (nested: string) => pythonValue(item, nested)),
    ...Object.entries(keywords)
      .filter(([, item]) => item !== undefined)
      // A key written "**NAME" unpacks a mapping: `**NAME` (the value is ignored).
      .map(([key, item]) => (nested: string) => (key.startsWith("**") ? key : `${key}=${pythonValue(item, nested, key.length + 1)}`)),
  ];
  return `${callee}${bracket("(", ")", items, indent, reserve + callee.length)}`;
}

/** `timedelta(seconds=N)` for a duration already parsed to seconds. */
export function pythonTimedelta(seconds: number): RawPython {
  if (seconds % 3600 === 0) return raw(`timedelta(hours=${seconds / 3600})`);
  if (seconds % 60 === 0) return raw(`timedelta(minutes=${seconds / 60})`);
  return raw(`timedelta(seconds=${pythonNumber(seconds)})`);
}

/** A long text as parenthesised, implicitly concatenated string literals, one per source line. */
export function pythonText(text: string, indent = ""): string {
  const lines = text.split(/(?<=\n)/);
  if (lines.length <= 1) return pythonString(text);
  const nested = indent + INDENT;
  return `(\n${lines.map((line) => `${nested}${pythonString(line)}\n`).join("")}${indent})`;
}

/** `NAME = value`, wrapping the value when the whole line would not fit. */
export function pythonAssign(name: string, value: PythonValue, indent = ""): string {
  return `${indent}${name} = ${pythonValue(value, indent, name.length + 3)}`;
}
