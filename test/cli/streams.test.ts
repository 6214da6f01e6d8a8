import { spawn } from "node:child_process";
import { Writable } from "node:stream";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { nativeLineFilter } from "../../src/cli/native-log.js";
import { formatSummaryText, groupMetrics } from "../../src/cli/run-summary.js";
import { decideGate } from "../../src/runtime/gate.js";
import { progressLine } from "../../src/runtime/progress-line.js";
import { createReporter } from "../../src/runtime/reporter.js";
import { runTrain } from "../support/cli.js";
import { REPOSITORY_ROOT } from "../support/python.js";
import { temporaryDirectory } from "../workflows/power/fixtures.js";

// Issue #20, streams and summaries: with --log-format json every stderr line is JSON (the
// TensorFlow binding's absl notices included) and stdout is one JSON object; --quiet; colour on
// a terminal only and never with NO_COLOR; a progress bar that fits the terminal; the summary's
// test metrics first, the gate in the same rounding, the wall time.

let root: string;
let powerFile: string;

beforeAll(async () => {
  root = await temporaryDirectory("podtrain-streams-");
  powerFile = path.join(root, "power.txt");
  const generated = await runTrain(["power", "generate", "--out", powerFile, "--days", "60", "--seed", "1"]);
  expect(generated.exitCode, generated.stderr).toBe(0);
});

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text.trimEnd().split("\n").map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`not a JSON line: ${line}`);
    }
  });
}

/** Runs `train` on a pseudo-terminal (util-linux script), COLUMNS wide; returns what the terminal got. */
function onTerminal(args: string[], environment: Record<string, string>): Promise<string> {
  const command = [process.execPath, path.join(REPOSITORY_ROOT, "bin/train.js"), ...args].map((part) => `'${part}'`).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], { cwd: root, env: { ...process.env, MLFLOW_TRACKING_URI: "", ...environment }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(output) : reject(new Error(`exit ${code}: ${output}`))));
  });
}

// eslint-disable-next-line no-control-regex
const stripAnsi = (text: string) => text.replace(/\u001b\[[0-9;?]*[A-Za-z]|\u001b[78]/g, "");

describe("train mnist --log-format json (TensorFlow loaded)", () => {
  it("every stderr line is JSON, the summary on stdout is one JSON object", async () => {
    const result = await runTrain(["mnist", "--epochs", "1", "--train-limit", "1000", "--test-limit", "200", "--tracking-uri", path.join(root, "mlruns-json"), "--no-register", "--log-format", "json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = jsonLines(result.stderr);
    expect(lines.map((line) => line.msg)).toEqual(expect.arrayContaining(["started run", "epoch 1/1 done"]));
    expect(result.stderr).not.toMatch(/oneDNN|absl/);
    const summary = JSON.parse(result.stdout) as { metrics: Record<string, number>; wall_seconds: number; stage: string };
    expect(summary.stage).toBe("all");
    expect(summary.wall_seconds).toBeGreaterThan(0);
    // Over the whole fit, not only the last epoch.
    expect(summary.metrics.fit_images_per_second).toBeGreaterThan(0);
    expect(summary.metrics.fit_seconds).toBeGreaterThan(0);
  }, 180_000);

  it("--verbose shows TensorFlow's own notices, as JSON lines tagged source=tensorflow", async () => {
    const result = await runTrain(["mnist", "--epochs", "1", "--train-limit", "500", "--test-limit", "100", "--tracking-uri", path.join(root, "mlruns-verbose"), "--no-register", "--log-format", "json", "--verbose"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const native = jsonLines(result.stderr).filter((line) => line.source === "tensorflow");
    expect(native.length, result.stderr).toBeGreaterThan(0);
    expect(native.some((line) => String(line.msg).includes("oneDNN"))).toBe(true);
  }, 180_000);
});

describe("train power streams", () => {
  it("--quiet: nothing on stderr but warnings; the summary still on stdout", async () => {
    const result = await runTrain(["power", "--data-file", powerFile, "--test-weeks", "1", "--validation-weeks", "1", "--tracking-uri", path.join(root, "mlruns-quiet"), "--log-format", "json", "--quiet"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr.split("\n").filter(Boolean).map((line) => JSON.parse(line) as { level: number }).every((line) => line.level >= 40)).toBe(true);
    expect(JSON.parse(result.stdout)).toMatchObject({ gate_passed: true, registered_version: "1" });
  });

  it("the text summary: test metrics first, gate before them, counts folded into one line with the next command", async () => {
    const store = path.join(root, "mlruns-text");
    const result = await runTrain(["power", "--data-file", powerFile, "--test-weeks", "1", "--validation-weeks", "1", "--tracking-uri", store]);
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^run [0-9a-f]{32} \(all\) finished in \d+\.\d s$/);
    expect(lines[1]).toMatch(/^ {2}gate {7}passed: test_skill_vs_seasonal_naive=0\.\d{1,4} >= 0\.05, no champion yet$/);
    expect(lines[3]).toBe("  test metrics");
    const titles = lines.filter((line) => /^ {2}\w+ metrics$/.test(line)).map((line) => line.trim());
    expect(titles).toEqual(["test metrics", "validation metrics", "fit metrics"]);
    // Bookkeeping (row counts) is not among the test metrics.
    expect(result.stdout).not.toMatch(/^\s+test_rows/m);
    expect(result.stdout).toMatch(new RegExp(`^ {2}data {7}\\d+ row and missing-value counts: train runs show [0-9a-f]{32} --tracking-uri ${store}$`, "m"));
    // The gate's value is the summary's: same rounding.
    const gateValue = /test_skill_vs_seasonal_naive=([\d.]+)/.exec(lines[1]!)![1];
    expect(result.stdout).toMatch(new RegExp(`^ {4}test_skill_vs_seasonal_naive +${gateValue!.replace(".", "\\.")}$`, "m"));
    expect(result.stdout).not.toMatch(/\u001b\[/);
  });

  it("on a 60-column terminal the progress bar fits; colour on a terminal, none with NO_COLOR", async () => {
    const args = ["power", "--data-file", powerFile, "--test-weeks", "1", "--validation-weeks", "1", "--num-iterations", "3000", "--early-stopping-rounds", "3000", "--no-register"];
    const coloured = await onTerminal([...args, "--tracking-uri", path.join(root, "mlruns-tty")], { COLUMNS: "60", NO_COLOR: "" });
    // A redraw starts with a cursor move to column 1 (ESC [ 1 G) or a carriage return.
    const frames = stripAnsi(coloured.replace(/\u001b\[\d*G/g, "\n")).split(/[\r\n]/).filter((frame) => frame.includes("boosting ["));
    expect(frames.length, coloured).toBeGreaterThan(0);
    for (const frame of frames) expect(frame.length, frame).toBeLessThanOrEqual(59);
    expect(frames.some((frame) => /\| eta /.test(frame))).toBe(true);
    expect(coloured).toContain("\u001b[1mtest metrics\u001b[0m");
    const plain = await onTerminal([...args, "--tracking-uri", path.join(root, "mlruns-nocolor")], { COLUMNS: "60", NO_COLOR: "1" });
    expect(plain).toContain("test metrics");
    expect(plain).not.toContain("\u001b[1mtest metrics");
  }, 120_000);
});

describe("pieces", () => {
  it("pretty log lines colour WARN on a terminal, not with NO_COLOR, not off a terminal", async () => {
    const capture = (isTTY: boolean) => {
      const chunks: string[] = [];
      const stream = Object.assign(new Writable({ write: (chunk: Buffer, _encoding, callback) => (chunks.push(chunk.toString()), callback()) }), { isTTY });
      return { stream: stream as unknown as NodeJS.WriteStream, text: () => chunks.join("") };
    };
    const terminal = capture(true);
    createReporter("pretty", terminal.stream).log.warn("disk almost full");
    const previous = process.env.NO_COLOR;
    process.env.NO_COLOR = "1";
    const noColour = capture(true);
    createReporter("pretty", noColour.stream).log.warn("disk almost full");
    if (previous === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = previous;
    const piped = capture(false);
    createReporter("pretty", piped.stream).log.warn("disk almost full");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(terminal.text()).toContain("\u001b[33mWARN \u001b[0mdisk almost full");
    expect(noColour.text()).toMatch(/\d\d:\d\d:\d\d WARN disk almost full/);
    expect(piped.text()).not.toContain("\u001b[");
  });

  it("progressLine drops the bar to 10 cells, then details, then the ETA, never past the width", () => {
    for (const width of [30, 40, 50, 60, 80, 200]) {
      const line = progressLine({ label: "epoch 1/3", value: 120, total: 469, etaSeconds: 75, details: "loss 0.1234", width });
      expect(line.length, line).toBeLessThanOrEqual(width - 1);
    }
    expect(progressLine({ label: "epoch 1/3", value: 120, total: 469, etaSeconds: 75, details: "loss 0.1234", width: 80 })).toMatch(/^epoch 1\/3 \[[█░]+\] 120\/469 25% \| eta 1m15s \| loss 0\.1234$/);
    expect(progressLine({ label: "epoch 1/3", value: 120, total: 469, etaSeconds: 75, details: "loss 0.1234", width: 50 })).toMatch(/\| eta 1m15s$/);
  });

  it("absl lines (and their continuation lines) are dropped or wrapped; ours pass through; other text becomes JSON", () => {
    const absl = "I0000 00:00:1796171892.795139    7981 cpu_feature_guard.cc:227] This TensorFlow binary is optimized";
    const continuation = "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow";
    const quiet = nativeLineFilter(false);
    expect([absl, continuation].map(quiet)).toEqual([undefined, undefined]);
    expect(quiet('{"level":30,"msg":"started run"}')).toBe('{"level":30,"msg":"started run"}');
    expect(quiet("train: error: something")).toBe("train: error: something");
    expect(JSON.parse(quiet("(node:1) Warning: something")!)).toMatchObject({ level: 40, source: "stderr", msg: "(node:1) Warning: something" });
    const verbose = nativeLineFilter(true);
    expect([absl, continuation].map((line) => JSON.parse(verbose(line)!) as unknown)).toEqual([
      expect.objectContaining({ level: 30, source: "tensorflow", msg: absl }),
      expect.objectContaining({ level: 30, source: "tensorflow", msg: continuation }),
    ]);
  });

  it("the gate reason and the summary show 0.9879999756813049 as 0.988", () => {
    const gate = decideGate({ metric: "test_accuracy", direction: "maximize", threshold: 0.985, compare_to_champion: false } as Parameters<typeof decideGate>[0], { test_accuracy: 0.9879999756813049 });
    expect(gate.reason).toBe("test_accuracy=0.988 >= 0.985, no champion yet");
    const text = formatSummaryText({ summary: { run_id: "r", experiment_id: "1", tracking: "/x", stage: "all", metrics: { test_accuracy: 0.9879999756813049, test_rows: 10, train_loss: 0.5 }, model_uri: "m", gate_passed: true, gate_reason: gate.reason }, wallSeconds: 85.2 });
    expect(text).toMatch(/finished in 1 min 25 s/);
    expect(text).toMatch(/test_accuracy +0\.988\n/);
    expect(groupMetrics({ train_loss: 1, test_rows: 2, test_auc: 3 }).map((group) => group.title)).toEqual(["test", "training", "data"]);
  });
});

