// Renders benchmark results as an aligned text table (terminal) or a markdown table (results files).
import type { BenchResult } from "./measure.js";

export interface TableRow {
  name: string;
  imagesPerSecond: number;
  msPerStep: number;
  cpuMsPerStep?: number;
  epochSeconds: number;
  peakRssBytes: number;
  /** This row's images/s divided by the reference row's (e.g. ours / Keras). */
  ratio?: number;
  /** The reference row's CPU ms/step divided by this row's: the same ratio measured in work done,
   *  which other load on a shared machine disturbs far less than wall time. */
  cpuRatio?: number;
}

const HEADERS = ["", "images/s", "ms/step (median)", "CPU ms/step", "epoch (s, extrapolated)", "peak RSS (MiB)", "ratio (images/s)", "ratio (CPU time)"];

function cells(row: TableRow): string[] {
  return [
    row.name,
    row.imagesPerSecond.toFixed(0),
    row.msPerStep.toFixed(1),
    row.cpuMsPerStep === undefined ? "—" : row.cpuMsPerStep.toFixed(1),
    row.epochSeconds.toFixed(1),
    (row.peakRssBytes / 2 ** 20).toFixed(0),
    row.ratio === undefined ? "—" : `${row.ratio.toFixed(2)}×`,
    row.cpuRatio === undefined ? "—" : `${row.cpuRatio.toFixed(2)}×`,
  ];
}

export function rowOf(name: string, result: Pick<BenchResult, "imagesPerSecond" | "msPerStep" | "cpuMsPerStep" | "epochSeconds" | "peakRssBytes">): TableRow {
  return {
    name,
    imagesPerSecond: result.imagesPerSecond,
    msPerStep: result.msPerStep.median,
    cpuMsPerStep: result.cpuMsPerStep,
    epochSeconds: result.epochSeconds,
    peakRssBytes: result.peakRssBytes,
  };
}

export function textTable(rows: TableRow[]): string {
  const table = [HEADERS, ...rows.map(cells)];
  const widths = HEADERS.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  return table.map((line) => line.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ")).join("\n");
}

export function markdownTable(rows: TableRow[]): string {
  const lines = [`| ${HEADERS.join(" | ")} |`, `|${HEADERS.map((_, column) => (column === 0 ? "---" : "---:")).join("|")}|`];
  for (const row of rows) lines.push(`| ${cells(row).join(" | ")} |`);
  return lines.join("\n");
}

/** The table `train bench` prints: the numbers plus where they were measured. */
export function describeResult(result: BenchResult): string {
  const { machine } = result;
  return [
    textTable([rowOf(`${result.workflow} on ${result.backend}`, result)]),
    "",
    `device      ${result.device}`,
    `execution   ${result.execution === "graph" ? "graph (one TensorFlow function per step)" : `eager (op by op)${result.executionFallback ? `: ${result.executionFallback}` : ""}`}`,
    `tensorflow  ${result.tensorflowVersion ?? "none (TensorFlow.js kernels)"}; TensorFlow.js ${result.tfjsVersion}`,
    `batch       ${result.batchSize}; ${result.steps} timed steps after ${result.warmup} warm-up steps; p10–p90 ${result.msPerStep.p10.toFixed(1)}–${result.msPerStep.p90.toFixed(1)} ms/step`,
    `threads     intra-op ${machine.intraOpThreads ?? "default"}, inter-op ${machine.interOpThreads ?? "default"}`,
    `load        ${machine.loadAverage.join(" ")} (1/5/15 min) on ${machine.cores} cores`,
  ].join("\n");
}
