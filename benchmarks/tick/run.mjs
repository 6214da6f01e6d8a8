// Tick feature benchmark: our pipeline (Node) vs polars on the same generated input, with a
// parity check. Needs `npm run build` (imports dist/) and `scripts/python-env.sh tools`.
// usage: node benchmarks/tick/run.mjs [--trades-per-day 100000] [--symbols 5] [--from 2026-01-05] [--to 2026-01-30] [--workers 1,2]
// --workers: the worker-thread counts to time ours at, one full run each (default: 1 and the CPUs
// the process may use); the outputs of every count must be byte-identical.
import { execFileSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { dayStartNanos, listPartitionDates, listPartitionFiles, NANOS_PER_DAY } from "../../dist/data/tick/partitions.js";
import { decodeTrades } from "../../dist/data/tick/read-trades.js";
import { syntheticSymbols, writeSyntheticTicks } from "../../dist/data/tick/synthetic.js";
import { orderTrades } from "../../dist/data/tick/time-order.js";
import { runFeatureRangeInWorkers } from "../../dist/workflows/tick/parallel-range.js";
import { usableCpus } from "../../dist/core/cpu-count.js";
import { tickFeatureParamsSchema } from "../../dist/workflows/tick/params.js";

const argument = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : fallback;
};
const tradesPerDay = Number(argument("--trades-per-day", "100000"));
const symbols = Number(argument("--symbols", "5"));
const from = argument("--from", "2026-01-05");
const to = argument("--to", "2026-01-30");
const work = path.resolve(argument("--work", ".cache/tick-benchmark"));
const input = path.join(work, `input-${symbols}x${tradesPerDay}-${from}-${to}`);
const output = path.join(work, "features");
const python = path.resolve(".venv/tools/bin/python");
const workerCounts = [...new Set(argument("--workers", `1,${usableCpus()}`).split(",").map(Number))];
if (workerCounts.some((count) => !Number.isInteger(count) || count < 1)) throw new Error("--workers takes worker counts such as 1,2");

if (!existsSync(path.join(input, ".complete"))) {
  const started = performance.now();
  const written = await writeSyntheticTicks({ outputRoot: input, format: "arrow", from, to, symbols, tradesPerDay, seed: 42, corruptFraction: 0.0005 });
  writeFileSync(path.join(input, ".complete"), JSON.stringify(written));
  console.error(`generated ${written.rows} trades in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
const universe = syntheticSymbols(symbols);
const params = tickFeatureParamsSchema.parse({ universe });
const load_average_before = loadavg();
const scaling = [];
let reference;
for (const workers of workerCounts) {
  rmSync(output, { recursive: true, force: true });
  mkdirSync(output, { recursive: true });
  const started = performance.now();
  const results = await runFeatureRangeInWorkers({ inputRoot: input, outputRoot: output, from, to, params, force: true }, workers);
  const seconds = (performance.now() - started) / 1000;
  const rows = results.reduce((sum, result) => sum + ("manifest" in result ? result.manifest.rows.read : 0), 0);
  // Same partitions, same bytes at every worker count (the manifests hold the files' SHA-256).
  const digest = results.map((result) => ("manifest" in result ? `${result.date}:${result.manifest.output.sha256}:${result.manifest.quarantine?.sha256}` : result.date)).join(",");
  reference ??= digest;
  if (digest !== reference) throw new Error(`the output at ${workers} workers differs from the output at ${workerCounts[0]}`);
  scaling.push({ workers, rows, seconds, rows_per_second: rows / seconds, load_average_after: loadavg() });
}
const best = scaling.reduce((a, b) => (b.rows_per_second > a.rows_per_second ? b : a));
const rows = best.rows;
const seconds = best.seconds;
const ours = { engine: `podtrain (Node, apache-arrow, ${best.workers} worker${best.workers === 1 ? "" : "s"})`, rows, seconds, rows_per_second: rows / seconds, load_average_before, scaling };

// The per-date time order (src/data/tick/time-order.ts), timed alone on each date's decoded
// trades: as written (already in time order: the merge and one check pass, what the run above
// paid) and with the date's rows shuffled (what an unsorted Spark output costs: the full sort).
function shuffled(trades, seed) {
  const order = Int32Array.from({ length: trades.rowCount }, (_, index) => index);
  let state = seed >>> 0;
  for (let index = order.length - 1; index > 0; index -= 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const other = state % (index + 1);
    [order[index], order[other]] = [order[other], order[index]];
  }
  const pick = (source) => { const target = new source.constructor(source.length); for (let i = 0; i < order.length; i += 1) target[i] = source[order[i]]; return target; };
  return { ...trades, timestampNanos: pick(trades.timestampNanos), symbolCodes: pick(trades.symbolCodes), price: pick(trades.price), size: pick(trades.size), side: trades.side && pick(trades.side), missing: trades.missing && pick(trades.missing) };
}
const ordering = { in_order_seconds: 0, shuffled_seconds: 0, dates: 0 };
for (const date of await listPartitionDates(input)) {
  const decoded = (await listPartitionFiles(input, date)).map((file) => decodeTrades(readFileSync(file), file).trades);
  const window = { start: dayStartNanos(date), end: dayStartNanos(date) + NANOS_PER_DAY };
  let started = performance.now();
  orderTrades(decoded, window);
  ordering.in_order_seconds += (performance.now() - started) / 1000;
  const mixed = decoded.map((trades, index) => shuffled(trades, 17 + index));
  started = performance.now();
  const result = orderTrades(mixed, window);
  ordering.shuffled_seconds += (performance.now() - started) / 1000;
  if (!result.reordered) throw new Error("shuffled trades were not reordered");
  ordering.dates += 1;
}
ours.time_order = { ...ordering, in_order_share_of_run: ordering.in_order_seconds / seconds, shuffled_rows_per_second: rows / ordering.shuffled_seconds };
const polars = JSON.parse(execFileSync(python, ["benchmarks/tick/polars_features.py", input, output, universe.join(",")], { encoding: "utf8", maxBuffer: 1 << 24 }));
const versions = JSON.parse(execFileSync(python, ["-c", "import json,sys,polars,pandas,pyarrow;print(json.dumps({'python':sys.version.split()[0],'polars':polars.__version__,'pandas':pandas.__version__,'pyarrow':pyarrow.__version__}))"], { encoding: "utf8" }));
const machine = { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version, ...versions };
const date = new Date().toISOString().slice(0, 10);
const report = { date, machine, input: { trades: rows, symbols, trades_per_symbol_day: tradesPerDay, from, to, format: "arrow-ipc-file" }, ours, polars, ratio_ours_over_polars: ours.rows_per_second / polars.rows_per_second };
mkdirSync("benchmarks/results", { recursive: true });
writeFileSync(`benchmarks/results/tick-${date}.json`, `${JSON.stringify(report, null, 2)}\n`);
const fmt = (value) => Math.round(value).toLocaleString("en-US");
const markdown = `# Tick features benchmark, ${date}

Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB; Node ${machine.node}; Python ${machine.python}, polars ${machine.polars}, pyarrow ${machine.pyarrow}.
Input: ${fmt(rows)} trades (${symbols} symbols × ${fmt(tradesPerDay)} trades/day, weekdays ${from}..${to}), Arrow IPC files, 0.05% corrupted rows.

| engine | seconds | rows/s |
|---|---:|---:|
${scaling.map((run) => `| podtrain (Node, apache-arrow), ${run.workers} worker${run.workers === 1 ? "" : "s"} | ${run.seconds.toFixed(2)} | ${fmt(run.rows_per_second)} |`).join("\n")}
| polars ${polars.version} (${polars.threads} threads) | ${polars.seconds.toFixed(2)} | ${fmt(polars.rows_per_second)} |

Ratio ours (${best.workers} worker${best.workers === 1 ? "" : "s"}) / polars (rows/s): **${report.ratio_ours_over_polars.toFixed(2)}×**; ours at ${scaling.at(-1).workers} vs ${scaling[0].workers} worker(s): ${(scaling.at(-1).rows_per_second / scaling[0].rows_per_second).toFixed(2)}×, outputs byte-identical.
Load average (1, 5, 15 min) before our runs: ${load_average_before.map((value) => value.toFixed(2)).join(", ")}; after each: ${scaling.map((run) => `${run.workers}w ${run.load_average_after.map((value) => value.toFixed(2)).join(", ")}`).join("; ")}.
Per-date time order (each symbol's trades by timestamp, file, row) over the ${ordering.dates} dates: ${ordering.in_order_seconds.toFixed(3)} s on this input as written (already in order; ${(100 * ours.time_order.in_order_share_of_run).toFixed(1)}% of our run), ${ordering.shuffled_seconds.toFixed(2)} s with every date's rows shuffled (${fmt(ours.time_order.shuffled_rows_per_second)} rows/s).
Parity (features joined on symbol + bar start, max |a-b| / max(1,|a|,|b|)): ${polars.parity.ok ? "OK" : "FAILED"}, unmatched rows ${polars.parity.unmatched}, label mismatches ${polars.parity.label_mismatches}.

${Object.entries(polars.parity.max_relative_difference).map(([name, value]) => `- ${name}: ${typeof value === "number" ? value.toExponential(2) : value}`).join("\n")}

Ours includes what the pipeline does in production: SHA-256 of every input file, validation and
quarantine, writing features + manifest per partition. Polars times read + validate + features in memory.
`;
writeFileSync(`benchmarks/results/tick-${date}.md`, markdown);
console.log(markdown);
