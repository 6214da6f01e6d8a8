import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

// How many CPUs this process may really use. os.availableParallelism() honours the affinity
// mask (taskset, cpuset) but not a CFS quota, and a Kubernetes CPU limit is a quota: a pod with
// `limits.cpu: 2` on a 64-core node sees 64 CPUs and gets 2 CPUs' worth of time. So the quota
// caps the count: cgroup v2 `cpu.max` ("200000 100000", or "max 100000" for none), else cgroup
// v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (-1 for none). No npm package reads the quota
// (the cgroup ones found read memory or container ids), hence this small reader.

/** CPUs allowed by a cgroup v2 `cpu.max` line, rounded up (1.5 CPUs run 2 threads); undefined when unlimited or unreadable. */
export function cpusFromCgroupV2(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  return cpusFromQuota(Number(quota), Number(period ?? 100000));
}

/** CPUs allowed by a cgroup v1 quota and period in microseconds; undefined when unlimited (-1) or unreadable. */
export function cpusFromQuota(quotaMicros: number, periodMicros: number): number | undefined {
  if (!Number.isFinite(quotaMicros) || !Number.isFinite(periodMicros) || quotaMicros <= 0 || periodMicros <= 0) return undefined;
  return Math.max(1, Math.ceil(quotaMicros / periodMicros));
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** The CPU quota of this process's cgroup (inside a container, /sys/fs/cgroup is its own cgroup). */
export function cgroupCpuLimit(cgroupRoot = "/sys/fs/cgroup"): number | undefined {
  const v2 = readOrUndefined(path.join(cgroupRoot, "cpu.max"));
  if (v2 !== undefined) return cpusFromCgroupV2(v2);
  for (const folder of ["cpu", "cpu,cpuacct", "."]) {
    const quota = readOrUndefined(path.join(cgroupRoot, folder, "cpu.cfs_quota_us"));
    const period = readOrUndefined(path.join(cgroupRoot, folder, "cpu.cfs_period_us"));
    if (quota !== undefined && period !== undefined) return cpusFromQuota(Number(quota.trim()), Number(period.trim()));
  }
  return undefined;
}

/** The CPUs this process may use: the affinity mask's count, capped by the cgroup CPU quota. */
export function usableCpus(options: { cgroupRoot?: string; parallelism?: number } = {}): number {
  const parallelism = options.parallelism ?? os.availableParallelism();
  const limit = cgroupCpuLimit(options.cgroupRoot);
  return Math.max(1, Math.min(parallelism, limit ?? parallelism));
}
