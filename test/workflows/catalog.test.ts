// The workflow catalog is the single declaration of a workflow: these checks keep what the
// CLI, `train bench` and the DAG generator read from it consistent with the workflows' schemas.
import { describe, expect, it } from "vitest";
import { WORKFLOW_NAMES } from "../../src/config/schema.js";
import { WIRED_SUBCOMMANDS } from "../../src/cli/workflow-subcommands.js";
import { buildProgram } from "../../src/cli/main.js";
import { WORKFLOWS } from "../../src/workflows/catalog.js";

/** `--flag value` pairs as the params keys they set. */
function paramsOfFlags(flags: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (let index = 0; index < flags.length; index += 2) params[flags[index]!.replace(/^--/, "").replaceAll("-", "_")] = flags[index + 1]!;
  return params;
}

describe("workflow catalog", () => {
  it("declares every workflow name of the spec schema, under its own name", () => {
    expect(Object.keys(WORKFLOWS).sort()).toEqual([...WORKFLOW_NAMES].sort());
    for (const [name, definition] of Object.entries(WORKFLOWS)) expect(definition.name).toBe(name);
  });

  it("gives GPU fit pods only flags the workflow's params schema accepts", () => {
    for (const definition of Object.values(WORKFLOWS)) {
      const flags = definition.orchestration.gpuFitArguments;
      expect(flags.length % 2, definition.name).toBe(0);
      const params = paramsOfFlags(flags);
      for (const [key, value] of Object.entries(params)) {
        expect(definition.paramsSchema.shape, `${definition.name}: ${key}`).toHaveProperty(key);
        expect(definition.paramsSchema.partial().safeParse({ [key]: value }).success, `${definition.name}: --${key} ${value}`).toBe(true);
      }
    }
    // The TensorFlow workflows insist on the GPU; the LightGBM ones have no GPU backend to ask for.
    expect(WORKFLOWS.mnist.orchestration.gpuFitArguments).toEqual(["--backend", "tensorflow-gpu"]);
    expect(WORKFLOWS.power.orchestration.gpuFitArguments).toEqual([]);
  });

  it("partitions with a declared subcommand and a window-end flag the training steps accept", () => {
    for (const definition of Object.values(WORKFLOWS)) {
      const input = definition.orchestration.input;
      if (input.kind !== "partitions") continue;
      expect(definition.subcommands).toContain(input.command[0]);
      expect(definition.paramsSchema.shape).toHaveProperty(input.windowEndFlag.replace(/^--/, "").replaceAll("-", "_"));
    }
  });

  it("wires exactly the subcommands the catalog declares, in its order", () => {
    const declared = Object.values(WORKFLOWS).flatMap((definition) => definition.subcommands.map((name) => `${definition.name} ${name}`));
    expect([...WIRED_SUBCOMMANDS].sort()).toEqual([...declared].sort());
    const program = buildProgram();
    for (const definition of Object.values(WORKFLOWS)) {
      const command = program.commands.find((candidate) => candidate.name() === definition.name);
      expect(command?.commands.map((sub) => sub.name())).toEqual(["validate", ...definition.subcommands]);
    }
  });

  it("benchmarks with the workflow's own default learning rate", () => {
    for (const definition of Object.values(WORKFLOWS)) {
      if (!definition.bench) continue;
      expect(definition.bench.defaultLearningRate).toBe((definition.paramsSchema.parse({}) as { learning_rate: number }).learning_rate);
    }
  });
});
