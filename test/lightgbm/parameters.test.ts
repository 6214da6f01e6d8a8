import { describe, expect, it } from "vitest";
import { serializeParameters } from "../../src/lightgbm/index.js";

describe("serializeParameters", () => {
  it("writes key=value pairs with the runtime defaults first and booleans and lists spelled out", () => {
    const text = serializeParameters({
      objective: "binary", learning_rate: 0.05, deterministic: true, metric: ["auc", "binary_logloss"],
    });
    expect(text).toBe("num_threads=1 verbosity=-1 objective=binary learning_rate=0.05 deterministic=true metric=auc,binary_logloss");
  });

  it("lets callers override the defaults and append additional parameters", () => {
    expect(serializeParameters({ verbosity: 1, additional: { extra_trees: true } }))
      .toBe("num_threads=1 verbosity=1 extra_trees=true");
  });

  it("skips undefined values", () => {
    expect(serializeParameters({ num_leaves: undefined })).toBe("num_threads=1 verbosity=-1");
  });

  it("rejects a value that would split into another parameter", () => {
    expect(() => serializeParameters({ objective: "binary metric=auc" })).toThrow(/unusable value "binary metric=auc"/);
  });

  it("rejects non-finite numbers and malformed names", () => {
    expect(() => serializeParameters({ learning_rate: Number.NaN })).toThrow(/learning_rate must be finite/);
    expect(() => serializeParameters({ additional: { "bad name": 1 } })).toThrow(/Not a LightGBM parameter name/);
  });
});
