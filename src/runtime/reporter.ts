import { SingleBar } from "cli-progress";
import { pino, type Logger } from "pino";
import { Writable } from "node:stream";
import { progressLine, terminalWidth } from "./progress-line.js";
import { redactSecrets } from "../core/redact.js";

// Humans at a terminal get short lines and a progress bar; pods (no TTY) get one JSON object
// per line (pino) that log collectors can parse. Everything goes to stderr: stdout carries only
// the run summary, so `train … | jq` style use stays possible.

export type LogFormat = "auto" | "pretty" | "json";

export interface Progress {
  update(value: number, fields?: Record<string, number | string>): void;
  stop(): void;
}

export interface Reporter {
  readonly log: Logger;
  readonly interactive: boolean;
  startProgress(label: string, total: number): Progress;
}

/** ANSI colour for the level word, only on a terminal and never with NO_COLOR (https://no-color.org). */
const LEVEL_COLOURS: Record<string, number> = { warn: 33, error: 31, fatal: 31, debug: 2, trace: 2 };

function humanStream(output: NodeJS.WriteStream): Writable {
  const colour = output.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== "dumb";
  const label = (levelName: string) => {
    const text = `${levelName.toUpperCase()} `;
    const code = LEVEL_COLOURS[levelName];
    return colour && code ? `\u001b[${code}m${text}\u001b[0m` : text;
  };
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const { level, time, msg, pid: _pid, hostname: _hostname, ...fields } = JSON.parse(chunk.toString()) as Record<string, unknown>;
      const levelName = pino.levels.labels[level as number] ?? "info";
      const extra = Object.entries(fields).map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`).join(" ");
      const clock = new Date(time as number).toISOString().slice(11, 19);
      output.write(redactSecrets(`${clock} ${levelName === "info" ? "" : label(levelName)}${String(msg)}${extra ? `  ${extra}` : ""}\n`));
      callback();
    },
  });
}

export interface Verbosity {
  /** Warnings and errors only, no progress (the run summary still goes to stdout). */
  quiet?: boolean;
  /** Debug lines too (and TensorFlow's own native log, see src/cli/native-log.ts). */
  verbose?: boolean;
}

export function createReporter(format: LogFormat = "auto", output: NodeJS.WriteStream = process.stderr, verbosity: Verbosity = {}): Reporter {
  const interactive = format === "pretty" || (format === "auto" && output.isTTY === true);
  const level = verbosity.quiet ? "warn" : verbosity.verbose ? "debug" : (process.env.PODTRAIN_LOG_LEVEL ?? "info");
  const log = interactive
    ? pino({ level, base: undefined }, humanStream(output))
    : pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, redactedStderr());
  return {
    log,
    interactive,
    startProgress(label, total) {
      if (verbosity.quiet) return { update() {}, stop() {} };
      if (!interactive) return jsonProgress(log, label, total);
      const bar = new SingleBar({
        // Sized to the terminal on every redraw (a resized window included): nothing is cut.
        format: (_options, params, payload: { details?: string }) =>
          progressLine({ label, value: params.value, total: params.total, etaSeconds: params.eta, details: payload.details ?? "", width: terminalWidth(output) }),
        hideCursor: true,
        stream: output,
        clearOnComplete: true,
      });
      bar.start(total, 0, { details: "" });
      return {
        update(value, fields = {}) {
          bar.update(value, { details: Object.entries(fields).map(([key, fieldValue]) => `${key} ${fieldValue}`).join(" ") });
        },
        stop: () => bar.stop(),
      };
    },
  };
}

/**
 * Every JSON log line is redacted of credentials on its way out: pino hands the destination one
 * whole line per write, and the destination (synchronous, retrying a full pipe) writes it.
 */
function redactedStderr(): { write(line: string): boolean } {
  const destination = pino.destination({ fd: 2, sync: true });
  return { write: (line) => destination.write(redactSecrets(line)) };
}

/** Without a terminal, progress becomes a JSON line at most every 10 % (and at the end). */
function jsonProgress(log: Logger, label: string, total: number): Progress {
  let lastReportedDecile = -1;
  return {
    update(value, fields = {}) {
      const decile = Math.floor((value / Math.max(total, 1)) * 10);
      if (decile === lastReportedDecile && value < total) return;
      lastReportedDecile = decile;
      log.info({ progress: label, value, total, ...fields }, `${label} ${value}/${total}`);
    },
    stop() {},
  };
}
