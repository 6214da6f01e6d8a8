import { SpecError } from "../core/errors.js";
import { compareText } from "./python-file.js";
import type { Deployment } from "./deployment.js";
import type { DagPlan } from "./task-plan.js";

// dags/pools.json, the input of `airflow pools import`: every pool a generated task uses, with
// the slot count the deployment config gives it (cluster capacity, not workflow policy).

export function renderPoolsJson(plans: readonly DagPlan[], deployment: Deployment): string {
  const used = new Set<string>();
  for (const plan of plans) {
    used.add(plan.cpuPool);
    for (const step of plan.steps) used.add(step.pool);
  }
  const pools: Record<string, { slots: number; description: string; include_deferred: boolean }> = {};
  for (const name of [...used].sort(compareText)) {
    const settings = deployment.pools[name];
    if (!settings) throw new SpecError(`deployment config: pools: "${name}" is used by a DAG but has no slot count`);
    pools[name] = { slots: settings.slots, description: settings.description, include_deferred: false };
  }
  return `${JSON.stringify(pools, null, 2)}\n`;
}
