import { describe, expect, it } from "vitest";
import { drawPlacement, epochBatches, normalisationTable, writeImageHwc, type ImageGeometry } from "../../../src/data/cifar10/batches.js";
import { deriveSeed, SeededRandom } from "../../../src/data/random.js";
import { syntheticSplit } from "./fixtures.js";

// Buffer.equals, not toEqual: vitest's deep equality walks big typed arrays element by element.
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const identityTable = normalisationTable([0, 0], [1 / 255, 1 / 255]);
// A 4×4 two-channel image with padding 1: channel 0 holds 1..16 row-major, channel 1 holds 101..116.
const tiny: ImageGeometry = { side: 4, channels: 2, padding: 1 };
const tinyImage = Uint8Array.from([...Array.from({ length: 16 }, (_, index) => index + 1), ...Array.from({ length: 16 }, (_, index) => index + 101)]);

function render(offsetY: number, offsetX: number, flip: boolean, channel = 0): number[][] {
  const out = new Float32Array(16 * 2);
  writeImageHwc(tinyImage, 0, out, 0, { offsetY, offsetX, flip }, identityTable, tiny);
  return Array.from({ length: 4 }, (_, y) => Array.from({ length: 4 }, (_, x) => Math.round(out[(y * 4 + x) * 2 + channel]!)));
}

describe("crop and flip", () => {
  it("leaves the image alone at the centre offset without flip", () => {
    expect(render(1, 1, false)).toEqual([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]);
    expect(render(1, 1, false, 1)[0]).toEqual([101, 102, 103, 104]);
  });

  it("mirrors columns on flip", () => {
    expect(render(1, 1, true)).toEqual([[4, 3, 2, 1], [8, 7, 6, 5], [12, 11, 10, 9], [16, 15, 14, 13]]);
  });

  it("crops the zero-padded image: top-left corner shifts content down-right, padding is black", () => {
    expect(render(0, 0, false)).toEqual([[0, 0, 0, 0], [0, 1, 2, 3], [0, 5, 6, 7], [0, 9, 10, 11]]);
    expect(render(2, 2, false)).toEqual([[6, 7, 8, 0], [10, 11, 12, 0], [14, 15, 16, 0], [0, 0, 0, 0]]);
    // Crop first, then flip the crop (torchvision's RandomCrop → RandomHorizontalFlip order).
    expect(render(0, 0, true)).toEqual([[0, 0, 0, 0], [3, 2, 1, 0], [7, 6, 5, 0], [11, 10, 9, 0]]);
  });

  it("normalises with the per-channel table", () => {
    const table = normalisationTable([0.5, 0.25], [0.5, 0.25]);
    expect(table[0]).toBeCloseTo(-1, 6);
    expect(table[255]).toBeCloseTo(1, 6);
    expect(table[256 + 255]).toBeCloseTo(3, 6);
  });
});

describe("seeded augmentation", () => {
  it("draws offsets in 0..8 and both flip states", () => {
    const random = new SeededRandom(7);
    const placements = Array.from({ length: 500 }, () => drawPlacement(random));
    expect(new Set(placements.map((placement) => placement.offsetX))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8]));
    expect(new Set(placements.map((placement) => placement.offsetY)).size).toBe(9);
    const flips = placements.filter((placement) => placement.flip).length;
    expect(flips).toBeGreaterThan(200);
    expect(flips).toBeLessThan(300);
  });

  it("gives identical batches for the same seed and epoch, different ones otherwise", () => {
    const split = syntheticSplit(40, 3);
    const options = { batchSize: 16, augment: true, shuffle: true, seed: 42 };
    const first = [...epochBatches(split, 2, options)];
    const again = [...epochBatches(split, 2, options)];
    expect(first.map((batch) => batch.count)).toEqual([16, 16, 8]);
    first.forEach((batch, index) => {
      expect(sameBytes(batch.images, again[index]!.images)).toBe(true);
      expect(sameBytes(batch.labels, again[index]!.labels)).toBe(true);
    });
    const otherEpoch = [...epochBatches(split, 3, options)][0]!;
    const otherSeed = [...epochBatches(split, 2, { ...options, seed: 43 })][0]!;
    expect(sameBytes(otherEpoch.images, first[0]!.images)).toBe(false);
    expect(sameBytes(otherSeed.images, first[0]!.images)).toBe(false);
    // Every image appears once per epoch: the one-hot rows sum to the label histogram.
    const histogram = new Array(10).fill(0);
    for (const label of split.labels) histogram[label] += 1;
    const seen = new Array(10).fill(0);
    for (const batch of first) batch.labels.forEach((value, index) => (seen[index % 10] += value));
    expect(seen).toEqual(histogram);
  });

  it("derives distinct seeds per epoch and a repeatable PRNG stream", () => {
    expect(deriveSeed(42, 0)).not.toBe(deriveSeed(42, 1));
    expect(deriveSeed(42, 1)).toBe(deriveSeed(42, 1));
    const a = new SeededRandom(5);
    const b = new SeededRandom(5);
    expect(Array.from({ length: 5 }, () => a.next())).toEqual(Array.from({ length: 5 }, () => b.next()));
  });
});
