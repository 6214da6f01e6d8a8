import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { DeleteObjectsCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/core/errors.js";
import { errorLines, runTrain } from "../support/cli.js";
import { freePort } from "../support/mlflow-server.js";
import { startS3Server, type S3Server } from "../support/s3-server.js";
import { REPOSITORY_ROOT } from "../support/python.js";
import { temporaryDirectory } from "../workflows/tick/fixtures.js";

// `train tick --features-dir s3://…` (validate, fit + evaluate) against a real S3 server: the
// same feature partitions uploaded from disk give the same data version, a partition without a
// manifest is missing as on disk, the hostile cases end in one line before any run exists, and
// no temporary mirror is left behind.

const FROM = "2026-01-05";
const AS_OF = "2026-01-16";
const WINDOW = ["--as-of", AS_OF, "--window", "12d"];

async function uploadTree(server: S3Server, root: string, bucket: string, prefix: string): Promise<void> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  for (const entry of entries.filter((item) => item.isFile())) {
    const relative = path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join("/");
    await server.client().send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${relative}`, Body: await readFile(path.join(entry.parentPath, entry.name)) }));
  }
}

function lastJsonLine(stdout: string): Record<string, string | number> {
  const line = stdout.trim().split("\n").filter((text) => text.startsWith("{")).pop();
  return JSON.parse(line ?? "{}") as Record<string, string | number>;
}

/** Values of the tag files named `name` in a local tracking store (one per run). */
function tagValues(store: string, name: string): string[] {
  return readdirSync(store, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(path.join("tags", name))).map((file) => readFileSync(path.join(store, file), "utf8"));
}

describe("train tick --features-dir s3:// (real S3 server)", () => {
  let server: S3Server;
  let directory: string;
  let features: string;
  let env: Record<string, string>;
  /** The runs' TMPDIR: the temporary mirrors must be gone from it after every run. */
  let scratch: string;
  beforeAll(async () => {
    server = await startS3Server();
    directory = temporaryDirectory("tick-train-s3-");
    scratch = path.join(directory, "tmp");
    mkdirSync(scratch);
    env = { ...server.environment, PODTRAIN_S3_MAX_ATTEMPTS: "2", TMPDIR: scratch };
    await server.createBucket("features");
    const trades = path.join(directory, "trades");
    features = path.join(directory, "features");
    const generated = await runTrain(["tick", "generate", "--out-dir", trades, "--from", FROM, "--to", AS_OF, "--symbols", "2", "--trades-per-day", "5000"]);
    expect(generated.exitCode, generated.stderr).toBe(0);
    const computed = await runTrain(["tick", "features", "--input", trades, "--out-dir", features, "--from", FROM, "--to", AS_OF]);
    expect(computed.exitCode, computed.stderr).toBe(0);
    await uploadTree(server, features, "features", "tick/v1");
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("validate gives the same data version from S3 as from disk, and a full run trains on it", async () => {
    const fromDisk = await runTrain(["tick", "validate", "--features-dir", features, ...WINDOW]);
    expect(fromDisk.exitCode, fromDisk.stderr).toBe(0);
    const fromS3 = await runTrain(["tick", "validate", "--features-dir", "s3://features/tick/v1/", ...WINDOW], { env });
    expect(errorLines(fromS3.stderr)).toEqual([]);
    expect(fromS3.exitCode).toBe(0);
    const [disk, s3] = [lastJsonLine(fromDisk.stdout), lastJsonLine(fromS3.stdout)];
    expect(s3.data_version).toMatch(/^[0-9a-f]{64}$/);
    expect(s3.data_version).toBe(disk.data_version);
    expect(s3.data_features_dir).toBe("s3://features/tick/v1");
    expect({ ...s3, data_features_dir: "" }).toEqual({ ...disk, data_features_dir: "" });
    expect(`${fromS3.stdout}${fromS3.stderr}`).not.toContain(scratch);
    // Without --as-of the window ends at the latest partition, as on disk.
    const latest = await runTrain(["tick", "validate", "--features-dir", "s3://features/tick/v1", "--window", "12d"], { env });
    expect(lastJsonLine(latest.stdout).data_version).toBe(disk.data_version);

    const store = path.join(directory, "mlruns");
    const trained = await runTrain(["tick", "--features-dir", "s3://features/tick/v1", ...WINDOW, "--tracking-uri", store, "--no-register"], { env });
    expect(errorLines(trained.stderr)).toEqual([]);
    expect(trained.exitCode).toBe(0);
    expect(tagValues(store, "data.version")).toEqual([disk.data_version]);
    expect(tagValues(store, "data.features_dir")).toEqual(["s3://features/tick/v1"]);
    expect(readdirSync(scratch)).toEqual([]);

    // The DAG's steps: fit and evaluate in their own processes, each reading the window from S3.
    const staged = path.join(directory, "mlruns-stages");
    const common = ["tick", "--features-dir", "s3://features/tick/v1", ...WINDOW, "--tracking-uri", staged, "--run-key", `tick-${AS_OF}`];
    const fit = await runTrain([...common, "--stage", "fit"], { env });
    expect(fit.exitCode, fit.stderr).toBe(0);
    const evaluate = await runTrain([...common, "--stage", "evaluate"], { env });
    expect(evaluate.exitCode, evaluate.stderr).toBe(0);
    expect(evaluate.stdout).toMatch(/\(evaluate\) finished \(continued an existing run\)/);
    expect(tagValues(staged, "data.version")).toEqual([disk.data_version]);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it("treats a partition without its manifest (an interrupted writer) as missing, before any run exists", async () => {
    await uploadTree(server, features, "features", "tick/holed");
    await server.client().send(new DeleteObjectsCommand({ Bucket: "features", Delete: { Objects: [{ Key: "tick/holed/date=2026-01-13/manifest.json" }] } }));
    const store = path.join(directory, "mlruns-holed");
    const result = await runTrain(["tick", "--features-dir", "s3://features/tick/holed", ...WINDOW, "--tracking-uri", store], { env });
    expect(result.exitCode).toBe(EXIT_CODES.DATA);
    expect(errorLines(result.stderr)).toEqual([
      `train: error: missing feature partitions for 1 date(s) of the window ${FROM}..${AS_OF} under s3://features/tick/holed: 2026-01-13. ` +
        "Compute them with `train tick features --input TRADES_DIR --out-dir s3://features/tick/holed --from 2026-01-13 --to 2026-01-13` (TRADES_DIR: the trades folder the other partitions came from), or list market holidays in closed_dates",
    ]);
    expect(existsSync(store)).toBe(false);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it("ends with one line and the right exit code, and no run, when the store is down, refuses the credentials or lacks the prefix", async () => {
    const store = path.join(directory, "mlruns-hostile");
    const args = ["tick", "--features-dir", "s3://features/tick/v1", ...WINDOW, "--tracking-uri", store];
    const down = await runTrain(args, { env: { ...env, AWS_ENDPOINT_URL: `http://127.0.0.1:${await freePort()}` } });
    expect(down.exitCode).toBe(EXIT_CODES.UNAVAILABLE);
    expect(errorLines(down.stderr)).toHaveLength(1);
    expect(errorLines(down.stderr)[0]).toMatch(/S3 endpoint http:\/\/127\.0\.0\.1:\d+ not reachable/);
    const wrongSecret = "not-the-secret-1a2b3c4d5e6f";
    const refused = await runTrain(args, { env: { ...env, AWS_SECRET_ACCESS_KEY: wrongSecret } });
    expect(refused.exitCode).toBe(EXIT_CODES.CONFIG);
    expect(errorLines(refused.stderr)).toHaveLength(1);
    expect(errorLines(refused.stderr)[0]).toMatch(/refused the credentials \((HTTP 403|SignatureDoesNotMatch)\): check AWS_ACCESS_KEY_ID/);
    expect(`${refused.stdout}${refused.stderr}`).not.toContain(wrongSecret);
    expect(`${refused.stdout}${refused.stderr}`).not.toContain(server.secretKey);
    const empty = await runTrain(["tick", "--features-dir", "s3://features/nothing-here", ...WINDOW, "--tracking-uri", store], { env });
    expect(empty.exitCode).toBe(EXIT_CODES.DATA);
    expect(errorLines(empty.stderr)).toEqual(["train: error: no feature partitions (date=YYYY-MM-DD folders) under s3://features/nothing-here: run `train tick features` first"]);
    const noBucket = await runTrain(["tick", "--features-dir", "s3://no-such-features/x", ...WINDOW, "--tracking-uri", store], { env });
    expect(noBucket.exitCode).toBe(EXIT_CODES.DATA);
    expect(errorLines(noBucket.stderr)).toEqual([`train: error: cannot open bucket s3://no-such-features: the bucket does not exist on ${server.endpoint} (NoSuchBucket)`]);
    expect(existsSync(store)).toBe(false);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it("removes its temporary mirror when stopped by SIGTERM while the store does not answer", async () => {
    // An endpoint that accepts connections and never answers: the read hangs until the signal.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const child = spawn(process.execPath, [path.join(REPOSITORY_ROOT, "bin/train.js"), "tick", "validate", "--features-dir", "s3://features/tick/v1", ...WINDOW], {
        cwd: REPOSITORY_ROOT,
        env: { ...process.env, ...env, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, MLFLOW_TRACKING_URI: undefined } as NodeJS.ProcessEnv,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const closed = new Promise<NodeJS.Signals | number | null>((resolve) => child.on("close", (code, signal) => resolve(signal ?? code)));
      const started = Date.now();
      while (sockets.length === 0 && Date.now() - started < 20_000) await sleep(50);
      expect(readdirSync(scratch)).toHaveLength(1);
      child.kill("SIGTERM");
      expect(await closed).toBe("SIGTERM");
      expect(errorLines(stderr)).toEqual(["train: error: interrupted by SIGTERM while reading the feature partitions of s3://features/tick/v1"]);
      expect(readdirSync(scratch)).toEqual([]);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});
