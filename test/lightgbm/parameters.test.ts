import { describe, expect, it } from "vitest";
import { serializeParameters } from "../../src/lightgbm/index.js";

// The default num_threads is the process's (the pod's CPUs); pinned here so the text is known.
process.env.PODTRAIN_LIGHTGBM_THREADS = "3";

describe("serializeParameters", () => {
  it("writes key=value pairs with the runtime defaults first and booleans and lists spelled out", () => {
    const text = serializeParameters({
      objective: "binary", learning_rate: 0.05, deterministic: true, metric: ["auc", "binary_logloss"],
    });
    expect(text).toBe("num_threads=3 verbosity=-1 objective=binary learning_rate=0.05 deterministic=true metric=auc,binary_logloss");
  });

  it("lets callers override the defaults and append additional parameters", () => {
    expect(serializeParameters({ verbosity: 1, additional: { extra_trees: true } }))
      .toBe("num_threads=3 verbosity=1 extra_trees=true");
  });

  it("keeps an explicit num_threads", () => {
    expect(serializeParameters({ num_threads: 1 })).toBe("num_threads=1 verbosity=-1");
  });

  it("skips undefined values", () => {
    expect(serializeParameters({ num_leaves: undefined })).toBe("num_threads=3 verbosity=-1");
  });

  it("rejects a value that would split into another parameter", () => {
    expect(() => serializeParameters({ objective: "binary metric=auc" })).toThrow(/unusable value "binary metric=auc"/);
  });

  it("rejects non-finite numbers and malformed names", () => {
    expect(() => serializeParameters({ learning_rate: Number.NaN })).toThrow(/learning_rate must be finite/);
    expect(() => serializeParameters({ additional: { "bad name": 1 } })).toThrow(/Not a LightGBM parameter name/);
  });
});
