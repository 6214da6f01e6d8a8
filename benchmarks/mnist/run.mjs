#!/usr/bin/env node
// MNIST training benchmark: podtrain (native TensorFlow and wasm, through `train bench`, i.e. the
// real model factory and fit loop) against Keras 3 on the same TensorFlow 2.21.0, same model,
// batch size, optimizer and thread settings. Implementations take turns within each round, so a
// change in machine load hits all of them; we report medians over rounds and the per-round ratio.
//
//   npm run bench:mnist -- [--rounds 3] [--steps 30] [--warmup 5] [--wasm-steps 10] [--no-wasm] [--no-eager]
//                          [--with-stock] [--intra-op-threads N] [--inter-op-threads N] [--out benchmarks/results]
//
// Writes benchmarks/results/mnist-<date>.json and .md. Needs `npm run setup` (native TensorFlow,
// built dist/) and builds .venv/keras from scripts/python/keras.txt when missing.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { markdownTable, textTable } from "../../dist/bench/report.js";
import { median } from "../../dist/bench/statistics.js";

const root = path.resolve(import.meta.dirname, "../..");
const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    steps: { type: "string", default: "30" },
    warmup: { type: "string", default: "5" },
    "wasm-steps": { type: "string", default: "10" },
    "batch-size": { type: "string", default: "128" },
    "no-wasm": { type: "boolean", default: false },
    // The eager row is the same model stepped op by op through tfjs-layers: the before/after of graph execution.
    "no-eager": { type: "boolean", default: false },
    // Adds tfjs-node with its stock kernels (PODTRAIN_STOCK_KERNELS=1): before/after in one run.
    "with-stock": { type: "boolean", default: false },
    "intra-op-threads": { type: "string", default: String(os.availableParallelism()) },
    "inter-op-threads": { type: "string", default: String(os.availableParallelism()) },
    out: { type: "string", default: path.join(root, "benchmarks", "results") },
  },
});

// One thread setting for both sides: TensorFlow reads these when its first context is created,
// in tfjs-node (which passes no ConfigProto) and in Python alike.
const threadEnvironment = {
  ...process.env,
  TF_NUM_INTRAOP_THREADS: flags["intra-op-threads"],
  TF_NUM_INTEROP_THREADS: flags["inter-op-threads"],
  TF_CPP_MIN_LOG_LEVEL: "2",
};
const common = ["--batch-size", flags["batch-size"], "--warmup", flags.warmup];
const python = path.join(root, ".venv", "keras", "bin", "python");
if (!fs.existsSync(python)) execFileSync(path.join(root, "scripts", "python-env.sh"), ["keras"], { stdio: "inherit" });

const implementations = [
  { key: "native", name: "podtrain, native, graph step", command: process.execPath, args: [path.join(root, "bin", "train.js"), "bench", "mnist", "--backend", "tensorflow", "--execution", "graph", "--json", "--steps", flags.steps, ...common] },
  ...(flags["no-eager"] ? [] : [{ key: "eager", name: "podtrain, native, eager (op by op)", command: process.execPath, args: [path.join(root, "bin", "train.js"), "bench", "mnist", "--backend", "tensorflow", "--execution", "eager", "--json", "--steps", flags.steps, ...common] }]),
  ...(flags["with-stock"] ? [{ key: "stock", name: "podtrain, native, eager, stock kernels", env: { PODTRAIN_STOCK_KERNELS: "1" }, command: process.execPath, args: [path.join(root, "bin", "train.js"), "bench", "mnist", "--backend", "tensorflow", "--execution", "eager", "--json", "--steps", flags.steps, ...common] }] : []),
  { key: "keras", name: "Keras 3, Python TensorFlow", command: python, args: [path.join(root, "benchmarks", "mnist", "keras_bench.py"), "--steps", flags.steps, ...common] },
  ...(flags["no-wasm"] ? [] : [{ key: "wasm", name: "podtrain, wasm (fallback)", command: process.execPath, args: [path.join(root, "bin", "train.js"), "bench", "mnist", "--backend", "wasm", "--json", "--steps", flags["wasm-steps"], ...common] }]),
];

const runs = Object.fromEntries(implementations.map(({ key }) => [key, []]));
const loadAtStart = os.loadavg();
for (let round = 1; round <= Number(flags.rounds); round += 1) {
  for (const implementation of implementations) {
    const load = os.loadavg()[0];
    const child = spawnSync(implementation.command, implementation.args, { cwd: root, env: { ...threadEnvironment, ...implementation.env }, encoding: "utf8", maxBuffer: 16 << 20 });
    if (child.status !== 0) throw new Error(`${implementation.name} failed (exit ${child.status}):\n${child.stderr}`);
    const result = JSON.parse(child.stdout.slice(child.stdout.indexOf("{")));
    runs[implementation.key].push({ ...result, loadAverageBefore: load });
    process.stderr.write(`round ${round} ${implementation.name.padEnd(30)} ${result.imagesPerSecond.toFixed(0).padStart(6)} images/s  ${result.msPerStep.median.toFixed(1).padStart(7)} ms/step  load ${load.toFixed(2)}\n`);
  }
}

const summaries = implementations.map(({ key, name }) => {
  const list = runs[key];
  return {
    key,
    name,
    imagesPerSecond: median(list.map((run) => run.imagesPerSecond)),
    msPerStep: median(list.map((run) => run.msPerStep.median)),
    cpuMsPerStep: median(list.map((run) => run.cpuMsPerStep)),
    epochSeconds: median(list.map((run) => run.epochSeconds)),
    peakRssBytes: Math.max(...list.map((run) => run.peakRssBytes)),
    // Ratio against Keras in the same round (same load), then the median over rounds.
    ratio: median(list.map((run, round) => run.imagesPerSecond / runs.keras[round].imagesPerSecond)),
    cpuRatio: median(list.map((run, round) => runs.keras[round].cpuMsPerStep / run.cpuMsPerStep)),
  };
});

const first = (key) => runs[key]?.[0];
const date = new Date().toISOString().slice(0, 10);
const gitSha = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim();
const machine = {
  cpuModel: os.cpus()[0]?.model.trim(),
  cores: os.availableParallelism(),
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  loadAverageAtStart: loadAtStart.map((value) => Number(value.toFixed(2))),
  loadAverageAtEnd: os.loadavg().map((value) => Number(value.toFixed(2))),
  node: process.version,
  python: first("keras")?.python,
  tensorflowNative: first("native")?.tensorflowVersion,
  tensorflowPython: first("keras")?.tensorflowVersion,
  keras: first("keras")?.kerasVersion,
  tfjs: first("native")?.tfjsVersion,
  intraOpThreads: Number(flags["intra-op-threads"]),
  interOpThreads: Number(flags["inter-op-threads"]),
};
const settings = { model: "src/workflows/mnist/model.ts (Keras MNIST convnet)", batchSize: Number(flags["batch-size"]), optimizer: "Adam 1e-3", steps: Number(flags.steps), wasmSteps: Number(flags["wasm-steps"]), warmup: Number(flags.warmup), rounds: Number(flags.rounds), data: "synthetic uniform images, random labels" };
const rows = summaries.map((summary) => (summary.key === "keras" ? { ...summary, ratio: undefined, cpuRatio: undefined } : summary));

fs.mkdirSync(flags.out, { recursive: true });
const base = path.join(flags.out, `mnist-${date}`);
fs.writeFileSync(`${base}.json`, `${JSON.stringify({ date, gitSha, machine, settings, summaries, runs }, null, 2)}\n`);
const perRound = implementations.map(({ key, name }) => `| ${name} | ${runs[key].map((run) => `${run.imagesPerSecond.toFixed(0)} (load ${run.loadAverageBefore.toFixed(1)})`).join(" | ")} |`);
fs.writeFileSync(`${base}.md`, [
  `# MNIST training benchmark, ${date} (git ${gitSha})`,
  "",
  `Same convnet, batch ${settings.batchSize}, ${settings.optimizer}, ${settings.warmup} warm-up steps then ${settings.steps} timed steps (wasm: ${settings.wasmSteps}); medians over ${settings.rounds} rounds in which the implementations take turns. Ratios are against Keras in the same round, median over rounds: images/s (wall clock), and Keras' CPU ms/step over ours (work done, all threads; far less disturbed by other load on a shared machine).`,
  "",
  markdownTable(rows),
  "",
  "Images/s per round (1-minute load average before the run):",
  "",
  `| | ${Array.from({ length: settings.rounds }, (_, index) => `round ${index + 1}`).join(" | ")} |`,
  `|---|${Array.from({ length: settings.rounds }, () => "---:").join("|")}|`,
  ...perRound,
  "",
  "Same-round ratios against Keras (images/s; CPU time):",
  "",
  ...implementations.filter(({ key }) => key !== "keras").map(({ key, name }) => `- ${name}: ${runs[key].map((run, round) => `${(run.imagesPerSecond / runs.keras[round].imagesPerSecond).toFixed(2)}; ${(runs.keras[round].cpuMsPerStep / run.cpuMsPerStep).toFixed(2)}`).join(" · ")}`),
  "",
  `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB; load average ${machine.loadAverageAtStart.join(" ")} at start, ${machine.loadAverageAtEnd.join(" ")} at end (1/5/15 min).`,
  `Software: Node ${machine.node}, TensorFlow.js ${machine.tfjs} on TensorFlow ${machine.tensorflowNative}; Python ${machine.python}, Keras ${machine.keras} on TensorFlow ${machine.tensorflowPython}. Threads: TF_NUM_INTRAOP_THREADS=${machine.intraOpThreads}, TF_NUM_INTEROP_THREADS=${machine.interOpThreads} for both.`,
  "",
].join("\n"));
process.stdout.write(`${textTable(rows)}\n\nwrote ${path.relative(root, base)}.{json,md}\n`);
