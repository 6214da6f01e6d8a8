import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/core/errors.js";
import { RestTrackingStore } from "../../src/tracking/rest/rest-store.js";
import { errorLines } from "../support/cli.js";
import { startMlflowServer, type MlflowServer } from "../support/mlflow-server.js";
import { REPOSITORY_ROOT } from "../support/python.js";
import { logLines, runTrainWithSignals } from "../support/signals.js";

// A retry on another node has nothing but the tracking server: the checkpoints of a preempted
// fit live in the run's artifacts (checkpoints/) on the real MLflow server, and the retry
// resumes from there. Pruning and the clean-up after the fit go through the artifact proxy too.

describe("preempted fit resumed through the MLflow server's artifact store", () => {
  let server: MlflowServer;
  let work: string;
  let specFile: string;
  beforeAll(async () => {
    server = await startMlflowServer();
    work = await mkdtemp(path.join(os.tmpdir(), "podtrain-preempt-server-"));
    specFile = path.join(work, "mnist_cnn.yaml");
    await writeFile(specFile, (await readFile(path.join(REPOSITORY_ROOT, "models/mnist_cnn.yaml"), "utf8")).replace("threshold: 0.985", "threshold: 0.5"));
  }, 200_000);
  afterAll(async () => {
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("SIGTERM mid-epoch → checkpoints on the server; the retry resumes the same run from them, registers once and removes them", async () => {
    const store = new RestTrackingStore(server.uri);
    const args = ["mnist", "--spec", specFile, "--train-limit", "1200", "--test-limit", "200", "--batch-size", "32", "--epochs", "3", "--run-key", "dag/server-1",
      "--tracking-uri", server.uri, "--log-format", "json", "--checkpoint-every-epochs", "1"];
    const stopped = await runTrainWithSignals(args, { after: /"msg":"epoch 2\/3 11\/34"/, signals: ["SIGTERM"] });
    expect(stopped.exitCode).toBe(EXIT_CODES.TERMINATED);
    expect(errorLines(stopped.stderr)).toEqual(["train: error: interrupted by SIGTERM"]);
    console.info(`mnist (MLflow server): SIGTERM → exit in ${Math.round(stopped.msToExit!)} ms`);
    const runId = String(logLines(stopped.stderr).find((line) => line.msg === "started run")!.run_id);
    expect((await store.getRun(runId)).info.status).toBe("KILLED");
    const written = logLines(stopped.stderr).filter((line) => line.msg === "wrote checkpoint").map((line) => String(line.checkpoint));
    expect(written).toHaveLength(2);
    expect(await store.listArtifacts(runId, "checkpoints")).toEqual(written.flatMap((name) => [`checkpoints/${name}/data.bin`, `checkpoints/${name}/manifest.json`]));

    const resumed = await runTrainWithSignals(args);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(logLines(resumed.stderr).find((line) => line.msg === "resuming from checkpoint")).toMatchObject({ checkpoint: `checkpoints/${written[1]}`, epoch: 1 });
    const run = await store.getRun(runId);
    expect(run.info.status).toBe("FINISHED");
    expect(JSON.parse(run.tags["podtrain.resumed_from"]!)).toMatchObject({ epoch: 1, checkpoint: `checkpoints/${written[1]}` });
    expect(await store.listArtifacts(runId, "checkpoints")).toEqual([]);
    expect((await store.registry.findModelVersionsByRun("mnist_cnn", runId)).map((version) => version.version)).toEqual(["1"]);
  }, 300_000);
});
