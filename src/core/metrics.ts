/** Four decimals: enough for log lines, keeps them short (MLflow gets the full values). */
export function roundMetrics(metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).map(([key, value]) => [key, Math.round(value * 10000) / 10000]));
}
