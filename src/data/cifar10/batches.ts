import { deriveSeed, SeededRandom } from "../random.js";
import { CIFAR10_CHANNELS, CIFAR10_CLASSES, CIFAR10_IMAGE_SIDE, CIFAR10_PIXELS_PER_IMAGE, type Cifar10Split } from "./format.js";

// Turns uint8 channel-major images into normalised float HWC batches, one batch at a time, so
// the 50000 training images stay 150 MB of bytes instead of a 600 MB float array. Augmentation
// (random crop of the 4-pixel zero-padded image, then horizontal flip, as in the ResNet and VGG
// CIFAR papers) happens in the same pass, drawn from a PRNG seeded by (seed, epoch).

/** Per-channel mean and standard deviation of the CIFAR-10 training set (pixel / 255). */
export const CIFAR10_MEAN = [0.4914, 0.4822, 0.4465] as const;
export const CIFAR10_STD = [0.247, 0.2435, 0.2616] as const;
export const CROP_PADDING = 4;

export interface Placement {
  /** Top-left of the crop inside the padded image: 0..2·padding (padding = no shift). */
  offsetY: number;
  offsetX: number;
  flip: boolean;
}

export const IDENTITY: Placement = { offsetY: CROP_PADDING, offsetX: CROP_PADDING, flip: false };

export function drawPlacement(random: SeededRandom, padding = CROP_PADDING): Placement {
  return { offsetY: random.integer(2 * padding + 1), offsetX: random.integer(2 * padding + 1), flip: random.next() < 0.5 };
}

/** value → normalised float for each channel: a 256-entry table per channel, so no division per pixel. */
export function normalisationTable(mean: readonly number[] = CIFAR10_MEAN, std: readonly number[] = CIFAR10_STD): Float32Array {
  const table = new Float32Array(256 * mean.length);
  mean.forEach((channelMean, channel) => {
    for (let value = 0; value < 256; value += 1) table[channel * 256 + value] = (value / 255 - channelMean) / (std[channel] ?? 1);
  });
  return table;
}

export interface ImageGeometry {
  side: number;
  channels: number;
  padding: number;
}

export const CIFAR10_GEOMETRY: ImageGeometry = { side: CIFAR10_IMAGE_SIDE, channels: CIFAR10_CHANNELS, padding: CROP_PADDING };

/**
 * Writes one channel-major uint8 image as HWC floats, cropped and flipped per `placement`.
 * Output (y, x) is padded-image pixel (y + offsetY, x' + offsetX) with x' = side-1-x when flipped;
 * pixels that fall in the padding are black (value 0) before normalisation, as in torchvision.
 */
export function writeImageHwc(
  source: Uint8Array,
  sourceOffset: number,
  target: Float32Array,
  targetOffset: number,
  placement: Placement,
  table: Float32Array,
  geometry: ImageGeometry = CIFAR10_GEOMETRY,
): void {
  const { side, channels, padding } = geometry;
  const plane = side * side;
  for (let y = 0; y < side; y += 1) {
    const sourceY = y + placement.offsetY - padding;
    const rowInside = sourceY >= 0 && sourceY < side;
    for (let x = 0; x < side; x += 1) {
      const sourceX = (placement.flip ? side - 1 - x : x) + placement.offsetX - padding;
      const inside = rowInside && sourceX >= 0 && sourceX < side;
      const out = targetOffset + (y * side + x) * channels;
      for (let channel = 0; channel < channels; channel += 1) {
        const value = inside ? (source[sourceOffset + channel * plane + sourceY * side + sourceX] ?? 0) : 0;
        target[out + channel] = table[channel * 256 + value] ?? 0;
      }
    }
  }
}

export interface Batch {
  /** [count, 32, 32, 3] normalised floats. */
  images: Float32Array;
  /** [count, 10] one-hot. */
  labels: Float32Array;
  count: number;
}

export interface BatchOptions {
  batchSize: number;
  augment: boolean;
  shuffle: boolean;
  seed: number;
  /** Images [start, end) of the split (validation hold-out without copying). */
  range?: [number, number];
  /** Skip the batches before this one (a resumed epoch); their crops are still drawn, so later batches are unchanged. */
  firstBatch?: number;
}

/** One epoch of batches over `split`; the same (seed, epoch) always gives the same batches. */
export function* epochBatches(split: Cifar10Split, epoch: number, options: BatchOptions, table = normalisationTable()): Generator<Batch> {
  const [start, end] = options.range ?? [0, split.count];
  const order = Uint32Array.from({ length: end - start }, (_, index) => start + index);
  const random = new SeededRandom(deriveSeed(options.seed, epoch));
  if (options.shuffle) random.shuffle(order);
  const skipped = Math.min(order.length, (options.firstBatch ?? 0) * options.batchSize);
  if (options.augment) for (let slot = 0; slot < skipped; slot += 1) drawPlacement(random);
  for (let first = skipped; first < order.length; first += options.batchSize) {
    const count = Math.min(options.batchSize, order.length - first);
    const images = new Float32Array(count * CIFAR10_PIXELS_PER_IMAGE);
    const labels = new Float32Array(count * CIFAR10_CLASSES);
    for (let slot = 0; slot < count; slot += 1) {
      const index = order[first + slot] ?? 0;
      const placement = options.augment ? drawPlacement(random) : IDENTITY;
      writeImageHwc(split.images, index * CIFAR10_PIXELS_PER_IMAGE, images, slot * CIFAR10_PIXELS_PER_IMAGE, placement, table);
      labels[slot * CIFAR10_CLASSES + (split.labels[index] ?? 0)] = 1;
    }
    yield { images, labels, count };
  }
}
