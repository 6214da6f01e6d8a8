import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cgroupCpuLimit, cpusFromCgroupV2, cpusFromQuota, usableCpus } from "../../src/core/cpu-count.js";
import { temporaryDirectory } from "../workflows/tick/fixtures.js";

function cgroupRoot(files: Record<string, string>): string {
  const root = temporaryDirectory("cgroup-");
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
  return root;
}

describe("cgroup CPU quota", () => {
  it("reads cgroup v2 cpu.max: a quota rounds up to whole CPUs, max is no limit", () => {
    expect(cpusFromCgroupV2("200000 100000\n")).toBe(2);
    expect(cpusFromCgroupV2("150000 100000")).toBe(2);
    expect(cpusFromCgroupV2("50000 100000")).toBe(1);
    expect(cpusFromCgroupV2("max 100000\n")).toBeUndefined();
    expect(cpusFromCgroupV2("")).toBeUndefined();
    expect(cpusFromQuota(-1, 100000)).toBeUndefined();
  });

  it("caps the affinity count by the quota of v2, then v1, and leaves it alone without one", () => {
    expect(usableCpus({ cgroupRoot: cgroupRoot({ "cpu.max": "200000 100000\n" }), parallelism: 64 })).toBe(2);
    expect(usableCpus({ cgroupRoot: cgroupRoot({ "cpu.max": "max 100000\n" }), parallelism: 64 })).toBe(64);
    // A quota above the affinity mask does not add CPUs.
    expect(usableCpus({ cgroupRoot: cgroupRoot({ "cpu.max": "800000 100000\n" }), parallelism: 3 })).toBe(3);
    const v1 = cgroupRoot({ "cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n" });
    expect(cgroupCpuLimit(v1)).toBe(3);
    expect(usableCpus({ cgroupRoot: v1, parallelism: 16 })).toBe(3);
    expect(usableCpus({ cgroupRoot: cgroupRoot({ "cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n" }), parallelism: 16 })).toBe(16);
    expect(usableCpus({ cgroupRoot: cgroupRoot({}), parallelism: 5 })).toBe(5);
  });
});
