import path from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { numberFlag } from "./flag-parsers.js";
import { UCI_POWER_URL } from "../data/power/fetch.js";
import { fetchDataset } from "./data-command.js";
import { deprecatedCommandNote } from "./option-conventions.js";
import { writeSyntheticPowerDirectory, writeSyntheticPowerFile } from "../data/power/synthetic-file.js";
import { UsageError } from "../core/errors.js";

// Data subcommands of `train power`: `generate` (synthetic data in the exact UCI format) and
// `fetch` (the real archive), wired by name from the workflow catalog (workflow-subcommands.ts).

function isoDay(value: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) throw new InvalidArgumentError("expected YYYY-MM-DD.");
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
}

export function registerPowerSubcommands(power: Command): void {
  registerPowerGenerateCommand(power);
  registerPowerFetchCommand(power);
}

export function registerPowerGenerateCommand(power: Command): void {
  power
    .command("generate")
    .description("write realistic synthetic household power data in the exact UCI text format (daily and weekly cycles, sub-meterings, `?` outages)")
    .option("--out <file>", "one file, like household_power_consumption.txt")
    .option("--out-dir <folder>", "one file per day instead (household_power_YYYY-MM-DD.txt)")
    .option("--days <n>", "days of minutes to generate", numberFlag({ integer: true, exclusiveMinimum: 0 }), 365)
    .option("--seed <n>", "random seed: the same seed gives the same bytes", numberFlag({ integer: true }), 1)
    .option("--start <YYYY-MM-DD>", "first day (default 2006-12-16, the real file's first day)", isoDay)
    .action(async (options: { out?: string; outDir?: string; days: number; seed: number; start?: number }) => {
      if (!options.out === !options.outDir) throw new UsageError("train power generate needs exactly one of --out <file> or --out-dir <folder>");
      const synthetic = { days: options.days, seed: options.seed, ...(options.start === undefined ? {} : { start: options.start }) };
      const started = performance.now();
      if (options.out) {
        const rows = await writeSyntheticPowerFile(options.out, synthetic);
        process.stdout.write(`wrote ${rows} rows (${options.days} days) to ${path.resolve(options.out)} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      } else {
        const files = await writeSyntheticPowerDirectory(options.outDir!, synthetic);
        process.stdout.write(`wrote ${files.length} daily files to ${path.resolve(options.outDir!)} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      }
    });
}

export function registerPowerFetchCommand(power: Command): void {
  power
    .command("fetch")
    .description(`deprecated, use \`train data fetch power\`: download the UCI household power archive (${UCI_POWER_URL}) and unpack household_power_consumption.txt`)
    .option("--out-dir <folder>", "where to put household_power_consumption.txt (default: data/power)")
    .option("--sha256 <hex>", "expected SHA-256 of the archive (anything else is refused)")
    .option("--url <url>", "mirror of the archive")
    .action(async (options: { outDir?: string; sha256?: string; url?: string }) => {
      deprecatedCommandNote("train power fetch", "train data fetch power");
      process.stdout.write(`${await fetchDataset("power", options)}\n`);
    });
}
