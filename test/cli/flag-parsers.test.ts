import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { numberFlag } from "../../src/cli/flag-parsers.js";

describe("numberFlag", () => {
  it("parses numbers within the rules", () => {
    expect(numberFlag()("0.25")).toBe(0.25);
    expect(numberFlag({ integer: true, minimum: 0 })("0")).toBe(0);
    expect(numberFlag({ integer: true, exclusiveMinimum: 0 })("128")).toBe(128);
  });

  it("rejects values outside the rules with what was expected", () => {
    expect(() => numberFlag()("two")).toThrow(new InvalidArgumentError("expected a number."));
    expect(() => numberFlag()(" ")).toThrow("expected a number.");
    expect(() => numberFlag({ integer: true })("1.5")).toThrow("expected an integer.");
    expect(() => numberFlag({ integer: true, minimum: 0 })("-1")).toThrow("expected an integer ≥ 0.");
    expect(() => numberFlag({ integer: true, exclusiveMinimum: 0 })("0")).toThrow("expected a positive integer.");
    expect(() => numberFlag({ exclusiveMinimum: 0 })("-0.1")).toThrow("expected a positive number.");
  });
});
