import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/core/errors.js";
import { FileTrackingStore } from "../../src/tracking/file-store.js";
import { errorLines } from "../support/cli.js";
import { startS3Server, type S3Server } from "../support/s3-server.js";
import { REPOSITORY_ROOT } from "../support/python.js";
import { logLines, runTrainWithSignals } from "../support/signals.js";

// `--checkpoint-dir s3://…` on the real CLI: a fit stopped by SIGTERM mid-epoch leaves its
// checkpoint on the S3 server, the retry resumes from it, and the finished run removes them.

const MNIST_MID_EPOCH_2 = /"msg":"epoch 2\/3 11\/34"/;

describe("train mnist with checkpoints on S3 (real S3 server)", () => {
  let server: S3Server;
  let directory: string;
  let spec: string;
  beforeAll(async () => {
    server = await startS3Server();
    await server.createBucket("checkpoints");
    directory = await mkdtemp(path.join(os.tmpdir(), "podtrain-s3-ckpt-"));
    spec = path.join(directory, "mnist_cnn.yaml");
    await writeFile(spec, (await readFile(path.join(REPOSITORY_ROOT, "models/mnist_cnn.yaml"), "utf8")).replace("threshold: 0.985", "threshold: 0.5"));
  });
  afterAll(async () => {
    await server?.stop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it("SIGTERM mid-epoch leaves the checkpoint on S3; the retry resumes from it and the finished run removes them", async () => {
    const store = path.join(directory, "mlruns");
    const args = ["mnist", "--spec", spec, "--train-limit", "1200", "--test-limit", "200", "--batch-size", "32", "--epochs", "3",
      "--tracking-uri", store, "--log-format", "json", "--run-key", "dag/s3-1", "--checkpoint-dir", "s3://checkpoints/volume"];
    const keys = async () => ((await server.client().send(new ListObjectsV2Command({ Bucket: "checkpoints", Prefix: "volume/" }))).Contents ?? []).map((entry) => entry.Key!);
    const stopped = await runTrainWithSignals(args, { after: MNIST_MID_EPOCH_2, signals: ["SIGTERM"] }, server.environment);
    expect(stopped.exitCode, stopped.stderr).toBe(EXIT_CODES.TERMINATED);
    expect(errorLines(stopped.stderr)).toEqual(["train: error: interrupted by SIGTERM"]);
    const written = await keys();
    const runId = written[0]!.split("/")[1]!;
    expect(runId).toMatch(/^[0-9a-f]{32}$/);
    const last = logLines(stopped.stderr).filter((line) => line.msg === "wrote checkpoint").at(-1)!;
    expect(written).toContain(`volume/${runId}/${String(last.checkpoint)}/manifest.json`);
    expect(written).toContain(`volume/${runId}/${String(last.checkpoint)}/data.bin`);
    const resumed = await runTrainWithSignals(args, undefined, server.environment);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(logLines(resumed.stderr).find((line) => line.msg === "resuming from checkpoint")).toMatchObject({ epoch: 1, batch: last.batch });
    const experiments = (await readdir(store)).filter((name) => /^\d+$/.test(name) && name !== "0");
    const run = await new FileTrackingStore(store).getRun(runId);
    expect(experiments.length).toBeGreaterThan(0);
    expect(run.info.status).toBe("FINISHED");
    expect(JSON.parse(run.tags["podtrain.resumed_from"]!)).toMatchObject({ epoch: 1, checkpoint: `s3://checkpoints/volume/${runId}/${String(last.checkpoint)}` });
    expect(await keys()).toEqual([]);
  }, 300_000);
});
