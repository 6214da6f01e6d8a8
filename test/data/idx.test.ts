import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parseIdx } from "../../src/data/idx.js";
import { DataError } from "../../src/core/errors.js";
import { idxBytes } from "../support/idx-fixtures.js";

describe("parseIdx", () => {
  const values = new Uint8Array([1, 2, 3, 4, 5, 6]);

  it("reads dimensions and values, plain and gzip", () => {
    for (const bytes of [idxBytes([2, 3], values), gzipSync(idxBytes([2, 3], values))]) {
      const parsed = parseIdx(bytes, "x.idx", 2);
      expect(parsed.dimensions).toEqual([2, 3]);
      expect([...parsed.values]).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it("rejects a wrong magic number with both numbers in the message", () => {
    expect(() => parseIdx(idxBytes([2, 3], values, 0x0d), "labels.idx", 2)).toThrow(/labels\.idx: wrong magic number 0x00000d02, expected 0x00000802/);
    expect(() => parseIdx(idxBytes([6], values), "images.idx", 3)).toThrow(DataError);
  });

  it("rejects truncated files and trailing bytes", () => {
    const bytes = idxBytes([2, 3], values);
    expect(() => parseIdx(bytes.subarray(0, bytes.length - 2), "t.idx", 2)).toThrow(/t\.idx: truncated: header says 2×3 = 6 values, file holds 4/);
    expect(() => parseIdx(Buffer.concat([bytes, Buffer.from([0])]), "t.idx", 2)).toThrow(/has trailing bytes/);
    expect(() => parseIdx(bytes.subarray(0, 6), "t.idx", 2)).toThrow(/truncated IDX header/);
    expect(() => parseIdx(new Uint8Array([0]), "t.idx", 2)).toThrow(/too short/);
  });

  it("rejects corrupt gzip data", () => {
    const compressed = gzipSync(idxBytes([2, 3], values));
    expect(() => parseIdx(compressed.subarray(0, compressed.length - 6), "t.idx.gz", 2)).toThrow(/t\.idx\.gz: corrupt gzip data/);
  });
});
