// Tick feature benchmark, every side in one run on the same generated input: our pipeline (Node)
// at 1..N worker threads (N: the CPUs this process may use), polars (lazy, all threads) and pandas,
// each with its wall and CPU time, the load average before and after it, and a parity check of
// polars and pandas against our output. Needs `npm run build` (imports dist/) and
// `scripts/python-env.sh tools`.
// usage: node benchmarks/tick/run.mjs [--trades 10000000] [--large] [--symbols 5] [--from 2026-01-05] [--to 2026-01-16]
//          [--trades-per-day N] [--workers 1,2] [--repeat 1] [--no-pandas]
// --trades: total trades, spread over the symbols and the weekdays of the range; --large: 50 M trades.
// --workers: the worker-thread counts to time ours at (default 1..N); outputs must be byte-identical.
// --repeat: runs per side; the fastest is reported (the others' times are in the JSON).
import { execFileSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { datesBetween, dayStartNanos, listPartitionDates, listPartitionFiles, NANOS_PER_DAY } from "../../dist/data/tick/partitions.js";
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
const flag = (name) => process.argv.includes(name);
const symbols = Number(argument("--symbols", "5"));
const from = argument("--from", "2026-01-05");
const to = argument("--to", "2026-01-16");
const weekdays = datesBetween(from, to).filter((date) => ![0, 6].includes(new Date(`${date}T00:00:00Z`).getUTCDay())).length;
const totalTrades = Number(argument("--trades", flag("--large") ? "50000000" : "10000000"));
const tradesPerDay = Number(argument("--trades-per-day", String(Math.round(totalTrades / (symbols * weekdays)))));
const repeat = Math.max(1, Number(argument("--repeat", "1")));
const work = path.resolve(argument("--work", ".cache/tick-benchmark"));
const input = path.join(work, `input-${symbols}x${tradesPerDay}-${from}-${to}`);
const output = path.join(work, "features");
const python = path.resolve(".venv/tools/bin/python");
const cpusUsable = usableCpus();
const defaultWorkers = Array.from({ length: cpusUsable }, (_, index) => index + 1).join(",");
const workerCounts = [...new Set(argument("--workers", defaultWorkers).split(",").map(Number))];
if (workerCounts.some((count) => !Number.isInteger(count) || count < 1)) throw new Error("--workers takes worker counts such as 1,2");

if (!existsSync(path.join(input, ".complete"))) {
  const started = performance.now();
  const written = await writeSyntheticTicks({ outputRoot: input, format: "arrow", from, to, symbols, tradesPerDay, seed: 42, corruptFraction: 0.0005 });
  writeFileSync(path.join(input, ".complete"), JSON.stringify(written));
  console.error(`generated ${written.rows} trades in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
const round = (value, digits = 3) => Number(value.toFixed(digits));
const load = () => loadavg().map((value) => round(value, 2));
/** CPU seconds (user + system) of this process, all its threads, since `start`. */
const cpuSince = (start) => {
  const usage = process.cpuUsage(start);
  return (usage.user + usage.system) / 1e6;
};
const universe = syntheticSymbols(symbols);
const params = tickFeatureParamsSchema.parse({ universe });
const scaling = [];
let reference;
for (const workers of workerCounts) {
  const tries = [];
  for (let attempt = 0; attempt < repeat; attempt += 1) {
    rmSync(output, { recursive: true, force: true });
    mkdirSync(output, { recursive: true });
    const load_before = load();
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    const results = await runFeatureRangeInWorkers({ inputRoot: input, outputRoot: output, from, to, params, force: true }, workers);
    const seconds = (performance.now() - started) / 1000;
    const cpu_seconds = cpuSince(cpuStart);
    const rows = results.reduce((sum, result) => sum + ("manifest" in result ? result.manifest.rows.read : 0), 0);
    // Same partitions, same bytes at every worker count (the manifests hold the files' SHA-256).
    const digest = results.map((result) => ("manifest" in result ? `${result.date}:${result.manifest.output.sha256}:${result.manifest.quarantine?.sha256}` : result.date)).join(",");
    reference ??= digest;
    if (digest !== reference) throw new Error(`the output at ${workers} workers differs from the output at ${workerCounts[0]}`);
    tries.push({ rows, seconds: round(seconds), cpu_seconds: round(cpu_seconds), load_before, load_after: load() });
  }
  const fastest = tries.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  scaling.push({ workers, ...fastest, rows_per_second: Math.round(fastest.rows / fastest.seconds), tries });
}
for (const run of scaling) run.speedup_over_one = round(scaling[0].seconds / run.seconds, 2);
const best = scaling.reduce((a, b) => (b.rows_per_second > a.rows_per_second ? b : a));
const rows = best.rows;
const seconds = best.seconds;
const ours = { engine: `podtrain (Node, apache-arrow, ${best.workers} worker${best.workers === 1 ? "" : "s"})`, rows, seconds, cpu_seconds: best.cpu_seconds, rows_per_second: rows / seconds, scaling };

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
/** One peer script, `repeat` times: the fastest run, with the load around it. */
function peer(script) {
  const tries = [];
  for (let attempt = 0; attempt < repeat; attempt += 1) {
    const load_before = load();
    const result = JSON.parse(execFileSync(python, [script, input, output, universe.join(",")], { encoding: "utf8", maxBuffer: 1 << 24 }));
    tries.push({ ...result, load_before, load_after: load() });
  }
  const fastest = tries.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return { ...fastest, tries: tries.map(({ seconds, cpu_seconds, load_before, load_after }) => ({ seconds, cpu_seconds, load_before, load_after })) };
}
const polars = peer("benchmarks/tick/polars_features.py");
const pandas = flag("--no-pandas") ? null : peer("benchmarks/tick/pandas_features.py");
const versions = JSON.parse(execFileSync(python, ["-c", "import json,sys,polars,pandas,pyarrow;print(json.dumps({'python':sys.version.split()[0],'polars':polars.__version__,'pandas':pandas.__version__,'pyarrow':pyarrow.__version__}))"], { encoding: "utf8" }));
const machine = { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, usable_cpus: cpusUsable, memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version, ...versions };
const date = new Date().toISOString().slice(0, 10);
const suffix = totalTrades >= 50_000_000 || rows >= 50_000_000 ? "-50m" : "";
const report = {
  date, machine, input: { trades: rows, symbols, trades_per_symbol_day: tradesPerDay, from, to, format: "arrow-ipc-file" }, ours, polars, pandas,
  ratio_ours_over_polars: ours.rows_per_second / polars.rows_per_second,
  ratio_ours_over_pandas: pandas ? ours.rows_per_second / pandas.rows_per_second : null,
};
mkdirSync("benchmarks/results", { recursive: true });
writeFileSync(`benchmarks/results/tick-${date}${suffix}.json`, `${JSON.stringify(report, null, 2)}\n`);
const fmt = (value) => Math.round(value).toLocaleString("en-US");
const loads = (run) => `${run.load_before.join(", ")} → ${run.load_after.join(", ")}`;
const peerRow = (result, name) => `| ${name} | ${result.seconds.toFixed(2)} | ${result.cpu_seconds.toFixed(2)} | ${fmt(result.rows_per_second)} | ${(ours.rows_per_second / result.rows_per_second).toFixed(2)}× | ${loads(result)} |`;
const parityLine = (result, name) => `${name}: ${result.parity.ok ? "OK" : "FAILED"}, unmatched rows ${result.parity.unmatched}, label mismatches ${result.parity.label_mismatches}; max relative difference ${Object.entries(result.parity.max_relative_difference).map(([column, value]) => `${column} ${typeof value === "number" ? value.toExponential(1) : value}`).join(", ")}.`;
const markdown = `# Tick features benchmark, ${date}${suffix ? " (50 M trades)" : ""}

Machine: ${machine.cpu}, ${machine.cores} cores (${machine.usable_cpus} usable by this process), ${machine.memory_gib} GiB; Node ${machine.node}; Python ${machine.python}, polars ${machine.polars}, pandas ${machine.pandas}, pyarrow ${machine.pyarrow}.
Input: ${fmt(rows)} trades (${symbols} symbols × ${fmt(tradesPerDay)} trades/day, weekdays ${from}..${to}), Arrow IPC files, 0.05% corrupted rows.
Each side ran ${repeat} time(s); the fastest run is shown. CPU = user + system seconds of all the side's threads.

| engine | wall s | CPU s | rows/s | ours (best) / this | load average 1, 5, 15 min: before → after |
|---|---:|---:|---:|---:|---|
${scaling.map((run) => `| podtrain (Node), ${run.workers} worker${run.workers === 1 ? "" : "s"} | ${run.seconds.toFixed(2)} | ${run.cpu_seconds.toFixed(2)} | ${fmt(run.rows_per_second)} | ${(ours.rows_per_second / run.rows_per_second).toFixed(2)}× | ${loads(run)} |`).join("\n")}
${peerRow(polars, `polars ${polars.version}, lazy (${polars.threads} threads)`)}
${pandas ? peerRow(pandas, `pandas ${pandas.version} (1 thread)`) : ""}

Ours (${best.workers} worker${best.workers === 1 ? "" : "s"}) / polars, rows/s: **${report.ratio_ours_over_polars.toFixed(2)}×**${pandas ? `; / pandas: ${report.ratio_ours_over_pandas.toFixed(1)}×` : ""}.

Scaling of ours (outputs byte-identical at every count):

| workers | wall s | CPU s | speed-up over 1 |
|---:|---:|---:|---:|
${scaling.map((run) => `| ${run.workers} | ${run.seconds.toFixed(2)} | ${run.cpu_seconds.toFixed(2)} | ${run.speedup_over_one.toFixed(2)}× |`).join("\n")}

Per-date time order (each symbol's trades by timestamp, file, row) over the ${ordering.dates} dates: ${ordering.in_order_seconds.toFixed(3)} s on this input as written (already in order; ${(100 * ours.time_order.in_order_share_of_run).toFixed(1)}% of our run), ${ordering.shuffled_seconds.toFixed(2)} s with every date's rows shuffled (${fmt(ours.time_order.shuffled_rows_per_second)} rows/s).

Parity against our output (features joined on symbol + bar start, max |a-b| / max(1,|a|,|b|)):
- ${parityLine(polars, "polars")}
${pandas ? `- ${parityLine(pandas, "pandas")}` : ""}

Ours includes what the pipeline does in production: SHA-256 of every input file, validation and
quarantine, writing features + manifest per partition. Polars and pandas time read + validate + features in memory.
`;
writeFileSync(`benchmarks/results/tick-${date}${suffix}.md`, markdown);
console.log(markdown);
if (!polars.parity.ok || (pandas && !pandas.parity.ok)) process.exitCode = 1;
