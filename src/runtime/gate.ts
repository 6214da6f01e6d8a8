import type { Gate } from "../config/schema.js";

export interface GateDecision {
  passed: boolean;
  metric: string;
  value: number | undefined;
  threshold: number;
  championValue?: number;
  reason: string;
}

/**
 * How a metric is shown to people, in the gate reason and the run summary alike: at most four
 * decimals, so float32 noise (0.9879999756813049) reads as the 0.988 it is.
 */
export function displayMetric(value: number): string {
  return Number.isInteger(value) || !Number.isFinite(value) ? String(value) : String(Number(value.toFixed(4)));
}

function better(direction: Gate["direction"], value: number, reference: number): boolean {
  return direction === "maximize" ? value > reference : value < reference;
}

function reaches(direction: Gate["direction"], value: number, threshold: number): boolean {
  return direction === "maximize" ? value >= threshold : value <= threshold;
}

/** The registration gate: the metric must reach the threshold and, if asked, beat the champion. */
export function decideGate(gate: Gate, metrics: Record<string, number>, championValue?: number): GateDecision {
  const value = metrics[gate.metric];
  const base = { metric: gate.metric, value, threshold: gate.threshold, ...(championValue === undefined ? {} : { championValue }) };
  const comparison = gate.direction === "maximize" ? ">=" : "<=";
  if (value === undefined || !Number.isFinite(value)) {
    return { ...base, passed: false, reason: `gate metric ${gate.metric} was not produced by this run` };
  }
  if (!reaches(gate.direction, value, gate.threshold)) {
    return { ...base, passed: false, reason: `${gate.metric}=${displayMetric(value)} does not reach the threshold (${comparison} ${gate.threshold})` };
  }
  if (gate.compare_to_champion && championValue !== undefined && !better(gate.direction, value, championValue)) {
    return { ...base, passed: false, reason: `${gate.metric}=${displayMetric(value)} does not beat the champion (${displayMetric(championValue)})` };
  }
  const versusChampion = championValue === undefined ? "no champion yet" : `champion ${displayMetric(championValue)}`;
  return { ...base, passed: true, reason: `${gate.metric}=${displayMetric(value)} ${comparison} ${gate.threshold}, ${versusChampion}` };
}
