import { Option, type Command } from "commander";
import { addOptionWithAliases } from "./option-conventions.js";
import { numberFlag } from "./flag-parsers.js";
import { TRADE_FILE_FORMATS, type TradeFileFormat } from "../data/tick/formats.js";
import { requireDate } from "../data/tick/partitions.js";

// `train tick generate`: synthetic trades in date partitions, for demos, tests and benchmarks.

interface GenerateFlags {
  outDir: string;
  from: string;
  to: string;
  symbols: number;
  tradesPerDay: number;
  format: TradeFileFormat;
  seed: number;
  side: boolean;
  corruptFraction: number;
}

export function registerTickGenerateCommand(tick: Command): void {
  const generate = tick
    .command("generate")
    .description("write synthetic tick trades (weekdays) as date=YYYY-MM-DD partitions")
    .requiredOption("--from <date>", "first date, YYYY-MM-DD")
    .requiredOption("--to <date>", "last date (inclusive), YYYY-MM-DD")
    .addOption(new Option("--symbols <n>", "number of symbols").argParser(numberFlag({ integer: true, minimum: 0 })).default(5))
    .addOption(new Option("--trades-per-day <n>", "trades per symbol per day").argParser(numberFlag({ integer: true, minimum: 0 })).default(100_000))
    .addOption(new Option("--format <format>", "file format").choices([...TRADE_FILE_FORMATS]).default("parquet"))
    .addOption(new Option("--seed <n>", "random seed").argParser(numberFlag({ integer: true, minimum: 0 })).default(1))
    .option("--no-side", "omit the side column (features then use the tick rule)")
    .addOption(new Option("--corrupt-fraction <f>", "share of rows damaged on purpose").argParser(numberFlag({ minimum: 0 })).default(0))
;
  // --out-dir as for every folder target (was --out).
  addOptionWithAliases(generate, new Option("--out-dir <dir>", "trades root: one date=YYYY-MM-DD partition per weekday (what `train tick features --input` reads)"), ["--out <dir>"], { required: true });
  generate.action(async (flags: GenerateFlags) => {
      const { writeSyntheticTicks } = await import("../data/tick/synthetic.js");
      const result = await writeSyntheticTicks({
        outputRoot: flags.outDir, format: flags.format, from: requireDate(flags.from, "--from"), to: requireDate(flags.to, "--to"),
        symbols: flags.symbols, tradesPerDay: flags.tradesPerDay, seed: flags.seed, withSide: flags.side, corruptFraction: flags.corruptFraction,
      });
      process.stdout.write(`wrote ${result.rows} trades in ${result.dates.length} partitions under ${flags.outDir}\n`);
    });
}
