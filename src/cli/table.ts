import { Option } from "commander";

// Plain text tables for `train runs` / `train models` (columns padded, no borders, so `grep`
// and `awk` work on them) and the one output-format option those commands share.

export type OutputFormat = "table" | "json";

export function outputFormatOption(): Option {
  return new Option("-o, --format <format>", "table for people, json for scripts (one JSON document on stdout)").choices(["table", "json"]).default("table");
}

export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ").trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}

/** UTC, to the minute: the same on a laptop and in a pod's log. */
export function formatTime(milliseconds: number | undefined): string {
  return milliseconds ? `${new Date(milliseconds).toISOString().slice(0, 16).replace("T", " ")}Z` : "-";
}

export function formatSeconds(start: number, end: number | undefined): string {
  if (!end || !start) return "-";
  const seconds = (end - start) / 1000;
  return seconds < 60 ? `${seconds.toFixed(1)}s` : seconds < 3600 ? `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, "0")}s` : `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
}
