import type { Command, Option } from "commander";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/main.js";
import { validateResult } from "../../src/cli/workflow-command.js";
import { EXIT_CODES } from "../../src/core/errors.js";
import { errorLines, runTrain } from "../support/cli.js";
import { temporaryDirectory } from "../workflows/power/fixtures.js";

// Issue #20, "one vocabulary" and help rows: one folder-output flag (--out-dir; old spellings
// hidden aliases with a note), one data-fetch shape, help lines that say what an option does,
// required options marked, on-by-default switches listed as --no-…, validate help without
// training flags.

function find(program: Command, names: string[]): Command {
  return names.reduce((command, name) => command.commands.find((sub) => sub.name() === name)!, program);
}

function visible(command: Command): Option[] {
  return command.options.filter((option) => !option.hidden);
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

describe("help screens", () => {
  const program = buildProgram();

  it("no help line merely repeats the option's name, and no default is printed empty", () => {
    for (const command of allCommands(program)) {
      for (const option of visible(command)) {
        const name = option.long!.replace(/^--(no-)?/, "");
        const words = option.description.replace(/\(.*?\)/g, "").trim().toLowerCase();
        expect(words, `${command.name()} ${option.long}`).not.toBe(name.replaceAll("-", " "));
        expect(words, `${command.name()} ${option.long}`).not.toBe(name.replaceAll("-", "_"));
        expect(option.description, `${command.name()} ${option.long}`).not.toMatch(/default: \)/);
      }
    }
    const tick = find(program, ["tick"]);
    expect(tick.options.find((option) => option.long === "--bar")?.description).toMatch(/^bar length, dividing a day/);
    expect(tick.options.find((option) => option.long === "--closed-dates")?.description).toMatch(/\(spec default: none\)/);
  });

  it("required options say so", () => {
    expect(find(program, ["promote"]).options.find((option) => option.long === "--reason")?.description).toMatch(/^\(required\) /);
    const features = find(program, ["tick", "features"]);
    for (const long of ["--input", "--out-dir"]) expect(features.options.find((option) => option.long === long)?.description, long).toMatch(/^\(required\) /);
    const generate = find(program, ["tick", "generate"]);
    for (const long of ["--out-dir", "--from", "--to"]) expect(generate.options.find((option) => option.long === long)?.description, long).toMatch(/^\(required\) /);
  });

  it("switches that are on by default are listed as --no-…", () => {
    const cifar10 = visible(find(program, ["cifar10"])).map((option) => option.long);
    expect(cifar10).toContain("--no-augment");
    expect(cifar10).not.toContain("--augment");
  });

  it("validate lists data flags, not training flags", () => {
    const validate = visible(find(program, ["mnist", "validate"])).map((option) => option.long);
    expect(validate).toEqual(expect.arrayContaining(["--data-dir", "--train-limit", "--spec"]));
    for (const long of ["--epochs", "--backend", "--batch-size"]) expect(validate).not.toContain(long);
  });

  it("every folder output is --out-dir; --output/--out/--dir/--horizon are hidden aliases", () => {
    expect(visible(find(program, ["tick", "features"])).map((option) => option.long)).toEqual(expect.arrayContaining(["--out-dir", "--label-horizon-bars"]));
    for (const [names, old] of [[["tick", "features"], "--output"], [["tick", "features"], "--horizon"], [["tick", "generate"], "--out"], [["data", "fetch"], "--dir"]] as const) {
      const option = find(program, [...names]).options.find((candidate) => candidate.long === old);
      expect(option?.hidden, `${names.join(" ")} ${old}`).toBe(true);
    }
  });
});

describe("old spellings still work, with a note", () => {
  it("--help names the hidden old spellings", async () => {
    const help = await runTrain(["tick", "features", "--help"]);
    expect(help.stdout).toContain("Deprecated spelling, accepted for one more release: --output (now --out-dir)");
    expect(help.stdout).toContain("--horizon (now --label-horizon-bars)");
  });

  it("tick generate --out and tick features --output --horizon: same result, a deprecation note each", async () => {
    const root = await temporaryDirectory("podtrain-vocabulary-");
    const trades = path.join(root, "trades");
    const generated = await runTrain(["tick", "generate", "--out", trades, "--from", "2026-01-05", "--to", "2026-01-05", "--symbols", "1", "--trades-per-day", "500"]);
    expect(generated.exitCode, generated.stderr).toBe(0);
    expect(generated.stderr).toContain("train: note: --out is deprecated and goes in the next release: use --out-dir");
    const computed = await runTrain(["tick", "features", "--input", trades, "--output", path.join(root, "features"), "--horizon", "5", "--date", "2026-01-05"]);
    expect(computed.exitCode, computed.stderr).toBe(0);
    expect(computed.stderr).toContain("train: note: --output is deprecated");
    expect(computed.stderr).toContain("train: note: --horizon is deprecated and goes in the next release: use --label-horizon-bars");
    expect(computed.stdout).toMatch(/^2026-01-05 {2}computed/);
    const missing = await runTrain(["tick", "features", "--input", trades, "--date", "2026-01-05"]);
    expect(missing.exitCode).toBe(EXIT_CODES.USAGE);
    expect(errorLines(missing.stderr)).toEqual(["train: error: required option '--out-dir <dir>' not specified (run with --help for usage)"]);
  });

  it("train data fetch power is the data-fetch shape for power; an unknown set lists the known ones", async () => {
    const result = await runTrain(["data", "fetch", "nope"]);
    expect(result.exitCode).toBe(EXIT_CODES.USAGE);
    expect(errorLines(result.stderr)).toEqual([expect.stringMatching(/^train: error: unknown data set "nope": expected one of cifar10, power /)]);
    // No network here: the power fetch fails on the download, not on the command shape.
    const power = await runTrain(["data", "fetch", "power", "--out-dir", await temporaryDirectory("podtrain-fetch-"), "--url", "http://127.0.0.1:9/none.zip"]);
    expect(errorLines(power.stderr)).toHaveLength(1);
    expect(power.stderr).not.toMatch(/unknown data set/);
    const old = await runTrain(["power", "fetch", "--url", "http://127.0.0.1:9/none.zip", "--out-dir", await temporaryDirectory("podtrain-fetch-")]);
    expect(old.stderr).toContain("train: note: `train power fetch` is deprecated and goes in the next release: use `train data fetch power`");
  });
});

describe("validate output: one key scheme, numbers as numbers", () => {
  it("power validate prints snake_case keys and numeric counts; tick's dotted tags become the same scheme", async () => {
    const root = await temporaryDirectory("podtrain-validate-keys-");
    const data = path.join(root, "power.txt");
    expect((await runTrain(["power", "generate", "--out", data, "--days", "40", "--seed", "4"])).exitCode).toBe(0);
    const result = await runTrain(["power", "validate", "--data-file", data, "--test-weeks", "1", "--validation-weeks", "1"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
    expect(printed.data_version).toMatch(/^[0-9a-f]{64}$/);
    expect(printed.data_rows).toBe(40 * 1440);
    expect(typeof printed.rows_train).toBe("number");
    for (const key of Object.keys(printed)) expect(key).toMatch(/^[a-z0-9_]+$/);
    expect(validateResult({ "data.version": "0123", "data.rows": "7800", "data.feature_set_hash": "1234", "data.from": "2026-01-05", "data.rows_train": "5390" })).toEqual({
      data_version: "0123", data_rows: 7800, data_feature_set_hash: "1234", data_from: "2026-01-05", data_rows_train: 5390,
    });
  });
});
