import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { addParamOptions, paramOverrides } from "../../../src/cli/param-options.js";
import { WORKFLOWS } from "../../../src/workflows/catalog.js";
import { tickParamsSchema } from "../../../src/workflows/tick/params.js";

describe("train tick flags", () => {
  it("come from the tick params schema, lists comma-separated", () => {
    const command = new Command("tick").exitOverride();
    addParamOptions(command, WORKFLOWS.tick.paramsSchema);
    command.parse(["--features-dir", "/data/features", "--as-of", "2026-01-30", "--window", "20d", "--purge-gap-bars", "7", "--closed-dates", "2026-01-19, 2026-02-16", "--return-horizons-bars", "1,5"], { from: "user" });
    const overrides = paramOverrides(command.opts(), WORKFLOWS.tick.paramsSchema);
    expect(overrides).toEqual({ features_dir: "/data/features", as_of: "2026-01-30", window: "20d", purge_gap_bars: 7, closed_dates: ["2026-01-19", "2026-02-16"], return_horizons_bars: [1, 5] });
    expect(tickParamsSchema.parse(overrides)).toMatchObject({ closed_dates: ["2026-01-19", "2026-02-16"], return_horizons_bars: [1, 5], num_leaves: 31 });
  });

  it("ask for --features-dir when it is missing", () => {
    const result = tickParamsSchema.safeParse({});
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/required: pass --features-dir DIR/);
  });
});
