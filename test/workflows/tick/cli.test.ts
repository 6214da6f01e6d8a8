import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { registerTickFeaturesCommand, resolveFeatureWorkers, runTickFeatures } from "../../../src/cli/tick-features-command.js";
import { writeSyntheticTicks } from "../../../src/data/tick/synthetic.js";
import { SpecError, UsageError } from "../../../src/core/errors.js";
import { usableCpus } from "../../../src/core/cpu-count.js";
import { temporaryDirectory } from "./fixtures.js";

describe("registerTickFeaturesCommand", () => {
  it("adds `features` under `train tick`", () => {
    const tick = new Command("tick");
    registerTickFeaturesCommand(tick);
    const features = tick.commands.find((command) => command.name() === "features");
    expect(features?.options.map((option) => option.long)).toEqual(expect.arrayContaining(["--date", "--from", "--to", "--dry-run", "--label-horizon-bars", "--out-dir", "--horizon", "--output", "--dead-band-bps", "--max-reject-fraction", "--workers"]));
  });
});

describe("runTickFeatures", () => {
  it("prints a dry-run plan and refuses contradictory or bad flags", async () => {
    const root = temporaryDirectory();
    const input = path.join(root, "input");
    await writeSyntheticTicks({ outputRoot: input, format: "csv", from: "2026-01-09", to: "2026-01-09", symbols: 1, tradesPerDay: 500, seed: 1 });
    const lines: string[] = [];
    await runTickFeatures({ input, outDir: path.join(root, "out"), from: "2026-01-09", to: "2026-01-10", dryRun: true }, (line) => lines.push(line));
    expect(lines.join("\n")).toMatch(/2026-01-09  compute .*\n2026-01-10  missing/);
    await expect(runTickFeatures({ input, outDir: root, date: "2026-01-09", from: "2026-01-09" }, () => {})).rejects.toThrow(UsageError);
    await expect(runTickFeatures({ input, outDir: root, date: "2026-01-09", bar: "7m" }, () => {})).rejects.toThrow(/--bar: expected a bar length that divides a day/);
    await expect(runTickFeatures({ input, outDir: root, date: "2026-02-30" }, () => {})).rejects.toThrow(/--date: expected a calendar date/);
  });
});

describe("resolveFeatureWorkers", () => {
  const specWith = (line: string) => {
    const file = path.join(temporaryDirectory(), "tick_model.yaml");
    writeFileSync(file, readFileSync("models/tick_model.yaml", "utf8").replace("\nparams:\n", `\nparams:\n  ${line}\n`));
    return file;
  };

  it("takes --workers, else the spec's workers, else the CPUs the process may use", async () => {
    expect(await resolveFeatureWorkers({})).toBe(usableCpus());
    expect(await resolveFeatureWorkers({ spec: specWith("workers: 3") })).toBe(3);
    expect(await resolveFeatureWorkers({ spec: specWith("workers: 3"), workers: 5 })).toBe(5);
  });

  it("refuses a spec's workers that is not a positive integer, with its file:line", async () => {
    await expect(resolveFeatureWorkers({ spec: specWith("workers: 0") })).rejects.toThrow(SpecError);
    await expect(resolveFeatureWorkers({ spec: specWith("workers: null") })).rejects.toThrow(SpecError);
    await expect(resolveFeatureWorkers({ spec: specWith("workers: 1.5") })).rejects.toThrow(/tick_model\.yaml:\d+.*workers/);
  });
});
