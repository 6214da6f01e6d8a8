import { InvalidArgumentError } from "commander";

// Numeric flag values, checked where commander parses them; commander prefixes the message with
// the option and the value ("option '--steps <n>' argument 'x' is invalid. expected …").

export interface NumberFlagRules {
  integer?: boolean;
  /** Smallest allowed value (inclusive). */
  minimum?: number;
  /** Values must be greater than this. */
  exclusiveMinimum?: number;
}

function expectation(rules: NumberFlagRules): string {
  const kind = rules.integer ? "an integer" : "a number";
  if (rules.exclusiveMinimum === 0) return `expected a positive ${rules.integer ? "integer" : "number"}.`;
  if (rules.exclusiveMinimum !== undefined) return `expected ${kind} > ${rules.exclusiveMinimum}.`;
  if (rules.minimum !== undefined) return `expected ${kind} ≥ ${rules.minimum}.`;
  return `expected ${kind}.`;
}

export function numberFlag(rules: NumberFlagRules = {}): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    const valid =
      value.trim() !== "" &&
      Number.isFinite(parsed) &&
      (!rules.integer || Number.isInteger(parsed)) &&
      (rules.minimum === undefined || parsed >= rules.minimum) &&
      (rules.exclusiveMinimum === undefined || parsed > rules.exclusiveMinimum);
    if (!valid) throw new InvalidArgumentError(expectation(rules));
    return parsed;
  };
}
