import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/core/errors.js";
import { errorLines, runTrain } from "../support/cli.js";
import { startMlflowServer, type MlflowServer } from "../support/mlflow-server.js";
import { temporaryDirectory } from "../workflows/power/fixtures.js";

// Issue #20, "runs and models at hand": `train runs list|show` and `train models list|show`
// read what `train power` and `train promote` wrote, on the local store and on a real MLflow
// server alike, as a table and as JSON.

let root: string;
let powerFile: string;
let server: MlflowServer;

beforeAll(async () => {
  root = await temporaryDirectory("podtrain-runs-models-");
  powerFile = path.join(root, "power.txt");
  const generated = await runTrain(["power", "generate", "--out", powerFile, "--days", "60", "--seed", "1"]);
  expect(generated.exitCode, generated.stderr).toBe(0);
  server = await startMlflowServer();
}, 180_000);

afterAll(async () => {
  await server?.stop();
});

interface ListedRun {
  run_id: string;
  status: string;
  experiment: string;
}

for (const backend of ["local", "server"] as const) {
  describe(`train runs / train models (${backend} store)`, () => {
    const tracking = () => (backend === "local" ? path.join(root, "mlruns") : server.uri);
    const train = (...args: string[]) => runTrain([...args, "--tracking-uri", tracking()], { cwd: root });
    let runIds: string[] = [];

    beforeAll(async () => {
      for (const seed of ["1", "2"]) {
        const result = await train("power", "--data-file", powerFile, "--test-weeks", "1", "--validation-weeks", "1", "--seed", seed, "--log-format", "json");
        expect(result.exitCode, result.stderr).toBe(0);
        runIds.push((JSON.parse(result.stdout) as { run_id: string }).run_id);
      }
      runIds = runIds.reverse();
      const promoted = await train("promote", "power_lgbm", "1", "--reason", "first reviewed model", "--approver", "ci");
      expect(promoted.exitCode, promoted.stderr).toBe(0);
    }, 180_000);

    it("runs list: newest first, as a table and as JSON; --status and --experiment filter", async () => {
      const table = await train("runs", "list");
      expect(table.exitCode, table.stderr).toBe(0);
      const lines = table.stdout.trimEnd().split("\n");
      expect(lines[0]).toMatch(/^RUN ID +EXPERIMENT +STATUS +STARTED +TOOK +NAME$/);
      expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual(runIds);
      expect(lines[1]).toMatch(/^[0-9a-f]{32} +power-forecast +FINISHED +\d{4}-\d\d-\d\d \d\d:\d\dZ +\d+\.\ds +power_lgbm-/);
      const json = await train("runs", "list", "-o", "json", "--experiment", "power-forecast", "--status", "FINISHED");
      const listed = (JSON.parse(json.stdout) as { runs: ListedRun[] }).runs;
      expect(listed.map((run) => [run.run_id, run.status, run.experiment])).toEqual(runIds.map((id) => [id, "FINISHED", "power-forecast"]));
      const failed = await train("runs", "list", "--status", "FAILED");
      expect(failed.stdout).toMatch(/^no runs with status FAILED on /);
      const unknown = await train("runs", "list", "--experiment", "nope");
      expect(unknown.exitCode).toBe(EXIT_CODES.USAGE);
      expect(errorLines(unknown.stderr)).toEqual([expect.stringMatching(/^train: error: no experiment "nope" on .* \(experiments: .*power-forecast.*\)$/)]);
    });

    it("runs show: test metrics first, params, data tags; JSON has everything", async () => {
      const shown = await train("runs", "show", runIds[0]!);
      expect(shown.exitCode, shown.stderr).toBe(0);
      expect(shown.stdout).toMatch(new RegExp(`^run ${runIds[0]} {2}FINISHED`));
      expect(shown.stdout.indexOf("  test metrics")).toBeLessThan(shown.stdout.indexOf("  validation metrics"));
      expect(shown.stdout).toMatch(/^ {4}seed +2$/m);
      expect(shown.stdout).toMatch(/^ {4}data\.version +[0-9a-f]{64}$/m);
      const json = JSON.parse((await train("runs", "show", runIds[0]!, "-o", "json")).stdout) as { run_id: string; status: string; params: Record<string, string>; metrics: Record<string, number> };
      expect(json).toMatchObject({ run_id: runIds[0], status: "FINISHED" });
      expect(json.params.seed).toBe("2");
      expect(json.metrics.test_rmse).toBeGreaterThan(0);
      const missing = await train("runs", "show", "0123456789abcdef0123456789abcdef");
      expect(missing.exitCode).toBe(EXIT_CODES.USAGE);
      expect(errorLines(missing.stderr)).toEqual([expect.stringMatching(/run 0123456789abcdef0123456789abcdef not found/)]);
    });

    it("models list and models show: versions, aliases, gate metric, source run and data version", async () => {
      const listed = await train("models", "list");
      expect(listed.stdout).toMatch(/^MODEL +VERSIONS +ALIASES +UPDATED\npower_lgbm +2 +candidate=2,champion=1 +\d{4}-/);
      const listedJson = JSON.parse((await train("models", "list", "-o", "json")).stdout) as { models: unknown[] };
      expect(listedJson.models).toEqual([{ name: "power_lgbm", versions: 2, aliases: { candidate: "2", champion: "1" }, updated_at: expect.any(Number) }]);
      const shown = await train("models", "show", "power_lgbm");
      expect(shown.exitCode, shown.stderr).toBe(0);
      const lines = shown.stdout.trimEnd().split("\n");
      expect(lines[0]).toBe("power_lgbm: 2 version(s); gate test_skill_vs_seasonal_naive >= 0.05");
      expect(lines[2]).toMatch(new RegExp(`^1 +champion +test_skill_vs_seasonal_naive=0\\.\\d+ +${runIds[1]} +[0-9a-f]{12} +-$`));
      expect(lines[3]).toMatch(new RegExp(`^2 +candidate +test_skill_vs_seasonal_naive=0\\.\\d+ +${runIds[0]} `));
      // The next step, pasteable.
      expect(lines[4]).toBe(`promote the latest: train promote power_lgbm 2 --reason "why it is better" --tracking-uri ${tracking()}`);
      const json = JSON.parse((await train("models", "show", "power_lgbm", "-o", "json")).stdout) as { versions: Array<{ version: string; aliases: string[]; gate_value: number; promoted_by?: string; data_version: string }> };
      expect(json.versions.map((version) => [version.version, version.aliases])).toEqual([["1", ["champion"]], ["2", ["candidate"]]]);
      expect(json.versions[0]?.promoted_by).toBe("ci");
      expect(typeof json.versions[1]?.gate_value).toBe("number");
      // The promote rule in its own words, with the fix.
      const short = await train("promote", "power_lgbm", "2", "--reason", "x");
      expect(short.exitCode).toBe(EXIT_CODES.USAGE);
      expect(errorLines(short.stderr)).toEqual([expect.stringMatching(/^train: error: promotion needs a reason of at least 3 characters: --reason "/)]);
      const missing = await train("promote", "power_lgbm", "7", "--reason", "a good reason");
      expect(missing.exitCode).toBe(EXIT_CODES.USAGE);
      expect(errorLines(missing.stderr)).toEqual([`train: error: power_lgbm has no version 7 on ${tracking()} (versions: 1, 2); \`train models show power_lgbm --tracking-uri ${tracking()}\` shows them`]);
      const unknown = await train("models", "show", "nope");
      expect(unknown.exitCode).toBe(EXIT_CODES.USAGE);
      expect(errorLines(unknown.stderr)).toEqual([expect.stringMatching(/no registered model "nope" on .* \(registered: power_lgbm\)/)]);
    });
  });
}
