import { describe, expect, it } from "vitest";
import { loadLightGBM } from "../../src/lightgbm/index.js";
import { findDistDirectory } from "../../src/lightgbm/module.js";
import { makeTemporaryDirectory } from "./fixtures.js";

describe("loadLightGBM", () => {
  it("loads the module once and exposes the C API", async () => {
    const [first, second] = await Promise.all([loadLightGBM(), loadLightGBM()]);
    expect(first).toBe(second);
    expect(typeof first._LGBM_BoosterCreate).toBe("function");
    expect(first.HEAPU8.length).toBeGreaterThan(0);
  });
});

describe("findDistDirectory", () => {
  it("walks up to native/lightgbm/dist", () => {
    expect(findDistDirectory()).toMatch(/native\/lightgbm\/dist$/);
  });

  it("says where it looked when the build is missing", () => {
    const directory = makeTemporaryDirectory("lightgbm-nodist");
    try {
      expect(() => findDistDirectory(directory.path)).toThrow(/LightGBM wasm build not found: no native\/lightgbm\/dist\/lightgbm.wasm above/);
    } finally {
      directory.remove();
    }
  });
});
