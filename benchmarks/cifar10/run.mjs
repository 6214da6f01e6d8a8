#!/usr/bin/env node
// CIFAR-10 training throughput: the `train cifar10` model on tfjs-node (native TensorFlow) versus
// the same model in Keras 3 on Python TensorFlow of the same version, same batch size and thread
// settings, side by side in one run. Synthetic CIFAR-shaped data (throughput does not depend on
// pixel values). The two sides alternate (ours, Keras, ours, Keras, …) so machine noise hits both;
// the median of the repeats is reported.
//
//   npm run build && scripts/python-env.sh keras
//   node benchmarks/cifar10/run.mjs [--batch-size 128] [--steps 8] [--warmup 2] [--repeats 3] [--threads N]
//
// Writes benchmarks/results/cifar10-<date>.json and .md.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const here = import.meta.dirname;
const root = path.resolve(here, "../..");
const { values } = parseArgs({
  options: {
    "batch-size": { type: "string", default: "128" },
    steps: { type: "string", default: "8" },
    warmup: { type: "string", default: "2" },
    repeats: { type: "string", default: "3" },
    threads: { type: "string", default: String(os.availableParallelism()) },
    python: { type: "string", default: path.join(root, ".venv/keras/bin/python") },
  },
});
const threads = values.threads;
const common = ["--batch-size", values["batch-size"], "--steps", values.steps, "--warmup", values.warmup];
const env = { ...process.env, TF_NUM_INTRAOP_THREADS: threads, TF_NUM_INTEROP_THREADS: threads, TF_CPP_MIN_LOG_LEVEL: "2" };

function runSide(command, args) {
  const result = spawnSync(command, args, { cwd: here, env, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  const line = result.stdout.trim().split("\n").at(-1) ?? "";
  if (result.status !== 0 || !line.startsWith("{")) throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${result.stderr}`);
  return JSON.parse(line);
}

const median = (numbers) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)];
// "tfjs-node" is the graph step `train cifar10` runs by default; "eager" the same model stepped op
// by op through tfjs-layers (what it ran before graph execution): the before/after.
const runs = { "tfjs-node": [], eager: [], keras: [] };
for (let repeat = 0; repeat < Number(values.repeats); repeat += 1) {
  runs["tfjs-node"].push(runSide(process.execPath, [path.join(here, "tfjs-throughput.mjs"), "--execution", "graph", ...common]));
  runs.eager.push(runSide(process.execPath, [path.join(here, "tfjs-throughput.mjs"), "--execution", "eager", ...common]));
  runs.keras.push(runSide(values.python, [path.join(here, "keras_throughput.py"), ...common]));
  process.stderr.write(`repeat ${repeat + 1}: graph ${runs["tfjs-node"].at(-1).images_per_second.toFixed(1)} img/s, eager ${runs.eager.at(-1).images_per_second.toFixed(1)} img/s, keras ${runs.keras.at(-1).images_per_second.toFixed(1)} img/s\n`);
}

const ours = median(runs["tfjs-node"].map((run) => run.images_per_second));
const eager = median(runs.eager.map((run) => run.images_per_second));
const eagerRatio = median(runs.eager.map((run, index) => run.images_per_second / runs.keras[index].images_per_second));
const keras = median(runs.keras.map((run) => run.images_per_second));
// On a shared machine other jobs steal whole seconds: the fastest single step of each side is the
// closest to its uncontended speed, and the ratio within each back-to-back pair cancels slow drifts.
const bestStep = (side) => Number(values["batch-size"]) / Math.min(...runs[side].flatMap((run) => run.step_seconds));
const pairedRatio = median(runs["tfjs-node"].map((run, index) => run.images_per_second / runs.keras[index].images_per_second));
const cpus = os.cpus();
const gitSha = (() => { try { return execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" }).trim(); } catch { return "unknown"; } })();
const report = {
  benchmark: "cifar10 training throughput (images/s, train step incl. host→tensor copy)",
  data: "synthetic CIFAR-shaped batches (32×32×3, 10 classes); throughput does not depend on pixel values",
  date: new Date().toISOString(),
  git_sha: gitSha,
  model: "VGG-style BN net of src/workflows/cifar10/model.ts (conv64×2-pool-conv128×2-pool-conv256×2-pool-GAP-dense10), SGD momentum 0.9, L2 5e-4/2",
  settings: { batch_size: Number(values["batch-size"]), steps: Number(values.steps), warmup_steps: Number(values.warmup), repeats: Number(values.repeats), TF_NUM_INTRAOP_THREADS: threads, TF_NUM_INTEROP_THREADS: threads },
  machine: { cpu: cpus[0]?.model ?? "unknown", logical_cpus: cpus.length, memory_gib: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}`, node: process.version, load_average_at_end: os.loadavg().map((value) => Number(value.toFixed(2))) },
  results: {
    tfjs_node_images_per_second: ours,
    keras_images_per_second: keras,
    tfjs_node_over_keras_median_of_pairs: pairedRatio,
    eager_images_per_second: eager,
    eager_over_keras_median_of_pairs: eagerRatio,
    tfjs_node_best_step_images_per_second: bestStep("tfjs-node"),
    keras_best_step_images_per_second: bestStep("keras"),
    tfjs_node_over_keras_best_step: bestStep("tfjs-node") / bestStep("keras"),
  },
  runs,
};
const stamp = report.date.slice(0, 10);
const resultsDirectory = path.join(root, "benchmarks/results");
mkdirSync(resultsDirectory, { recursive: true });
writeFileSync(path.join(resultsDirectory, `cifar10-${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
const sample = (side) => runs[side][0];
const markdown = `# CIFAR-10 training throughput, ${stamp}

${report.data}. Model: ${report.model}. Batch ${values["batch-size"]}, ${values.steps} timed steps after ${values.warmup} warm-up steps, ${values.repeats} alternating repeats (median shown). Threads: TF_NUM_INTRAOP_THREADS = TF_NUM_INTEROP_THREADS = ${threads} on both sides.

| side | runtime | images/s (median) | best step, images/s | all repeats |
|---|---|---:|---:|---|
| podtrain (TypeScript) | tfjs-node ${sample("tfjs-node").tfjs_version} on native TensorFlow ${sample("tfjs-node").tensorflow_version}, graph step (default) | ${ours.toFixed(1)} | ${bestStep("tfjs-node").toFixed(1)} | ${runs["tfjs-node"].map((run) => run.images_per_second.toFixed(1)).join(", ")} |
| podtrain, eager | the same, op by op through tfjs-layers (\`--execution eager\`) | ${eager.toFixed(1)} | ${bestStep("eager").toFixed(1)} | ${runs.eager.map((run) => run.images_per_second.toFixed(1)).join(", ")} |
| Keras | Keras ${sample("keras").keras_version} on Python TensorFlow ${sample("keras").tensorflow_version}, tf.function (jit_compile=${sample("keras").jit_compile}) | ${keras.toFixed(1)} | ${bestStep("keras").toFixed(1)} | ${runs.keras.map((run) => run.images_per_second.toFixed(1)).join(", ")} |

podtrain / Keras: **${pairedRatio.toFixed(2)}×** (median of the per-pair ratios), **${(bestStep("tfjs-node") / bestStep("keras")).toFixed(2)}×** on the best steps; eager / Keras: ${eagerRatio.toFixed(2)}×. Host batch building in podtrain (crop, flip, normalise, HWC; not in the timed step): ${sample("tfjs-node").host_batch_milliseconds.toFixed(1)} ms per batch.

Machine: ${report.machine.cpu}, ${report.machine.logical_cpus} logical CPUs, ${report.machine.memory_gib} GiB, ${report.machine.os}, Node ${report.machine.node}; load average at the end ${report.machine.load_average_at_end.join(" / ")} (a shared machine: absolute numbers are noisy, the alternating ratio less so). Git ${gitSha.slice(0, 12)}.
`;
writeFileSync(path.join(resultsDirectory, `cifar10-${stamp}.md`), markdown);
process.stdout.write(markdown);
