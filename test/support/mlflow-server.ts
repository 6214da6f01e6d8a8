import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { TOOLS_BIN, ensureToolsEnvironment } from "./python.js";

// The real `mlflow server` (pinned in scripts/python/tools.txt) for tests: SQLite backend and
// proxied artifacts in a temp folder, loopback only, a free port. It runs in its own process
// group because it forks uvicorn workers that would otherwise outlive the test run.

const STARTUP_LIMIT_MS = 180_000;
const STOP_GRACE_MS = 5_000;

export interface MlflowServer {
  uri: string;
  port: number;
  /** Temp folder holding the SQLite file, the artifacts and server.log. */
  directory: string;
  /** Seconds the last start took until /health answered. */
  startSeconds: number;
  stop(): Promise<void>;
  /** Stops and starts again on the same port and data: for "server restarted" fault tests. */
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startMlflowServer(): Promise<MlflowServer> {
  await ensureToolsEnvironment();
  const directory = await mkdtemp(path.join(os.tmpdir(), "podtrain-mlflow-"));
  const port = await freePort();
  const uri = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    const begun = Date.now();
    const log = createWriteStream(path.join(directory, "server.log"), { flags: "a" });
    const launched = spawn(
      path.join(TOOLS_BIN, "mlflow"),
      ["server", "--backend-store-uri", `sqlite:///${path.join(directory, "mlflow.db")}`, "--artifacts-destination", path.join(directory, "artifacts"), "--serve-artifacts", "--host", "127.0.0.1", "--port", String(port), "--workers", "1"],
      // The job runner (huey consumers) is not needed for tracking and doubles the start time.
      { detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: "false" } },
    );
    child = launched;
    launched.stdout?.pipe(log);
    launched.stderr?.pipe(log);
    while (Date.now() - begun < STARTUP_LIMIT_MS) {
      if (launched.exitCode !== null) throw new Error(`mlflow server exited with ${launched.exitCode}:\n${await logTail(directory)}`);
      const healthy = await fetch(`${uri}/health`, { signal: AbortSignal.timeout(2_000) }).then((response) => response.ok, () => false);
      if (healthy) {
        server.startSeconds = (Date.now() - begun) / 1000;
        return;
      }
      await sleep(250);
    }
    await stop();
    throw new Error(`mlflow server did not answer /health within ${STARTUP_LIMIT_MS / 1000} s:\n${await logTail(directory)}`);
  };

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running?.pid) return;
    signalGroup(running.pid, "SIGTERM");
    const deadline = Date.now() + STOP_GRACE_MS;
    while (groupAlive(running.pid) && Date.now() < deadline) await sleep(100);
    if (groupAlive(running.pid)) signalGroup(running.pid, "SIGKILL");
    while (groupAlive(running.pid)) await sleep(50);
  };

  const server: MlflowServer = {
    uri,
    port,
    directory,
    startSeconds: 0,
    stop: async () => {
      await stop();
      await rm(directory, { recursive: true, force: true });
    },
    restart: async () => {
      await stop();
      await start();
    },
  };
  await start();
  return server;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function logTail(directory: string): Promise<string> {
  return (await readFile(path.join(directory, "server.log"), "utf8").catch(() => "")).split("\n").slice(-30).join("\n");
}
