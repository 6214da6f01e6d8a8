import path from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { registerTickFeaturesCommand, runTickFeatures } from "../../../src/cli/tick-features-command.js";
import { writeSyntheticTicks } from "../../../src/data/tick/synthetic.js";
import { UsageError } from "../../../src/core/errors.js";
import { temporaryDirectory } from "./fixtures.js";

describe("registerTickFeaturesCommand", () => {
  it("adds `features` under `train tick`", () => {
    const tick = new Command("tick");
    registerTickFeaturesCommand(tick);
    const features = tick.commands.find((command) => command.name() === "features");
    expect(features?.options.map((option) => option.long)).toEqual(expect.arrayContaining(["--date", "--from", "--to", "--dry-run", "--label-horizon-bars", "--out-dir", "--horizon", "--output", "--dead-band-bps", "--max-reject-fraction"]));
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
