import { Command } from "commander";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerDagsCommand } from "../../src/cli/dags-command.js";
import { GeneratedFilesDifferError } from "../../src/dags/check.js";
import { scratchRepository } from "./helpers.js";

// The commander wiring: `dags generate` and `dags check` call the library and let typed errors
// through for the CLI entry point to map to exit codes.

function program(): Command {
  const root = new Command("train").exitOverride();
  registerDagsCommand(root);
  return root;
}

describe("train dags", () => {
  const cwd = process.cwd();
  afterEach(() => {
    process.chdir(cwd);
    vi.restoreAllMocks();
  });

  it("generate writes the files and check then passes; a hand edit makes check throw", async () => {
    const root = await scratchRepository();
    process.chdir(root);
    const output = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    await program().parseAsync(["node", "train", "dags", "generate"]);
    expect(output).toHaveBeenCalledWith("wrote dags/mnist_cnn_training.py\n");
    await program().parseAsync(["node", "train", "dags", "check"]);
    expect(output).toHaveBeenLastCalledWith("6 generated files are up to date\n");
    const file = path.join(root, "dags/tick_model_training.py");
    await writeFile(file, `${await readFile(file, "utf8")}# hand edit\n`);
    await expect(program().parseAsync(["node", "train", "dags", "check"])).rejects.toBeInstanceOf(GeneratedFilesDifferError);
  });

  it("rejects an unknown target before doing anything", async () => {
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    await expect(program().parseAsync(["node", "train", "dags", "generate", "--target", "docker"])).rejects.toThrow(/Allowed choices are kubernetes, local/);
  });
});
