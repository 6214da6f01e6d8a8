// Durations in specs are written the way people write them ("90s", "10m", "4h", "2d") and
// rendered to seconds for Airflow's timedelta; one parser keeps the spec and the DAGs in step.

const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(s|m|h|d)$/;
const SECONDS_PER_UNIT = { s: 1, m: 60, h: 3600, d: 86400 } as const;

export function parseDurationSeconds(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const unit = match[2] as keyof typeof SECONDS_PER_UNIT;
  return Number(match[1]) * SECONDS_PER_UNIT[unit];
}
