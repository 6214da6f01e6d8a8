import { displayMetric } from "../runtime/gate.js";
import type { RunSummary } from "../runtime/run.js";

// The last thing `train <workflow>` prints, on stdout: what people read first (test metrics,
// the gate, the registered version, the time it took), grouped; or one JSON object for scripts
// and pod log pipelines (--log-format json).

/** Metric groups in the order they are shown; the first whose test matches takes a metric. */
const GROUPS: ReadonlyArray<{ title: string; test: (name: string) => boolean }> = [
  // Row counts are bookkeeping, whichever split they count.
  { title: "data", test: (name) => /(^|_)rows(_|$)|^data_|^feature_rows/.test(name) },
  { title: "test", test: (name) => name.startsWith("test_") },
  { title: "validation", test: (name) => /^(val|validation|best_validation)_/.test(name) },
  { title: "training", test: (name) => name.startsWith("train_") },
  { title: "fit", test: () => true },
];
/** Shown first although matched after "data" (a test metric that is a count stays in data). */
const ORDER = ["test", "validation", "training", "fit", "data"];

export interface SummaryFacts {
  summary: RunSummary;
  wallSeconds: number;
}

export function summaryObject({ summary, wallSeconds }: SummaryFacts): Record<string, unknown> {
  return { ...summary, wall_seconds: Math.round(wallSeconds * 10) / 10 };
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function groupMetrics(metrics: Record<string, number>): Array<{ title: string; metrics: Array<[string, number]> }> {
  const grouped = new Map<string, Array<[string, number]>>();
  for (const [name, value] of Object.entries(metrics).sort(([a], [b]) => a.localeCompare(b))) {
    const title = GROUPS.find((group) => group.test(name))!.title;
    grouped.set(title, [...(grouped.get(title) ?? []), [name, value]]);
  }
  return ORDER.filter((title) => grouped.has(title)).map((title) => ({ title, metrics: grouped.get(title)! }));
}

/** ANSI colour only for a terminal, and never with NO_COLOR set (https://no-color.org). */
export function useColour(stream: { isTTY?: boolean }, environment: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !environment.NO_COLOR && environment.TERM !== "dumb";
}

export function formatSummaryText({ summary, wallSeconds }: SummaryFacts, colour = false): string {
  const paint = (code: number, text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  const groups = groupMetrics(summary.metrics);
  const shown = groups.filter((group) => group.title !== "data");
  const width = Math.max(26, ...shown.flatMap((group) => group.metrics.map(([name]) => name.length)));
  const lines = [`run ${summary.run_id} (${summary.stage}) finished${summary.reused ? " (continued an existing run)" : ""} in ${formatDuration(wallSeconds)}`];
  if (summary.gate_passed !== undefined) lines.push(`  gate       ${summary.gate_passed ? paint(32, "passed") : paint(33, "not passed")}: ${summary.gate_reason}`);
  if (summary.registered_version) lines.push(`  registered ${summary.registered_model} version ${summary.registered_version} (alias candidate)`);
  for (const group of shown) {
    lines.push(`  ${paint(1, `${group.title} metrics`)}`);
    for (const [name, value] of group.metrics) lines.push(`    ${name.padEnd(width)} ${displayMetric(value)}`);
  }
  // Row and missing-value counts are for audits, not for reading after every run.
  const bookkeeping = groups.find((group) => group.title === "data")?.metrics.length ?? 0;
  if (bookkeeping > 0) lines.push(`  data       ${bookkeeping} row and missing-value counts: train runs show ${summary.run_id}${trackingFlag(summary.tracking)}`);
  lines.push(`  model      ${summary.model_uri}`, `  tracking   ${summary.tracking}`);
  return `${lines.join("\n")}\n`;
}

/** The --tracking-uri a pasted follow-up command needs (none for the default ./mlruns). */
export function trackingFlag(tracking: string, cwd = process.cwd()): string {
  const defaultStore = `${cwd.replace(/\/+$/, "")}/mlruns`;
  return tracking === defaultStore ? "" : ` --tracking-uri ${/^[\w./:@%+=,-]+$/.test(tracking) ? tracking : `'${tracking.replaceAll("'", "'\\''")}'`}`;
}
