// One progress-bar line that fits the terminal: the bar shrinks first (to 10 cells), then the
// details and the ETA are dropped, so the numbers people watch are never cut mid-way.

export interface ProgressLineInput {
  label: string;
  value: number;
  total: number;
  /** Seconds left, or undefined/NaN/Infinity while unknown. */
  etaSeconds?: number;
  details: string;
  width: number;
}

const MIN_BAR = 10;
const MAX_BAR = 40;

function eta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "eta --";
  const whole = Math.max(0, Math.round(seconds));
  return whole < 60 ? `eta ${whole}s` : whole < 3600 ? `eta ${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, "0")}s` : `eta ${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, "0")}m`;
}

export function progressLine(input: ProgressLineInput): string {
  const fraction = input.total > 0 ? Math.min(1, Math.max(0, input.value / input.total)) : 0;
  const counts = `${input.value}/${input.total} ${Math.floor(fraction * 100)}%`;
  // A line one short of the width: writing the last column makes some terminals wrap.
  const room = Math.max(1, input.width - 1);
  const tails = [[eta(input.etaSeconds), input.details].filter(Boolean), [eta(input.etaSeconds)], []];
  for (const tail of tails) {
    const text = [counts, ...tail].join(" | ");
    const bar = Math.min(MAX_BAR, room - input.label.length - text.length - 4);
    if (bar >= MIN_BAR) {
      const done = Math.round(fraction * bar);
      return `${input.label} [${"█".repeat(done)}${"░".repeat(bar - done)}] ${text}`;
    }
  }
  return `${input.label} ${counts}`.slice(0, room);
}

/** The terminal's width: the stream's own, else $COLUMNS, else 80. */
export function terminalWidth(stream: { columns?: number }, environment: NodeJS.ProcessEnv = process.env): number {
  const fromEnvironment = Number(environment.COLUMNS);
  return stream.columns && stream.columns > 0 ? stream.columns : Number.isInteger(fromEnvironment) && fromEnvironment > 0 ? fromEnvironment : 80;
}
