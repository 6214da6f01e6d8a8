#!/usr/bin/env node
// Counts imports that go against the layer order of src/ (see README, "Where things live").
// Input: madge's JSON graph on stdin, e.g.
//   npx --yes madge@8.0.0 --extensions ts --ts-config tsconfig.json --json src | node scripts/import-layers.mjs
// A lower layer importing a higher one is "upward"; data/, tracking/ and tf/ importing each other is
// "lateral"; one workflow folder importing another is "cross-workflow"; the DAG generator
// importing a workflow's own code (anything under src/workflows/<name>/) is "dags-to-workflow-code".
const RANKS = {
  core: 0,
  lightgbm: 0,
  config: 1,
  data: 2,
  tracking: 2,
  tf: 3,
  onnx: 3.5, // ONNX export of the tfjs models
  runtime: 4,
  workflows: 5,
  reports: 4.5, // the workflows' evaluation charts
  bench: 6,
  predict: 6,
  dags: 6,
  cli: 7,
};

function area(file) {
  const [top] = file.split("/");
  return top;
}

function workflowOf(file) {
  const parts = file.split("/");
  return parts[0] === "workflows" && parts.length > 2 ? parts[1] : undefined;
}

// Re-export shims left at old paths while branches merge (one marked line) are not real edges.
import { readFileSync } from "node:fs";
const SHIM_MARK = "// moved: removed after the merge";
function isShim(file) {
  try {
    const lines = readFileSync(`src/${file}`, "utf8").split("\n").filter((line) => line.trim() !== "");
    return lines.length > 0 && lines.every((line) => line.includes(SHIM_MARK));
  } catch {
    return false;
  }
}

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;
const graph = JSON.parse(input);

const found = { upward: [], lateral: [], "cross-workflow": [], "dags-to-workflow-code": [] };
for (const [from, targets] of Object.entries(graph)) {
  const fromRank = RANKS[area(from)];
  if (fromRank === undefined || isShim(from)) continue;
  for (const to of targets) {
    const toRank = RANKS[area(to)];
    if (toRank === undefined) continue;
    if (toRank > fromRank) found.upward.push(`${from} -> ${to}`);
    else if (toRank === fromRank && area(from) !== area(to)) found.lateral.push(`${from} -> ${to}`);
    const a = workflowOf(from);
    const b = workflowOf(to);
    if (a !== undefined && b !== undefined && a !== b) found["cross-workflow"].push(`${from} -> ${to}`);
    if (area(from) === "dags" && b !== undefined) found["dags-to-workflow-code"].push(`${from} -> ${to}`);
  }
}

const verbose = process.argv.includes("--list");
for (const [kind, edges] of Object.entries(found)) {
  console.log(`${kind}: ${edges.length}`);
  if (verbose) for (const edge of edges) console.log(`  ${edge}`);
}
