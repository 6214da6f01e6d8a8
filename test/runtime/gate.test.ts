import { describe, expect, it } from "vitest";
import { decideGate } from "../../src/runtime/gate.js";

describe("decideGate", () => {
  const gate = { metric: "test_accuracy", direction: "maximize", threshold: 0.9, compare_to_champion: true } as const;

  it("passes at the threshold with no champion", () => {
    expect(decideGate(gate, { test_accuracy: 0.9 })).toMatchObject({ passed: true, reason: "test_accuracy=0.9 >= 0.9, no champion yet" });
  });

  it("fails below the threshold, when the metric is missing, and when the champion is as good", () => {
    expect(decideGate(gate, { test_accuracy: 0.89 }).reason).toBe("test_accuracy=0.89 does not reach the threshold (>= 0.9)");
    expect(decideGate(gate, { loss: 1 }).reason).toBe("gate metric test_accuracy was not produced by this run");
    expect(decideGate(gate, { test_accuracy: 0.95 }, 0.95)).toMatchObject({ passed: false, reason: "test_accuracy=0.95 does not beat the champion (0.95)" });
    expect(decideGate({ ...gate, compare_to_champion: false }, { test_accuracy: 0.95 }, 0.99).passed).toBe(true);
  });

  it("handles metrics to minimise", () => {
    const lossGate = { metric: "rmse", direction: "minimize", threshold: 1, compare_to_champion: true } as const;
    expect(decideGate(lossGate, { rmse: 0.5 }, 0.6).passed).toBe(true);
    expect(decideGate(lossGate, { rmse: 1.5 }).reason).toBe("rmse=1.5 does not reach the threshold (<= 1)");
  });
});
