import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { freePort } from "./mlflow-server.js";
import { REPOSITORY_ROOT } from "./python.js";

// A real S3 server for the object storage tests: versitygw (Apache-2.0) with its POSIX backend,
// built from its Go module by scripts/s3-server.sh and cached. Loopback only, a free port, a temp
// data folder, fresh random root credentials. `kill()` ends it with SIGKILL (a server dying
// mid-request), `start()` brings it back on the same port and data.

const STARTUP_LIMIT_MS = 60_000;
const REGION = "us-east-1";

export interface S3Server {
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

/** The server binary: $PODTRAIN_S3_SERVER, else what scripts/s3-server.sh builds or finds in the cache. */
export function s3ServerBinary(): string {
  if (process.env.PODTRAIN_S3_SERVER) return process.env.PODTRAIN_S3_SERVER;
  return execFileSync(path.join(REPOSITORY_ROOT, "scripts/s3-server.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop()!;
}

export async function startS3Server(): Promise<S3Server> {
  const binary = s3ServerBinary();
  const directory = await mkdtemp(path.join(os.tmpdir(), "podtrain-s3-server-"));
  const data = path.join(directory, "data");
  await mkdir(data, { recursive: true });
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKey = `podtrain${randomBytes(4).toString("hex")}`;
  const secretKey = randomBytes(18).toString("base64url");
  let child: ChildProcess | undefined;
  let client: S3Client | undefined;

  const start = async () => {
    const begun = Date.now();
    const log = createWriteStream(path.join(directory, "server.log"), { flags: "a" });
    // Credentials through the environment, not argv: `ps` would show them.
    const launched = spawn(binary, ["--port", `127.0.0.1:${port}`, "--region", REGION, "--health", "/health", "--quiet", "posix", data], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "", HOME: directory, ROOT_ACCESS_KEY: accessKey, ROOT_SECRET_KEY: secretKey },
    });
    child = launched;
    launched.stdout?.pipe(log);
    launched.stderr?.pipe(log);
    while (Date.now() - begun < STARTUP_LIMIT_MS) {
      if (launched.exitCode !== null) throw new Error(`versitygw exited with ${launched.exitCode}:\n${await logTail(directory)}`);
      const ready = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(2_000) }).then((response) => response.ok, () => false);
      if (ready) return;
      await sleep(200);
    }
    throw new Error(`versitygw did not become ready within ${STARTUP_LIMIT_MS / 1000} s:\n${await logTail(directory)}`);
  };

  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGKILL");
    await exited;
  };

  const server: S3Server = {
    endpoint,
    port,
    accessKey,
    secretKey,
    directory,
    environment: { AWS_ENDPOINT_URL: endpoint, AWS_REGION: REGION, PODTRAIN_S3_PATH_STYLE: "true", AWS_ACCESS_KEY_ID: accessKey, AWS_SECRET_ACCESS_KEY: secretKey },
    client() {
      // As in src/data/object-store/client.ts: no multi-line Node-version notice in the test output.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
      client ??= new S3Client({ endpoint, region: REGION, forcePathStyle: true, credentials: { accessKeyId: accessKey, secretAccessKey: secretKey } });
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
