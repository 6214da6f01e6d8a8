import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { withCliReference } from "../../src/cli/cli-reference.js";
import { buildProgram } from "../../src/cli/main.js";
import { REPOSITORY_ROOT } from "../support/python.js";

// README's CLI reference is generated from the --help texts: this fails when they drift
// (regenerate with `npm run build && node scripts/cli-reference.mjs`).

describe("README CLI reference", () => {
  it("is what the help says", async () => {
    const readme = await readFile(path.join(REPOSITORY_ROOT, "README.md"), "utf8");
    expect(withCliReference(readme, buildProgram()), "README.md's CLI reference is stale: run `npm run build && node scripts/cli-reference.mjs`").toBe(readme);
    expect(readme).toContain("#### `train runs list`");
    expect(readme).toContain("| `--out-dir <dir>` | (required) features root");
  });
});
