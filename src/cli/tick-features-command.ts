import { Option, type Command } from "commander";
import { addOptionWithAliases } from "./option-conventions.js";
import { numberFlag } from "./flag-parsers.js";
import { requireDate, scanPartitionRoot } from "../data/tick/partitions.js";
import path from "node:path";
import { DataError, UsageError } from "../core/errors.js";
import { loadSpecFile, parseParams, specPathFor } from "../config/load.js";
import { WORKFLOWS } from "../workflows/catalog.js";
import { tickFeatureParamsSchema, tickFeatureRunParamsSchema, type TickFeatureParams } from "../workflows/tick/params.js";
import { usableCpus } from "../core/cpu-count.js";
import type { FeaturePartitionResult } from "../workflows/tick/compute-partition.js";
import type { PlannedPartition } from "../workflows/tick/feature-range.js";

// `train tick features`: one date (`--date`, what an Airflow mapped task runs) or a range
// (`--from/--to`, a backfill; `--dry-run` lists compute / skip / missing per date). Parameters
// come from models/tick_model.yaml `params`, flags override them; the defaults shown in --help
// are the schema's.

const DEFAULTS = tickFeatureParamsSchema.parse({});

interface FeaturesFlags {
  date?: string;
  from?: string;
  to?: string;
  dryRun?: boolean;
  force?: boolean;
  input: string;
  outDir: string;
  bar?: string;
  labelHorizonBars?: number;
  deadBandBps?: number;
  maxRejectFraction?: number;
  universe?: string[];
  workers?: number;
  spec?: string;
}

const FLAG_OF: Record<string, string> = { bar: "--bar", label_horizon_bars: "--label-horizon-bars", dead_band_bps: "--dead-band-bps", max_reject_fraction: "--max-reject-fraction", universe: "--universe" };

export async function resolveFeatureParams(flags: FeaturesFlags): Promise<TickFeatureParams> {
  const loaded = await loadSpecFile(flags.spec ?? specPathFor(WORKFLOWS.tick.registeredModel));
  const featureKeys = Object.keys(tickFeatureParamsSchema.shape);
  const fromSpec = Object.fromEntries(Object.entries(loaded.spec.params).filter(([key]) => featureKeys.includes(key)));
  const overrides = Object.fromEntries(
    Object.entries({ bar: flags.bar, label_horizon_bars: flags.labelHorizonBars, dead_band_bps: flags.deadBandBps, max_reject_fraction: flags.maxRejectFraction, universe: flags.universe })
      .filter(([, value]) => value !== undefined),
  );
  // The spec's own values first, with its file:line, whatever the flags say; then the flags.
  return parseParams(loaded, tickFeatureParamsSchema, overrides, { specParams: fromSpec, flagOf: (key) => FLAG_OF[key] ?? key });
}

/** Worker threads for a range: --workers, else the spec's `workers`, else the CPUs the process may use. */
export async function resolveFeatureWorkers(flags: Pick<FeaturesFlags, "workers" | "spec">): Promise<number> {
  if (flags.workers !== undefined) return flags.workers;
  const loaded = await loadSpecFile(flags.spec ?? specPathFor(WORKFLOWS.tick.registeredModel));
  const runKeys = Object.keys(tickFeatureRunParamsSchema.shape);
  const fromSpec = Object.fromEntries(Object.entries(loaded.spec.params).filter(([key]) => runKeys.includes(key)));
  const { workers } = parseParams(loaded, tickFeatureRunParamsSchema, {}, { specParams: fromSpec });
  return workers ?? usableCpus();
}

/** Aborts on SIGINT/SIGTERM while `body` runs (the workers stop, the CLI exits 130/143). */
async function withStopSignals<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => controller.abort(signal);
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    return await body(controller.signal);
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

export async function runTickFeatures(flags: FeaturesFlags, print: (line: string) => void): Promise<void> {
  const single = flags.date !== undefined;
  const range = flags.from !== undefined || flags.to !== undefined;
  if (single === range) throw new UsageError("give either --date D or --from D1 --to D2");
  if (range && (flags.from === undefined || flags.to === undefined)) throw new UsageError("--from and --to go together");
  if (single && flags.dryRun) throw new UsageError("--dry-run plans a range: use --from D --to D");
  const params = await resolveFeatureParams(flags);
  // s3:// roots are mirrored through a temporary folder (object-store-roots.ts); local ones are used as they are.
  const { withTickRoots } = await import("../workflows/tick/object-store-roots.js");
  await withTickRoots(flags.input, flags.outDir, { ...flags, partitionKey: params.input.partition_key }, (roots) => runOnRoots({ ...flags, input: roots.input, outDir: roots.output }, roots.inputDisplay, params, print));
}

async function runOnRoots(flags: FeaturesFlags, inputDisplay: string, params: TickFeatureParams, print: (line: string) => void): Promise<void> {
  const single = flags.date !== undefined;
  const key = params.input.partition_key;
  const scan = await scanPartitionRoot(path.resolve(flags.input), key);
  if (scan.foreign.length > 0) {
    process.stderr.write(`train: warning: ${scan.foreign.length} folder(s) under ${inputDisplay} are not ${key}=YYYY-MM-DD partitions and were ignored: ${scan.foreign.slice(0, 5).join(", ")}${scan.foreign.length > 5 ? ", …" : ""}\n`);
  }
  if (scan.dates.length === 0) throw new DataError(`input folder ${inputDisplay} holds no ${key}=YYYY-MM-DD partitions`);
  // Loaded here, not at the top: `train --help` must not load Arrow and Parquet WebAssembly.
  const { computeFeaturePartition } = await import("../workflows/tick/compute-partition.js");
  const { formatPlan, planFeatureRange } = await import("../workflows/tick/feature-range.js");
  const { runFeatureRangeInWorkers } = await import("../workflows/tick/parallel-range.js");
  const base = { inputRoot: flags.input, outputRoot: flags.outDir, params, force: flags.force ?? false };
  if (single) {
    const result = await computeFeaturePartition({ ...base, date: requireDate(flags.date as string, "--date") });
    print(`${result.date}  ${result.status}  ${result.manifest.output.rows} bars  ${result.manifest.rows.rejected} rejected of ${result.manifest.rows.read}`);
    return;
  }
  const options = { ...base, from: requireDate(flags.from as string, "--from"), to: requireDate(flags.to as string, "--to") };
  if (flags.dryRun) {
    print(formatPlan(await planFeatureRange(options)));
    return;
  }
  const workers = await resolveFeatureWorkers(flags);
  const report = (result: FeaturePartitionResult | PlannedPartition) => {
    if ("status" in result) print(`${result.date}  ${result.status}  ${result.manifest.output.rows} bars  ${result.manifest.rows.rejected} rejected of ${result.manifest.rows.read}`);
    else print(`${result.date}  missing  ${result.detail}`);
  };
  // --workers 1 is the in-process run as it always was (a signal ends it the default way).
  if (workers <= 1) await runFeatureRangeInWorkers(options, 1, report);
  else await withStopSignals((signal) => runFeatureRangeInWorkers(options, workers, report, signal));
}

export function registerTickFeaturesCommand(tick: Command): void {
  const features = tick
    .command("features")
    .description("compute bar features from tick trades, one output partition per date")
    .option("--date <date>", "one partition, YYYY-MM-DD")
    .option("--from <date>", "first date of a range")
    .option("--to <date>", "last date of a range (inclusive)")
    .option("--dry-run", "list what each date of the range would do, write nothing")
    .option("--force", "recompute even when the manifest shows unchanged input")
    .requiredOption("--input <dir>", "trades root with date=YYYY-MM-DD partitions (a folder or s3://bucket/prefix; output of `train tick generate` or real trades)")
    .addOption(new Option("--bar <duration>", "bar length, dividing a day: 30s, 1m, 5m …").default(undefined, DEFAULTS.bar))
    .addOption(new Option("--dead-band-bps <bps>", "returns within ± this many basis points get no label").argParser(numberFlag()).default(undefined, String(DEFAULTS.dead_band_bps)))
    .addOption(new Option("--max-reject-fraction <fraction>", "fail a partition when more than this share (0-1) of its trades is rejected").argParser(numberFlag()).default(undefined, String(DEFAULTS.max_reject_fraction)))
    .addOption(new Option("--universe <symbols>", "comma-separated allowed symbols (default: all)").argParser((text: string) => text.split(",").map((symbol) => symbol.trim()).filter(Boolean)))
    .addOption(new Option("--workers <n>", "worker threads computing the dates of a range, 1: in process (default: spec `workers`, else the CPUs the process may use, cgroup CPU quota included)").argParser(numberFlag({ integer: true, minimum: 1 })))
    .option("--spec <file>", "workflow spec (default models/tick_model.yaml)");
  // --out-dir as everywhere (was --output); --label-horizon-bars as in `train tick` and the spec (was --horizon).
  addOptionWithAliases(features, new Option("--out-dir <dir>", "features root (a folder or s3://bucket/prefix): one date=YYYY-MM-DD partition per date (what `train tick --features-dir` reads)"), ["--output <dir>"], { required: true });
  addOptionWithAliases(
    features,
    new Option("--label-horizon-bars <bars>", "the label is the direction of the return this many bars ahead").argParser(numberFlag({ integer: true })).default(undefined, String(DEFAULTS.label_horizon_bars)),
    ["--horizon <bars>"],
  );
  features
    .action(async (flags: FeaturesFlags) => {
      await runTickFeatures(flags, (line) => process.stdout.write(`${line}\n`));
    });
}
