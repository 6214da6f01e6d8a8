import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

// The WebAssembly build is committed (a fresh `npm ci` needs no Emscripten). These checks keep
// the committed files, their recorded build info and the pinned source of build.sh in step, so a
// changed pin or a hand-edited binary fails CI until build.sh is run again and its output committed.
const NATIVE = path.resolve(import.meta.dirname, "../../native/lightgbm");
const info = JSON.parse(readFileSync(path.join(NATIVE, "dist/BUILD-INFO.json"), "utf8")) as {
  lightgbmVersion: string;
  sdistSha256: string;
  outputs: Record<string, { sha256: string; bytes?: number }>;
};
const buildScript = readFileSync(path.join(NATIVE, "build.sh"), "utf8");

describe("LightGBM WebAssembly build output", () => {
  it("matches the hashes and sizes recorded when it was built", () => {
    for (const [file, recorded] of Object.entries(info.outputs)) {
      const bytes = readFileSync(path.join(NATIVE, "dist", file));
      expect(createHash("sha256").update(bytes).digest("hex"), file).toBe(recorded.sha256);
      if (recorded.bytes !== undefined) expect(bytes.length, file).toBe(recorded.bytes);
    }
  });

  it("was built from the LightGBM version and source archive that build.sh pins", () => {
    expect(buildScript).toMatch(new RegExp(`^readonly LIGHTGBM_VERSION="${info.lightgbmVersion.replaceAll(".", "\\.")}"$`, "m"));
    expect(buildScript).toMatch(new RegExp(`^readonly SDIST_SHA256="${info.sdistSha256}"$`, "m"));
  });
});
