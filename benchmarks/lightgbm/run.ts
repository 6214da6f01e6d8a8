// LightGBM benchmark: the wasm build (this repository) against Python's native lightgbm on the
// same generated data. Each side runs in its own process so that peak RSS is its own.
// Not a test: run with benchmarks/lightgbm/run.sh.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
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
    loadAverageAtStart: oneMinuteLoadAverage(),
  };
}

/** Other work on the machine skews timings; the load average is recorded with them. */
function oneMinuteLoadAverage(): number {
  return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: "string", default: "1000000" },
      columns: { type: "string", default: "20" },
      iterations: { type: "string", default: "100" },
      leaves: { type: "string", default: "63" },
      worker: { type: "string" },
      "work-dir": { type: "string" },
      "output-name": { type: "string", default: "" },
    },
  });
  if (values.worker === "wasm") {
    console.log(JSON.stringify(await runWasmWorker(values["work-dir"] as string)));
    return;
  }

  const numRows = Number(values.rows);
  const numColumns = Number(values.columns);
  const numIterations = Number(values.iterations);
  const parameters = {
    objective: "regression", num_leaves: Number(values.leaves), learning_rate: 0.1,
    seed: 1, deterministic: true, force_row_wise: true, verbosity: -1,
  };
  const machine = describeMachine();
  const workDirectory = mkdtempSync(join(tmpdir(), "podtrain-lightgbm-bench-"));
  try {
    writeFileSync(join(workDirectory, "request.json"), JSON.stringify({ numRows, numColumns, numIterations, parameters }));
    writeProblem(workDirectory, numRows, numColumns);
    const allThreads = cpus().length;
    console.error(`benchmark: ${numRows} rows x ${numColumns} features, ${numIterations} iterations, ${parameters.num_leaves} leaves`);
    console.error("benchmark: wasm, 1 thread");
    const wasm = runJson(process.execPath, [THIS_FILE, "--worker", "wasm", "--work-dir", workDirectory]);
    console.error("benchmark: python native, 1 thread");
    const native1 = runJson(PYTHON, [PYTHON_WORKER, workDirectory, "1", "native1"]);
    console.error(`benchmark: python native, ${allThreads} threads`);
    const nativeAll = runJson(PYTHON, [PYTHON_WORKER, workDirectory, String(allThreads), "nativeAll"]);

    const predictionDifference = maxAbsoluteDifference(join(workDirectory, "wasm.predictions.f64"), join(workDirectory, "native1.predictions.f64"));
    const identicalTrees = treesOf(join(workDirectory, "wasm.model.txt")) === treesOf(join(workDirectory, "native1.model.txt"));
    const buildInfo = JSON.parse(readFileSync(join(REPOSITORY_ROOT, "native", "lightgbm", "dist", "BUILD-INFO.json"), "utf8")) as Record<string, unknown>;
    const date = new Date().toISOString().slice(0, 10);
    const result = {
      date, machine, problem: { numRows, numColumns, numIterations, parameters },
      wasmBuild: { emccVersion: buildInfo.emccVersion, linkFlags: buildInfo.linkFlags, outputs: buildInfo.outputs },
      results: { wasm1Thread: wasm, native1Thread: native1, [`native${allThreads}Threads`]: nativeAll },
      ratios: {
        trainWasmOverNative1: wasm.trainSeconds / native1.trainSeconds,
        trainCpuWasmOverNative1: wasm.trainCpuSeconds / native1.trainCpuSeconds,
        trainWasmOverNativeAll: wasm.trainSeconds / nativeAll.trainSeconds,
        predictWasmOverNative1: wasm.predictSeconds / native1.predictSeconds,
        peakRssWasmOverNative1: wasm.peakRssBytes / native1.peakRssBytes,
      },
      agreement: { identicalTreesWasmVsNative1: identicalTrees, maxAbsolutePredictionDifference: predictionDifference },
    };
    const markdown = renderMarkdown(result, allThreads, wasm, native1, nativeAll);
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
  result: { date: string; machine: ReturnType<typeof describeMachine>; problem: { numRows: number; numColumns: number; numIterations: number; parameters: Record<string, unknown> }; agreement: { identicalTreesWasmVsNative1: boolean; maxAbsolutePredictionDifference: number } },
  allThreads: number, wasm: SideResult, native1: SideResult, nativeAll: SideResult,
): string {
  const seconds = (value: number) => value.toFixed(2);
  const megabytes = (value: number) => (value / 1024 / 1024).toFixed(0);
  const ratio = (value: number, reference: number) => `${(value / reference).toFixed(2)}×`;
  const row = (name: string, side: SideResult) =>
    `| ${name} | ${seconds(side.datasetSeconds)} | ${seconds(side.trainSeconds)} | ${seconds(side.trainCpuSeconds)} | ` +
    `${ratio(side.trainSeconds, native1.trainSeconds)} | ${ratio(side.trainCpuSeconds, native1.trainCpuSeconds)} | ` +
    `${seconds(side.predictSeconds)} | ${seconds(side.predictCpuSeconds)} | ${ratio(side.predictSeconds, native1.predictSeconds)} | ` +
    `${megabytes(side.peakRssBytes)} |`;
  const { machine, problem } = result;
  return [
    `# LightGBM: wasm vs Python native — ${result.date}`,
    "",
    `Data: ${problem.numRows} rows × ${problem.numColumns} features (float64, generated, seeded), regression, ` +
      `${problem.numIterations} iterations, ${String(problem.parameters.num_leaves)} leaves, deterministic, force_row_wise.`,
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${(machine.memoryBytes / 2 ** 30).toFixed(0)} GiB, ` +
      `Node ${machine.node}, Python ${machine.python}, 1-min load average at start ${machine.loadAverageAtStart}.`,
    ...(machine.loadAverageAtStart > machine.cores
      ? ["", `**The machine was shared (load ${machine.loadAverageAtStart} on ${machine.cores} cores): wall times are inflated; CPU times are the fairer comparison.**`]
      : []),
    "",
    "| side | dataset s | train s (wall) | train s (CPU) | train wall vs native 1T | train CPU vs native 1T | " +
      "predict s (wall, all rows) | predict s (CPU) | predict wall vs native 1T | peak RSS MiB |",
    "|---|---|---|---|---|---|---|---|---|---|",
    row("wasm (this repo), 1 thread", wasm),
    row("Python lightgbm native, 1 thread", native1),
    row(`Python lightgbm native, ${allThreads} threads`, nativeAll),
    "",
    `Trees identical wasm vs native 1 thread: ${result.agreement.identicalTreesWasmVsNative1}; ` +
      `largest prediction difference: ${result.agreement.maxAbsolutePredictionDifference}.`,
    "",
  ].join("\n");
}

await main();
