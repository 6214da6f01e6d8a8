import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSyntheticPowerDirectory, writeSyntheticPowerFile } from "../../src/data/power/synthetic-file.js";
import { writeSyntheticTicks } from "../../src/data/tick/synthetic.js";
import { EXIT_CODES } from "../../src/core/errors.js";
import { errorLines, runTrain } from "../support/cli.js";
import { freePort } from "../support/mlflow-server.js";
import { startS3Server, type S3Server } from "../support/s3-server.js";
import { temporaryDirectory } from "../workflows/tick/fixtures.js";

// `train tick features` and `train power validate` on s3:// locations of a real S3 server,
// compared byte for byte with the same runs on local folders.

async function uploadTree(server: S3Server, root: string, bucket: string, prefix: string): Promise<void> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  for (const entry of entries.filter((item) => item.isFile())) {
    const relative = path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join("/");
    await server.client().send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${relative}`, Body: await readFile(path.join(entry.parentPath, entry.name)) }));
  }
}

async function objectText(server: S3Server, bucket: string, key: string): Promise<string> {
  const response = await server.client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return response.Body!.transformToString();
}

async function objectBytes(server: S3Server, bucket: string, key: string): Promise<Buffer> {
  const response = await server.client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

function lastJsonLine(stdout: string): Record<string, string | number> {
  const line = stdout.trim().split("\n").filter((text) => text.startsWith("{")).pop();
  return JSON.parse(line ?? "{}") as Record<string, string | number>;
}

describe("train on s3:// data (real S3 server)", () => {
  let server: S3Server;
  let directory: string;
  let env: Record<string, string>;
  const dates = ["2026-01-07", "2026-01-08", "2026-01-09"];
  beforeAll(async () => {
    server = await startS3Server();
    env = { ...server.environment, PODTRAIN_S3_MAX_ATTEMPTS: "2" };
    for (const bucket of ["ticks", "features", "power"]) await server.createBucket(bucket);
    directory = temporaryDirectory();
    await writeSyntheticTicks({ outputRoot: path.join(directory, "ticks"), format: "parquet", from: dates[0]!, to: dates[2]!, symbols: 2, tradesPerDay: 3000, seed: 3 });
    await uploadTree(server, path.join(directory, "ticks"), "ticks", "raw/spark");
    // What a Spark job leaves beside the data: ignored like on disk.
    await server.client().send(new PutObjectCommand({ Bucket: "ticks", Key: "raw/spark/_SUCCESS", Body: new Uint8Array(0) }));
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("tick features from and to S3 give the same bytes and hashes as on disk, skip unchanged partitions, and commit manifests", async () => {
    const local = await runTrain(["tick", "features", "--from", dates[0]!, "--to", dates[2]!, "--input", path.join(directory, "ticks"), "--output", path.join(directory, "features")]);
    expect(errorLines(local.stderr)).toEqual([]);
    expect(local.exitCode).toBe(0);
    const remote = await runTrain(["tick", "features", "--from", dates[0]!, "--to", dates[2]!, "--input", "s3://ticks/raw/spark", "--output", "s3://features/tick/v1"], { env });
    expect(errorLines(remote.stderr)).toEqual([]);
    expect(remote.exitCode).toBe(0);
    expect(remote.stdout).toBe(local.stdout);
    for (const date of dates) {
      const localPartition = path.join(directory, "features", `date=${date}`);
      const files = (await readdir(localPartition)).sort();
      const listed = await server.client().send(new ListObjectsV2Command({ Bucket: "features", Prefix: `tick/v1/date=${date}/` }));
      expect((listed.Contents ?? []).map((entry) => entry.Key!.split("/").pop()).sort()).toEqual(files);
      for (const file of files) {
        expect((await objectBytes(server, "features", `tick/v1/date=${date}/${file}`)).equals(await readFile(path.join(localPartition, file)))).toBe(true);
      }
    }
    // The manifest records the input objects' hashes: the same as for the files on disk.
    const manifest = JSON.parse(await objectText(server, "features", `tick/v1/date=${dates[1]}/manifest.json`)) as { inputs: Array<{ sha256: string }> };
    expect(manifest.inputs.length).toBeGreaterThan(0);
    const again = await runTrain(["tick", "features", "--date", dates[2]!, "--input", "s3://ticks/raw/spark", "--output", "s3://features/tick/v1"], { env });
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`${dates[2]}  skipped`));
  });

  it("a recompute that fails on S3 takes the partition's old manifest away and leaves its quarantine to inspect", async () => {
    const output = ["--output", "s3://features/tick/recompute"];
    const first = await runTrain(["tick", "features", "--date", dates[1]!, "--input", "s3://ticks/raw/spark", ...output], { env });
    expect(first.exitCode).toBe(0);
    const corrupt = path.join(directory, "corrupt");
    await writeSyntheticTicks({ outputRoot: corrupt, format: "parquet", from: dates[0]!, to: dates[1]!, symbols: 2, tradesPerDay: 3000, seed: 3, corruptFraction: 0.2 });
    await uploadTree(server, corrupt, "ticks", "raw/corrupt");
    const failed = await runTrain(["tick", "features", "--date", dates[1]!, "--input", "s3://ticks/raw/corrupt", ...output], { env });
    expect(failed.exitCode).toBe(EXIT_CODES.DATA);
    expect(errorLines(failed.stderr)).toHaveLength(1);
    expect(errorLines(failed.stderr)[0]).toMatch(new RegExp(`partition ${dates[1]}: \\d+ of \\d+ rows rejected .*; see s3://features/tick/recompute/date=${dates[1]}/quarantine.csv$`));
    const listed = await server.client().send(new ListObjectsV2Command({ Bucket: "features", Prefix: `tick/recompute/date=${dates[1]}/` }));
    const names = (listed.Contents ?? []).map((entry) => entry.Key!.split("/").pop());
    expect(names).not.toContain("manifest.json");
    expect(names).toContain("quarantine.csv");
  });

  it("ends with one actionable line and the right exit code when the store is down, refuses the credentials or lacks the bucket", async () => {
    const args = ["tick", "features", "--date", dates[0]!, "--input", "s3://ticks/raw/spark", "--output", "s3://features/tick/hostile"];
    const down = await runTrain(args, { env: { ...env, AWS_ENDPOINT_URL: `http://127.0.0.1:${await freePort()}` } });
    expect(down.exitCode).toBe(EXIT_CODES.UNAVAILABLE);
    expect(errorLines(down.stderr)).toHaveLength(1);
    expect(errorLines(down.stderr)[0]).toMatch(/S3 endpoint http:\/\/127\.0\.0\.1:\d+ not reachable/);
    const wrongSecret = "not-the-secret-9f8e7d6c5b4a";
    const refused = await runTrain(args, { env: { ...env, AWS_SECRET_ACCESS_KEY: wrongSecret } });
    expect(refused.exitCode).toBe(EXIT_CODES.CONFIG);
    expect(errorLines(refused.stderr)[0]).toMatch(/refused the credentials \((HTTP 403|SignatureDoesNotMatch)\): check AWS_ACCESS_KEY_ID/);
    expect(`${refused.stdout}${refused.stderr}`).not.toContain(wrongSecret);
    expect(`${refused.stdout}${refused.stderr}`).not.toContain(server.secretKey);
    const missing = await runTrain(["tick", "features", "--date", dates[0]!, "--input", "s3://no-such-trades/x", "--output", "s3://features/tick/hostile"], { env });
    expect(missing.exitCode).toBe(EXIT_CODES.DATA);
    expect(errorLines(missing.stderr)).toEqual(["train: error: cannot open bucket s3://no-such-trades: the bucket does not exist on " + server.endpoint + " (NoSuchBucket)"]);
    const empty = await runTrain(["tick", "features", "--date", dates[0]!, "--input", "s3://ticks/nothing-here", "--output", "s3://features/tick/hostile"], { env });
    expect(empty.exitCode).toBe(EXIT_CODES.DATA);
    expect(errorLines(empty.stderr)).toEqual(["train: error: input folder s3://ticks/nothing-here holds no date=YYYY-MM-DD partitions"]);
    // Nothing was committed for the failed runs.
    const listed = await server.client().send(new ListObjectsV2Command({ Bucket: "features", Prefix: "tick/hostile/" }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it("power reads --data-file and --data-dir from S3 with the same data version as from disk", async () => {
    const file = path.join(directory, "household_power_consumption.txt");
    await writeSyntheticPowerFile(file, { days: 70, seed: 4 });
    await server.client().send(new PutObjectCommand({ Bucket: "power", Key: "uci/household_power_consumption.txt", Body: await readFile(file) }));
    const daily = path.join(directory, "daily");
    await writeSyntheticPowerDirectory(daily, { days: 60, seed: 5 });
    await uploadTree(server, daily, "power", "daily");
    const fromDisk = await runTrain(["power", "validate", "--data-file", file]);
    const fromS3 = await runTrain(["power", "validate", "--data-file", "s3://power/uci/household_power_consumption.txt"], { env });
    expect(errorLines(fromS3.stderr)).toEqual([]);
    expect(fromS3.exitCode).toBe(0);
    const [disk, s3] = [lastJsonLine(fromDisk.stdout), lastJsonLine(fromS3.stdout)];
    expect(s3.data_version).toMatch(/^[0-9a-f]{64}$/);
    expect(s3.data_version).toBe(disk.data_version);
    expect(s3.data_source).toBe("s3://power/uci/household_power_consumption.txt");
    expect({ ...s3, data_source: "" }).toEqual({ ...disk, data_source: "" });
    const dirDisk = lastJsonLine((await runTrain(["power", "validate", "--data-dir", daily])).stdout);
    const dirS3Run = await runTrain(["power", "validate", "--data-dir", "s3://power/daily"], { env });
    expect(errorLines(dirS3Run.stderr)).toEqual([]);
    const dirS3 = lastJsonLine(dirS3Run.stdout);
    expect(dirS3.data_version).toBe(dirDisk.data_version);
    expect(dirS3.data_files).toBe(60);
    expect(dirS3.data_source).toBe("60 files in s3://power/daily");
    const missing = await runTrain(["power", "validate", "--data-file", "s3://power/uci/nope.txt"], { env });
    expect(missing.exitCode).toBe(EXIT_CODES.DATA);
    expect(errorLines(missing.stderr)).toEqual([`train: error: cannot read s3://power/uci/nope.txt: no such object on ${server.endpoint} (NoSuchKey)`]);
  });
});
