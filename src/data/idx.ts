import { gunzipSync } from "node:zlib";
import { DataError } from "../core/errors.js";

// IDX, the format of the original MNIST files: a 4-byte magic (two zero bytes, a type code, the
// number of dimensions), one big-endian uint32 per dimension, then the values row-major.

export const IDX_TYPE_UNSIGNED_BYTE = 0x08;
export const IDX_HEADER_FIXED_BYTES = 4;
export const IDX_DIMENSION_BYTES = 4;
export const GZIP_MAGIC = [0x1f, 0x8b] as const;

export interface IdxArray {
  dimensions: number[];
  values: Uint8Array;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/** Parses an IDX file of unsigned bytes (plain or gzip), checking magic, rank and size. */
export function parseIdx(raw: Uint8Array, source: string, expectedRank: number): IdxArray {
  let bytes = raw;
  if (isGzip(raw)) {
    try {
      bytes = gunzipSync(raw);
    } catch (cause) {
      throw new DataError(`${source}: corrupt gzip data (${(cause as Error).message}); download the file again`, { cause });
    }
  }
  if (bytes.length < IDX_HEADER_FIXED_BYTES) throw new DataError(`${source}: ${bytes.length} bytes is too short for an IDX file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const expectedMagic = (IDX_TYPE_UNSIGNED_BYTE << 8) | expectedRank;
  if (magic !== expectedMagic) {
    throw new DataError(
      `${source}: wrong magic number 0x${magic.toString(16).padStart(8, "0")}, expected 0x${expectedMagic.toString(16).padStart(8, "0")} (IDX unsigned bytes, ${expectedRank} dimension${expectedRank > 1 ? "s" : ""}); is this the right file?`,
    );
  }
  const headerBytes = IDX_HEADER_FIXED_BYTES + IDX_DIMENSION_BYTES * expectedRank;
  if (bytes.length < headerBytes) throw new DataError(`${source}: truncated IDX header (${bytes.length} of ${headerBytes} bytes)`);
  const dimensions = Array.from({ length: expectedRank }, (_, index) => view.getUint32(IDX_HEADER_FIXED_BYTES + IDX_DIMENSION_BYTES * index));
  const expectedValues = dimensions.reduce((product, size) => product * size, 1);
  const actualValues = bytes.length - headerBytes;
  if (actualValues !== expectedValues) {
    const problem = actualValues < expectedValues ? "truncated" : "has trailing bytes";
    throw new DataError(`${source}: ${problem}: header says ${dimensions.join("×")} = ${expectedValues} values, file holds ${actualValues}; download the file again`);
  }
  return { dimensions, values: bytes.subarray(headerBytes) };
}
