// Describes where a benchmark ran, so numbers from different machines are never compared blind.
import os from "node:os";

export interface MachineDescription {
  cpuModel: string;
  cores: number;
  /** 1, 5 and 15 minute load averages when the measurement started: >cores means a shared, noisy machine. */
  loadAverage: [number, number, number];
  totalMemoryBytes: number;
  platform: string;
  node: string;
  /** TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS as TensorFlow read them (unset: TensorFlow's default, one per core). */
  intraOpThreads?: number;
  interOpThreads?: number;
}

function threadsFromEnvironment(name: string): number | undefined {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

export function describeMachine(): MachineDescription {
  const [one = 0, five = 0, fifteen = 0] = os.loadavg();
  const intraOpThreads = threadsFromEnvironment("TF_NUM_INTRAOP_THREADS");
  const interOpThreads = threadsFromEnvironment("TF_NUM_INTEROP_THREADS");
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
    cores: os.availableParallelism(),
    loadAverage: [one, five, fifteen].map((value) => Math.round(value * 100) / 100) as [number, number, number],
    totalMemoryBytes: os.totalmem(),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    ...(intraOpThreads ? { intraOpThreads } : {}),
    ...(interOpThreads ? { interOpThreads } : {}),
  };
}
