// What `train bench` can measure: the workflows whose catalog entry declares a benchmark
// (src/workflows/catalog.ts), built from the workflow's own model factory and default learning
// rate, so the benchmark trains exactly the network `train <workflow>` trains.
import { benchmarkedWorkflows } from "../workflows/catalog.js";
import type { BenchDefinition } from "../workflows/types.js";

export type { BenchModelOptions } from "../workflows/types.js";

export interface BenchTarget extends BenchDefinition {
  /** Workflow name, as in `train <workflow>`; also picks models/<registeredModel>.yaml. */
  workflow: string;
  registeredModel: string;
}

export const BENCH_TARGETS: Record<string, BenchTarget> = Object.fromEntries(
  benchmarkedWorkflows().map((definition) => [definition.name, { ...definition.bench!, workflow: definition.name, registeredModel: definition.registeredModel }]),
);

export function benchTarget(workflow: string): BenchTarget {
  const target = BENCH_TARGETS[workflow];
  if (!target) throw new RangeError(`no benchmark for workflow "${workflow}": expected one of ${Object.keys(BENCH_TARGETS).join(", ")}`);
  return target;
}
