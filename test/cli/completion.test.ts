import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { REPOSITORY_ROOT } from "../support/python.js";

// Issue #20: `train completion bash|zsh`, generated from the commander definitions, loaded into
// a real bash and asked what it completes (the COMP_WORDS/COMP_CWORD protocol bash itself uses).

const run = promisify(execFile);
const TRAIN = `${process.execPath} ${path.join(REPOSITORY_ROOT, "bin/train.js")}`;

/** What bash completes for `line` (a trailing space starts a new word). */
async function complete(lines: string[]): Promise<string[]> {
  const script = [
    `source <(${TRAIN} completion bash)`,
    "complete -p train",
    ...lines.map((line) => `COMP_LINE=${JSON.stringify(line)}; read -ra COMP_WORDS <<< "$COMP_LINE"; [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _train_completion; echo "\${COMPREPLY[*]}"`),
  ].join("\n");
  const { stdout } = await run("bash", ["--norc", "-c", script], { cwd: REPOSITORY_ROOT });
  return stdout.trimEnd().split("\n");
}

describe("train completion bash", () => {
  it("is registered for train and completes commands, subcommands, flags and choices", async () => {
    const [registration, top, tick, features, stage, status, shells, nested] = await complete([
      "train ",
      "train ti",
      "train tick features --o",
      "train mnist --stage ",
      "train runs list --status F",
      "train completion ",
      "train tick features --input x --",
    ]);
    expect(registration).toBe("complete -o filenames -F _train_completion train");
    expect(top?.split(" ")).toEqual(expect.arrayContaining(["mnist", "cifar10", "tick", "power", "promote", "runs", "models", "dags", "data", "completion", "--help"]));
    expect(tick).toBe("tick");
    expect(features).toBe("--out-dir");
    expect(stage).toBe("all fit evaluate register");
    expect(status).toBe("FINISHED FAILED");
    expect(shells?.split(" ")).toEqual(expect.arrayContaining(["bash", "zsh"]));
    // Hidden aliases (--output, --horizon) are not offered.
    expect(nested?.split(" ")).toEqual(expect.arrayContaining(["--input", "--out-dir", "--label-horizon-bars", "--dry-run"]));
    expect(nested?.split(" ")).not.toContain("--output");
    expect(nested?.split(" ")).not.toContain("--horizon");
  });

  it("zsh gets the same function through bashcompinit; both scripts parse", async () => {
    const { stdout } = await run(process.execPath, [path.join(REPOSITORY_ROOT, "bin/train.js"), "completion", "zsh"]);
    expect(stdout.split("\n")[0]).toBe("autoload -U +X bashcompinit && bashcompinit");
    expect(stdout).toContain("complete -o filenames -F _train_completion train");
    await run("bash", ["-n", "-c", stdout.split("\n").slice(1).join("\n")]);
  });
});
