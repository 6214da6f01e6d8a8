// LightGBM benchmark: the wasm build (this repository) against Python's native lightgbm on the
// same generated data, each at the same thread counts (default 1 and 2). Each side and thread
// count runs in its own process so that peak RSS and CPU time are its own.
// Not a test: run with benchmarks/lightgbm/run.sh.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runWasmWorker } from "./wasm-worker.js";
import { seededRandom } from "../../src/data/random.js";

interface SideResult {
  datasetSeconds: number;
  trainSeconds: number;
  predictSeconds: number;
  trainCpuSeconds: number;
  predictCpuSeconds: number;
  peakRssBytes: number;
  version?: string;
  python?: string;
}

const THIS_FILE = fileURLToPath(import.meta.url);
const REPOSITORY_ROOT = resolve(join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "..", ".."));
const PYTHON = join(REPOSITORY_ROOT, ".venv", "tools", "bin", "python");
const PYTHON_WORKER = join(REPOSITORY_ROOT, "benchmarks", "lightgbm", "python_worker.py");


function writeProblem(directory: string, numRows: number, numColumns: number): void {
  const random = seededRandom(2024);
  const values = new Float64Array(numRows * numColumns);
  const labels = new Float32Array(numRows);
  for (let row = 0; row < numRows; row += 1) {
    let label = 0;
    for (let column = 0; column < numColumns; column += 1) {
      const value = random() * 2 - 1;
      values[row * numColumns + column] = value;
      // A mix of linear, quadratic and periodic terms over the first half of the columns.
      if (column < numColumns / 2) label += (column % 3 === 0 ? value : column % 3 === 1 ? value * value : Math.sin(3 * value));
    }
    labels[row] = label + 0.1 * (random() - 0.5);
  }
  writeFileSync(join(directory, "features.f64"), values);
  writeFileSync(join(directory, "labels.f32"), labels);
}

function maxAbsoluteDifference(first: string, second: string): number {
  const read = (path: string) => {
    const bytes = readFileSync(path);
    return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  };
  const a = read(first);
  const b = read(second);
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let largest = 0;
  for (let index = 0; index < a.length; index += 1) largest = Math.max(largest, Math.abs((a[index] as number) - (b[index] as number)));
  return largest;
}

function treesOf(path: string): string {
  const text = readFileSync(path, "utf8");
  return text.slice(text.indexOf("Tree=0\n"), text.indexOf("end of trees"));
}

function runJson(command: string, args: string[]): SideResult {
  const output = execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20 });
  const lastLine = output.trim().split("\n").at(-1) ?? "";
  return JSON.parse(lastLine) as SideResult;
}

function describeMachine() {
  const pythonVersion = execFileSync(PYTHON, ["-c", "import sys; print(sys.version.split()[0])"], { encoding: "utf8" }).trim();
  return {
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryBytes: totalmem(),
    node: process.version,
    python: pythonVersion,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** Other work on the machine skews timings; the load averages (1, 5, 15 min) are recorded with them. */
function loadAverages(): number[] {
  return loadavg().map((value) => Number(value.toFixed(2)));
}

interface Run {
  side: "wasm" | "native";
  threads: number;
  result: SideResult;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: "string", default: "1000000" },
      columns: { type: "string", default: "20" },
      iterations: { type: "string", default: "100" },
      leaves: { type: "string", default: "63" },
      threads: { type: "string", default: "1,2" },
      worker: { type: "string" },
      "worker-threads": { type: "string" },
      "work-dir": { type: "string" },
      "output-name": { type: "string", default: "" },
    },
  });
  if (values.worker === "wasm") {
    const threads = Number(values["worker-threads"]);
    console.log(JSON.stringify(await runWasmWorker(values["work-dir"] as string, threads, `wasm${threads}`)));
    return;
  }

  const numRows = Number(values.rows);
  const numColumns = Number(values.columns);
  const numIterations = Number(values.iterations);
  const threadCounts = (values.threads as string).split(",").map(Number);
  if (threadCounts.some((count) => !Number.isInteger(count) || count < 1)) throw new Error(`--threads wants counts like 1,2, got ${values.threads}`);
  const parameters = {
    objective: "regression", num_leaves: Number(values.leaves), learning_rate: 0.1,
    seed: 1, deterministic: true, force_row_wise: true, verbosity: -1,
  };
  const machine = describeMachine();
  const workDirectory = mkdtempSync(join(tmpdir(), "podtrain-lightgbm-bench-"));
  try {
    writeFileSync(join(workDirectory, "request.json"), JSON.stringify({ numRows, numColumns, numIterations, parameters }));
    writeProblem(workDirectory, numRows, numColumns);
    console.error(`benchmark: ${numRows} rows x ${numColumns} features, ${numIterations} iterations, ${parameters.num_leaves} leaves, threads ${threadCounts.join(",")}`);
    const loadBefore = loadAverages();
    const runs: Run[] = [];
    for (const threads of threadCounts) {
      console.error(`benchmark: wasm, ${threads} thread(s)`);
      // The wasm side's module is sized by PODTRAIN_LIGHTGBM_THREADS, so it also runs N threads on fewer cores.
      const wasm = execFileSync(process.execPath, [THIS_FILE, "--worker", "wasm", "--worker-threads", String(threads), "--work-dir", workDirectory], {
        encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, PODTRAIN_LIGHTGBM_THREADS: String(threads) },
      });
      runs.push({ side: "wasm", threads, result: JSON.parse(wasm.trim().split("\n").at(-1) ?? "") as SideResult });
      console.error(`benchmark: python native, ${threads} thread(s)`);
      runs.push({ side: "native", threads, result: runJson(PYTHON, [PYTHON_WORKER, workDirectory, String(threads), `native${threads}`]) });
    }
    const loadAfter = loadAverages();

    const find = (side: Run["side"], threads: number) => runs.find((run) => run.side === side && run.threads === threads)!.result;
    const agreement = threadCounts.map((threads) => ({
      threads,
      identicalTrees: treesOf(join(workDirectory, `wasm${threads}.model.txt`)) === treesOf(join(workDirectory, `native${threads}.model.txt`)),
      maxAbsolutePredictionDifference: maxAbsoluteDifference(join(workDirectory, `wasm${threads}.predictions.f64`), join(workDirectory, `native${threads}.predictions.f64`)),
    }));
    const ratios = Object.fromEntries(threadCounts.map((threads) => {
      const wasm = find("wasm", threads);
      const native = find("native", threads);
      return [`${threads}thread${threads === 1 ? "" : "s"}`, {
        trainWallWasmOverNative: wasm.trainSeconds / native.trainSeconds,
        trainCpuWasmOverNative: wasm.trainCpuSeconds / native.trainCpuSeconds,
        predictWallWasmOverNative: wasm.predictSeconds / native.predictSeconds,
        predictCpuWasmOverNative: wasm.predictCpuSeconds / native.predictCpuSeconds,
        peakRssWasmOverNative: wasm.peakRssBytes / native.peakRssBytes,
        // Scaling of each side against its own first thread count.
        wasmTrainSpeedup: find("wasm", threadCounts[0]!).trainSeconds / wasm.trainSeconds,
        nativeTrainSpeedup: find("native", threadCounts[0]!).trainSeconds / native.trainSeconds,
        wasmPeakRssOverFirst: wasm.peakRssBytes / find("wasm", threadCounts[0]!).peakRssBytes,
      }];
    }));
    const buildInfo = JSON.parse(readFileSync(join(REPOSITORY_ROOT, "native", "lightgbm", "dist", "BUILD-INFO.json"), "utf8")) as Record<string, unknown>;
    const date = new Date().toISOString().slice(0, 10);
    const result = {
      date, machine: { ...machine, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
      problem: { numRows, numColumns, numIterations, parameters },
      wasmBuild: { emccVersion: buildInfo.emccVersion, linkFlags: buildInfo.linkFlags, outputs: buildInfo.outputs },
      results: Object.fromEntries(runs.map((run) => [`${run.side}${run.threads}Thread${run.threads === 1 ? "" : "s"}`, run.result])),
      ratios,
      agreement,
    };
    const markdown = renderMarkdown(result, runs, threadCounts);
    const resultsDirectory = join(REPOSITORY_ROOT, "benchmarks", "results");
    mkdirSync(resultsDirectory, { recursive: true });
    const baseName = `lightgbm-${date}${values["output-name"] ? `-${values["output-name"]}` : ""}`;
    writeFileSync(join(resultsDirectory, `${baseName}.json`), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(resultsDirectory, `${baseName}.md`), markdown);
    console.log(markdown);
  } finally {
    rmSync(workDirectory, { recursive: true, force: true });
  }
}

function renderMarkdown(
  result: {
    date: string;
    machine: ReturnType<typeof describeMachine> & { loadAverageBefore: number[]; loadAverageAfter: number[] };
    problem: { numRows: number; numColumns: number; numIterations: number; parameters: Record<string, unknown> };
    agreement: { threads: number; identicalTrees: boolean; maxAbsolutePredictionDifference: number }[];
  },
  runs: Run[], threadCounts: number[],
): string {
  const seconds = (value: number) => value.toFixed(2);
  const megabytes = (value: number) => (value / 1024 / 1024).toFixed(0);
  const times = (value: number) => `${value.toFixed(2)}×`;
  const native = (threads: number) => runs.find((run) => run.side === "native" && run.threads === threads)!.result;
  const row = ({ side, threads, result: r }: Run) => {
    const reference = native(threads);
    return `| ${side === "wasm" ? "wasm (this repo)" : "Python lightgbm native"} | ${threads} | ${seconds(r.datasetSeconds)} | ` +
      `${seconds(r.trainSeconds)} | ${seconds(r.trainCpuSeconds)} | ${times(r.trainSeconds / reference.trainSeconds)} | ` +
      `${times(r.trainCpuSeconds / reference.trainCpuSeconds)} | ${seconds(r.predictSeconds)} | ${seconds(r.predictCpuSeconds)} | ` +
      `${times(r.predictSeconds / reference.predictSeconds)} | ${megabytes(r.peakRssBytes)} |`;
  };
  const { machine, problem } = result;
  const busiest = Math.max(machine.loadAverageBefore[0]!, machine.loadAverageAfter[0]!);
  return [
    `# LightGBM: wasm vs Python native at ${threadCounts.join(" and ")} threads — ${result.date}`,
    "",
    `Data: ${problem.numRows} rows × ${problem.numColumns} features (float64, generated, seeded), regression, ` +
      `${problem.numIterations} iterations, ${String(problem.parameters.num_leaves)} leaves, deterministic, force_row_wise.`,
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${(machine.memoryBytes / 2 ** 30).toFixed(0)} GiB, ` +
      `Node ${machine.node}, Python ${machine.python}; load average (1/5/15 min) before ${machine.loadAverageBefore.join(" / ")}, ` +
      `after ${machine.loadAverageAfter.join(" / ")}.`,
    ...(busiest > machine.cores / 2
      ? ["", `**The machine was shared (1-min load up to ${busiest} on ${machine.cores} cores): wall times are inflated and the thread scaling understated; CPU times are the fairer comparison.**`]
      : []),
    "",
    "| side | threads | dataset s | train s (wall) | train s (CPU) | train wall vs native, same threads | train CPU vs native, same threads | " +
      "predict s (wall, all rows) | predict s (CPU) | predict wall vs native, same threads | peak RSS MiB |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...runs.map(row),
    "",
    ...result.agreement.map((entry) =>
      `At ${entry.threads} thread(s): trees identical wasm vs native: ${entry.identicalTrees}; largest prediction difference: ${entry.maxAbsolutePredictionDifference}.`),
    "",
  ].join("\n");
}

await main();
