import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { freePort } from "./mlflow-server.js";
import { REPOSITORY_ROOT } from "./python.js";

// A real MinIO server (built from its Go module by scripts/minio.sh, cached) for the object
// storage tests: loopback only, a free port, a temp data folder, fresh random root credentials.
// `kill()` ends it with SIGKILL (a server dying mid-request), `start()` brings it back on the
// same port and data.

const STARTUP_LIMIT_MS = 60_000;

export interface MinioServer {
  endpoint: string;
  port: number;
  accessKey: string;
  secretKey: string;
  directory: string;
  /** The environment a `train` process needs to reach this server (path-style, its credentials). */
  environment: Record<string, string>;
  createBucket(name: string): Promise<void>;
  client(): S3Client;
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The MinIO binary: $PODTRAIN_MINIO, else what scripts/minio.sh builds or finds in the cache. */
export function minioBinary(): string {
  if (process.env.PODTRAIN_MINIO) return process.env.PODTRAIN_MINIO;
  return execFileSync(path.join(REPOSITORY_ROOT, "scripts/minio.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop()!;
}

export async function startMinioServer(): Promise<MinioServer> {
  const binary = minioBinary();
  const directory = await mkdtemp(path.join(os.tmpdir(), "podtrain-minio-"));
  const port = await freePort();
  const consolePort = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKey = `podtrain${randomBytes(4).toString("hex")}`;
  const secretKey = randomBytes(18).toString("base64url");
  let child: ChildProcess | undefined;
  let client: S3Client | undefined;

  const start = async () => {
    const begun = Date.now();
    const log = createWriteStream(path.join(directory, "server.log"), { flags: "a" });
    const launched = spawn(binary, ["server", path.join(directory, "data"), "--address", `127.0.0.1:${port}`, "--console-address", `127.0.0.1:${consolePort}`, "--quiet"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "", HOME: directory, MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey, MINIO_BROWSER: "off", MINIO_UPDATE: "off", MINIO_CI_CD: "1" },
    });
    child = launched;
    launched.stdout?.pipe(log);
    launched.stderr?.pipe(log);
    while (Date.now() - begun < STARTUP_LIMIT_MS) {
      if (launched.exitCode !== null) throw new Error(`minio exited with ${launched.exitCode}:\n${await logTail(directory)}`);
      const ready = await fetch(`${endpoint}/minio/health/ready`, { signal: AbortSignal.timeout(2_000) }).then((response) => response.ok, () => false);
      if (ready) return;
      await sleep(200);
    }
    throw new Error(`minio did not become ready within ${STARTUP_LIMIT_MS / 1000} s:\n${await logTail(directory)}`);
  };

  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGKILL");
    await exited;
  };

  const server: MinioServer = {
    endpoint,
    port,
    accessKey,
    secretKey,
    directory,
    environment: { AWS_ENDPOINT_URL: endpoint, AWS_REGION: "us-east-1", PODTRAIN_S3_PATH_STYLE: "true", AWS_ACCESS_KEY_ID: accessKey, AWS_SECRET_ACCESS_KEY: secretKey },
    client() {
      // As in src/data/object-store/client.ts: no multi-line Node-version notice in the test output.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
      client ??= new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: accessKey, secretAccessKey: secretKey } });
      return client;
    },
    async createBucket(name) {
      await server.client().send(new CreateBucketCommand({ Bucket: name }));
    },
    kill,
    start,
    async stop() {
      client?.destroy();
      await kill();
      await rm(directory, { recursive: true, force: true });
    },
  };
  await start();
  return server;
}

async function logTail(directory: string): Promise<string> {
  return (await readFile(path.join(directory, "server.log"), "utf8").catch(() => "")).split("\n").slice(-30).join("\n");
}
