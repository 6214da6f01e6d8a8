import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../../src/core/errors.js";
import { errorLines, runTrain } from "../../support/cli.js";
import { writeFixture } from "./fixtures.js";

// `train cifar10 validate` is the DAGs' first step: it reads every batch in the official binary
// format, prints the data version and creates no run.

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), "podtrain-cifar10-validate-"));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

describe("train cifar10 validate", () => {
  it("prints the data version and the image counts of a folder of batches, and creates no run", async () => {
    const layout = await writeFixture(path.join(directory, "ok"), 20, 10);
    const result = await runTrain(["cifar10", "validate", "--data-dir", layout.root, "--allow-partial-batches"], { cwd: directory });
    expect(result.exitCode, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
    expect(printed).toMatchObject({ train_images: 100, test_images: 10 });
    expect(String(printed.data_source)).toContain(directory);
    expect(printed.data_version).toMatch(/^[0-9a-f]{64}$/);
    const again = await runTrain(["cifar10", "validate", "--data-dir", layout.root, "--allow-partial-batches"], { cwd: directory });
    expect(JSON.parse(again.stdout.trim().split("\n").at(-1)!)).toEqual(printed);
    expect(existsSync(path.join(directory, "mlruns"))).toBe(false);
  });

  it("fails with exit 65 and one line on a corrupt batch", async () => {
    const layout = await writeFixture(path.join(directory, "bad"), 20, 10);
    await writeFile(path.join(layout.batchFolder, "test_batch.bin"), Buffer.alloc(1000, 7));
    const result = await runTrain(["cifar10", "validate", "--data-dir", layout.root, "--allow-partial-batches"], { cwd: directory });
    expect(result.exitCode).toBe(EXIT_CODES.DATA);
    expect(errorLines(result.stderr)).toHaveLength(1);
    expect(errorLines(result.stderr)[0]).toMatch(/test_batch\.bin/);
  });
});
