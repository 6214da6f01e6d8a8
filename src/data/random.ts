// A small seeded PRNG for data order and augmentation. Math.random cannot be seeded, and runs
// must be reproducible from the `seed` param alone (same seed → same batches, same crops).

/** mulberry32: 32-bit state, full period 2^32, fast and good enough for shuffling and crops. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, exclusiveMax). */
  integer(exclusiveMax: number): number {
    return Math.floor(this.next() * exclusiveMax);
  }

  /** Fisher–Yates, in place. */
  shuffle<T extends { length: number; [index: number]: unknown }>(values: T): T {
    for (let index = values.length - 1; index > 0; index -= 1) {
      const other = this.integer(index + 1);
      const kept = values[index];
      values[index] = values[other];
      values[other] = kept;
    }
    return values;
  }
}

/** Derives an independent stream for one purpose (e.g. one epoch) from the run seed. */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let hash = (seed ^ 0x9e3779b9) >>> 0;
  for (const part of parts) {
    hash = Math.imul(hash ^ (part >>> 0), 0x85ebca6b) >>> 0;
    hash ^= hash >>> 13;
  }
  return hash >>> 0;
}
