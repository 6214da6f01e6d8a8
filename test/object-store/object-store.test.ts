import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { objectStoreSettings } from "../../src/data/object-store/client.js";
import { checkBucket, downloadObject, listFolders, uploadFile } from "../../src/data/object-store/operations.js";
import { commitFolder } from "../../src/data/object-store/staging.js";
import { parseObjectUri } from "../../src/data/object-store/uri.js";
import { DataError, EXIT_CODES, PodtrainError, SpecError, UnavailableError, UsageError } from "../../src/core/errors.js";
import { objectStoreCheckpoints } from "../../src/runtime/object-store-checkpoints.js";
import { freePort } from "../support/mlflow-server.js";
import { startS3Server, type S3Server } from "../support/s3-server.js";

const S3_VARIABLES = ["AWS_ENDPOINT_URL", "AWS_REGION", "PODTRAIN_S3_PATH_STYLE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "PODTRAIN_S3_MAX_ATTEMPTS", "PODTRAIN_S3_TIMEOUT_SECONDS"];
const saved = Object.fromEntries(S3_VARIABLES.map((name) => [name, process.env[name]]));

function useEnvironment(values: Record<string, string | undefined>): void {
  for (const name of S3_VARIABLES) delete process.env[name];
  for (const [name, value] of Object.entries(values)) if (value !== undefined) process.env[name] = value;
}

async function failure(promise: Promise<unknown>): Promise<PodtrainError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(PodtrainError);
  return error as PodtrainError;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("s3:// locations and settings", () => {
  afterEach(() => useEnvironment(saved));

  it("parses bucket and prefix and refuses what S3 would refuse", () => {
    expect(parseObjectUri("s3://trades-raw/spark/ticks/")).toEqual({ bucket: "trades-raw", key: "spark/ticks" });
    expect(parseObjectUri("s3://trades-raw")).toEqual({ bucket: "trades-raw", key: "" });
    expect(() => parseObjectUri("s3://My_Bucket/x", "--input")).toThrow(UsageError);
    expect(() => parseObjectUri("s3://bucket//x", "--input")).toThrow(/empty path segment/);
    expect(() => parseObjectUri("/data/ticks", "--input")).toThrow(/expected s3:\/\/bucket\/prefix/);
  });

  it("reads endpoint, region and path style from the environment, and refuses bad values with exit 78", () => {
    useEnvironment({ AWS_ENDPOINT_URL: "http://127.0.0.1:9000" });
    expect(objectStoreSettings()).toMatchObject({ endpoint: "http://127.0.0.1:9000", region: "us-east-1", forcePathStyle: true, maxAttempts: 4, timeoutMs: 30_000 });
    useEnvironment({ AWS_REGION: "eu-west-1" });
    expect(objectStoreSettings()).toMatchObject({ endpoint: undefined, region: "eu-west-1", forcePathStyle: false });
    useEnvironment({ AWS_ENDPOINT_URL: "http://s3.storage:9000", PODTRAIN_S3_PATH_STYLE: "false" });
    expect(objectStoreSettings().forcePathStyle).toBe(false);
    useEnvironment({ PODTRAIN_S3_PATH_STYLE: "yes" });
    expect(() => objectStoreSettings()).toThrow(SpecError);
    useEnvironment({ AWS_ENDPOINT_URL: "s3.storage:9000" });
    expect(() => objectStoreSettings()).toThrow(/not a URL|http:\/\/ or https:\/\//);
    useEnvironment({ PODTRAIN_S3_MAX_ATTEMPTS: "0" });
    expect(() => objectStoreSettings()).toThrow(/PODTRAIN_S3_MAX_ATTEMPTS/);
  });
});

describe("object storage against a real S3 server", () => {
  let server: S3Server;
  let scratch: string;
  beforeAll(async () => {
    server = await startS3Server();
    await server.createBucket("podtrain-test");
    scratch = await mkdtemp(path.join(os.tmpdir(), "podtrain-s3-test-"));
  });
  afterAll(async () => {
    useEnvironment(saved);
    await server?.stop();
  });
  afterEach(() => useEnvironment(server.environment));

  it("streams a multipart upload and a download with the same bytes, and lists folders", async () => {
    useEnvironment(server.environment);
    const file = path.join(scratch, "big.bin");
    const bytes = randomBytes(20 * 1024 * 1024 + 123);
    await writeFile(file, bytes);
    const parts: number[] = [];
    await uploadFile("podtrain-test", "roundtrip/a=1/big.bin", file, (progress) => parts.push(progress.loaded));
    expect(parts.length).toBeGreaterThan(1); // 8 MiB parts: a multipart upload
    await downloadObject("podtrain-test", "roundtrip/a=1/big.bin", path.join(scratch, "back", "big.bin"));
    expect(sha256(await readFile(path.join(scratch, "back", "big.bin")))).toBe(sha256(bytes));
    expect(await listFolders(parseObjectUri("s3://podtrain-test/roundtrip"))).toEqual(["a=1"]);
  });

  it("says a missing bucket or object is missing (exit 65)", async () => {
    useEnvironment(server.environment);
    const bucket = await failure(checkBucket("no-such-bucket"));
    expect(bucket).toBeInstanceOf(DataError);
    expect(bucket.exitCode).toBe(EXIT_CODES.DATA);
    expect(bucket.message).toMatch(/s3:\/\/no-such-bucket: the bucket does not exist/);
    const key = await failure(downloadObject("podtrain-test", "nothing/here.parquet", path.join(scratch, "none")));
    expect(key.exitCode).toBe(EXIT_CODES.DATA);
    expect(key.message).toMatch(/read s3:\/\/podtrain-test\/nothing\/here.parquet: no such object/);
  });

  it("refuses wrong credentials with exit 78 and never prints the secret", async () => {
    const wrongSecret = "wrong-secret-0123456789abcdef";
    useEnvironment({ ...server.environment, AWS_SECRET_ACCESS_KEY: wrongSecret });
    const error = await failure(checkBucket("podtrain-test"));
    expect(error).toBeInstanceOf(SpecError);
    expect(error.message).toMatch(/refused the credentials .*AWS_ACCESS_KEY_ID/);
    expect(error.message).not.toContain(wrongSecret);
    // An access key the server does not know (versitygw answers 404, AWS 403): never "no such bucket/object".
    useEnvironment({ ...server.environment, AWS_ACCESS_KEY_ID: "nobody" });
    expect((await failure(downloadObject("podtrain-test", "roundtrip/a=1/big.bin", path.join(scratch, "x")))).exitCode).toBe(EXIT_CODES.CONFIG);
    const unknownKey = await failure(checkBucket("podtrain-test"));
    expect(unknownKey).toBeInstanceOf(SpecError);
    expect(unknownKey.message).toMatch(/refused the credentials/);
  });

  it("says to set AWS_REGION when the server signs for another region (exit 78)", async () => {
    useEnvironment({ ...server.environment, AWS_REGION: "eu-west-1" });
    const error = await failure(checkBucket("podtrain-test"));
    expect(error).toBeInstanceOf(SpecError);
    expect(error.message).toMatch(/another region \(AuthorizationHeaderMalformed\): set AWS_REGION$/);
  });

  it("gives up on a server that is down after bounded retries (exit 69)", async () => {
    const port = await freePort();
    useEnvironment({ ...server.environment, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, PODTRAIN_S3_MAX_ATTEMPTS: "3" });
    const started = Date.now();
    const error = await failure(checkBucket("podtrain-test"));
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.message).toMatch(/not reachable \(ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("cuts off a server that accepts connections and never answers, within attempts × timeout", async () => {
    const sockets = new Set<net.Socket>();
    const stalled = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => stalled.listen(0, "127.0.0.1", resolve));
    const { port } = stalled.address() as net.AddressInfo;
    try {
      useEnvironment({ ...server.environment, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, PODTRAIN_S3_MAX_ATTEMPTS: "2", PODTRAIN_S3_TIMEOUT_SECONDS: "1" });
      const started = Date.now();
      const error = await failure(downloadObject("podtrain-test", "slow/key.parquet", path.join(scratch, "slow")));
      const seconds = (Date.now() - started) / 1000;
      expect(error.exitCode).toBe(EXIT_CODES.UNAVAILABLE);
      expect(seconds).toBeLessThan(10);
      expect(sockets.size).toBe(2); // both attempts reached the server
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => stalled.close(resolve));
    }
  });

  it("commits a partition with its manifest last: a server killed mid-upload leaves no manifest, and a rerun succeeds", async () => {
    useEnvironment({ ...server.environment, PODTRAIN_S3_MAX_ATTEMPTS: "2" });
    const local = path.join(scratch, "partitions");
    const partition = path.join(local, "date=2026-01-09");
    await mkdir(partition, { recursive: true });
    const data = randomBytes(40 * 1024 * 1024);
    await writeFile(path.join(partition, "features.arrow"), data);
    await writeFile(path.join(partition, "_manifest.json"), JSON.stringify({ sha256: sha256(data) }));
    const location = parseObjectUri("s3://podtrain-test/features");
    // An older committed version: the commit must take its manifest away before anything else.
    await server.client().send(new PutObjectCommand({ Bucket: "podtrain-test", Key: "features/date=2026-01-09/_manifest.json", Body: "{\"old\":true}" }));
    let killed = false;
    const error = await failure(commitFolder(location, "date=2026-01-09", local, {
      manifestName: "_manifest.json",
      onProgress: (progress) => {
        if (!killed && progress.loaded > 0) {
          killed = true;
          void server.kill();
        }
      },
    }));
    expect(killed).toBe(true);
    expect(error.exitCode).toBe(EXIT_CODES.UNAVAILABLE);
    await server.start();
    const keys = async () => ((await server.client().send(new ListObjectsV2Command({ Bucket: "podtrain-test", Prefix: "features/" }))).Contents ?? []).map((entry) => entry.Key);
    expect(await keys()).not.toContain("features/date=2026-01-09/_manifest.json");
    await commitFolder(location, "date=2026-01-09", local, { manifestName: "_manifest.json" });
    expect(await keys()).toEqual(["features/date=2026-01-09/_manifest.json", "features/date=2026-01-09/features.arrow"]);
    const stored = await server.client().send(new GetObjectCommand({ Bucket: "podtrain-test", Key: "features/date=2026-01-09/features.arrow" }));
    expect(sha256(await stored.Body!.transformToByteArray())).toBe(sha256(data));
  });

  it("keeps checkpoints under s3://…/<run id>/: newest intact one loads, damaged and uncommitted ones are skipped, old ones pruned", async () => {
    useEnvironment(server.environment);
    const warnings: string[] = [];
    const log = pino({ level: "warn" }, { write: (line: string) => warnings.push(line) });
    const store = objectStoreCheckpoints("s3://podtrain-test/checkpoints", "run-1", log);
    expect(store.location).toBe("s3://podtrain-test/checkpoints/run-1");
    expect(await store.loadNewest()).toBeUndefined();
    for (const step of [10, 20, 30]) await store.save(step, { step }, new Uint8Array([step, step + 1]));
    const listed = async () => ((await server.client().send(new ListObjectsV2Command({ Bucket: "podtrain-test", Prefix: "checkpoints/run-1/" }))).Contents ?? []).map((entry) => entry.Key!.split("/")[2]);
    expect([...new Set(await listed())]).toEqual(["ckpt-0000000020", "ckpt-0000000030"]);
    expect((await store.loadNewest())?.state).toEqual({ step: 30 });
    // Newest data corrupted, and a newer checkpoint whose manifest never arrived.
    await server.client().send(new PutObjectCommand({ Bucket: "podtrain-test", Key: "checkpoints/run-1/ckpt-0000000030/data.bin", Body: new Uint8Array([0]) }));
    await server.client().send(new PutObjectCommand({ Bucket: "podtrain-test", Key: "checkpoints/run-1/ckpt-0000000040/data.bin", Body: new Uint8Array([1, 2, 3]) }));
    const loaded = await store.loadNewest();
    expect(loaded?.state).toEqual({ step: 20 });
    expect(Array.from(loaded!.data)).toEqual([20, 21]);
    expect(warnings.join("\n")).toMatch(/manifest.json is missing[\s\S]*truncated/);
    await store.clear();
    expect(await listed()).toEqual([]);
  });
});
