// A small seeded PRNG for data order and augmentation. Math.random cannot be seeded, and runs
// must be reproducible from the `seed` param alone (same seed → same batches, same crops).

/** mulberry32: 32-bit state, full period 2^32; uniform in [0, 1), the same sequence everywhere. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * sfc32, seeded from one number: the tick simulator's generator (its synthetic data and the
 * tests tuned on it depend on this exact sequence).
 */
export function seededRandomSfc32(seed: number): () => number {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0;
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4_294_967_296;
  };
  // The first outputs of a fresh state are poorly mixed.
  for (let index = 0; index < 15; index += 1) next();
  return next;
}

/** mulberry32 with helpers for shuffling and crops. */
export class SeededRandom {
  /** Uniform in [0, 1). */
  readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed);
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
