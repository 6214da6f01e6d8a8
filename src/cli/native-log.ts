import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";

// TensorFlow's native library writes absl notices straight to file descriptor 2 when it loads
// ("oneDNN custom operations are on…", printed before absl logging is initialised, so no
// TF_CPP_MIN_LOG_LEVEL stops it). A JSON-lines consumer (a pod's log pipeline) breaks on them.
// Node cannot redirect its own fd 2, so a TensorFlow command whose stderr is JSON runs as a child
// whose stderr passes through here: absl lines are dropped, or with --verbose turned into JSON.

/** Set in the child: its stderr is already filtered. */
const FILTERED_ENV = "PODTRAIN_NATIVE_LOG_FILTERED";
/** Commands that load the TensorFlow binding (their validate steps and --help do not). */
const TENSORFLOW_COMMANDS = new Set(["mnist", "cifar10"]);
const ABSL_LINE = /^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] |WARNING: All log messages before absl::InitializeLog\(\) is called)/;
const ABSL_LEVELS: Record<string, number> = { I: 30, W: 40, E: 50, F: 60 };


function optionValue(args: readonly string[], name: string): string | undefined {
  const index = args.findIndex((arg) => arg === name || arg.startsWith(`${name}=`));
  if (index < 0) return undefined;
  const arg = args[index]!;
  return arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : args[index + 1];
}

/** `argv` as process.argv: [node, script, command, …]. */
export function wantsNativeLogFilter(argv: readonly string[], environment: NodeJS.ProcessEnv = process.env, stderrIsTTY = process.stderr.isTTY === true): boolean {
  // Only a real entry script can be run again (not main() called in-process with a made-up argv).
  if (environment[FILTERED_ENV] || !argv[1] || !existsSync(argv[1])) return false;
  const args = argv.slice(2);
  if (!TENSORFLOW_COMMANDS.has(args[0] ?? "")) return false;
  if (args.includes("--help") || args.includes("-h") || args[1] === "validate") return false;
  const format = optionValue(args, "--log-format") ?? "auto";
  return format === "json" || (format === "auto" && !stderrIsTTY);
}

/**
 * What each line of the child's stderr becomes on ours (undefined: dropped). Absl messages can
 * span lines: the lines after one, up to the next of ours, are part of it. Ours are JSON objects
 * and `train: error:` lines; anything else (a Node warning) is wrapped so the stream stays JSON.
 */
export function nativeLineFilter(verbose: boolean): (line: string) => string | undefined {
  let nativeLevel: number | undefined;
  return (line) => {
    if (line.startsWith("{") || line.startsWith("train: ")) {
      nativeLevel = undefined;
      return line;
    }
    if (ABSL_LINE.test(line)) nativeLevel = ABSL_LEVELS[line[0]!] ?? 40;
    if (nativeLevel === undefined) return JSON.stringify({ level: 40, time: new Date().toISOString(), source: "stderr", msg: line });
    if (!verbose) return undefined;
    return JSON.stringify({ level: nativeLevel, time: new Date().toISOString(), source: "tensorflow", msg: line });
  };
}

/**
 * Runs the same command line as a child with its stderr filtered; signals sent to this process
 * (Kubernetes and Airflow signal the pod's first process only) are passed on, and the child's
 * exit code is returned as ours. The child watches its stdin: if this process dies (kill -9),
 * the pipe closes and the child goes too, so no orphan keeps training.
 */
export function runWithNativeLogFilter(argv: readonly string[], verbose: boolean): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...argv.slice(1)], {
    stdio: ["pipe", "inherit", "pipe"],
    env: { ...process.env, [FILTERED_ENV]: "1" },
  });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const handlers = (["SIGTERM", "SIGINT", "SIGHUP"] as const).map((signal) => [signal, forward(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  const lines = createInterface({ input: child.stderr!, crlfDelay: Infinity });
  const filter = nativeLineFilter(verbose);
  lines.on("line", (line) => {
    const kept = filter(line);
    if (kept !== undefined) process.stderr.write(`${kept}\n`);
  });
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      for (const [name, handler] of handlers) process.off(name, handler);
      // 128 + n for a child killed by a signal, as a shell reports it.
      resolve(code ?? (signal === "SIGTERM" ? 143 : signal === "SIGINT" ? 130 : signal === "SIGKILL" ? 137 : 1));
    });
  });
}

/** In the child: when the filtering parent is gone, stop at once as it did. */
export function exitWithFilteringParent(environment: NodeJS.ProcessEnv = process.env): void {
  if (!environment[FILTERED_ENV] || process.stdin.isTTY) return;
  process.stdin.on("end", () => process.kill(process.pid, "SIGKILL"));
  process.stdin.on("error", () => process.kill(process.pid, "SIGKILL"));
  process.stdin.resume();
  // The watch must not keep a finished command alive.
  (process.stdin as unknown as { unref?: () => void }).unref?.();
}
