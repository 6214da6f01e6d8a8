import { describe, expect, it } from "vitest";
import { SymbolInterner } from "../../../src/data/tick/symbol-interner.js";

/** An Arrow Utf8 column's offsets and bytes for `values`. */
function utf8Column(values: readonly string[]) {
  const encoded = values.map((value) => new TextEncoder().encode(value));
  const offsets = new Int32Array(values.length + 1);
  encoded.forEach((bytes, index) => (offsets[index + 1] = offsets[index]! + bytes.length));
  const bytes = new Uint8Array(offsets[values.length]!);
  encoded.forEach((value, index) => bytes.set(value, offsets[index]!));
  return { offsets, bytes };
}

describe("SymbolInterner.internUtf8Column", () => {
  it("gives each distinct string one code, in first-seen order, across chunks and table growth", () => {
    // 3000 distinct symbols force the table to grow many times; lengths 0..9 cover the packed
    // (≤ 6 bytes) and the decoded path; "A" and "A\0", "AB" and "B" differ only in length or position.
    const distinct = ["", "A", "A\u0000", "AB", "B", "BA", "ÄÖ", "LONGTICKER", ...Array.from({ length: 3000 }, (_, index) => `S${index.toString(36)}`)];
    const rows = Array.from({ length: 20_000 }, (_, index) => distinct[(index * 7919) % distinct.length]!);
    const interner = new SymbolInterner();
    const codes = new Int32Array(rows.length + 5);
    const half = 10_000;
    for (const [from, to, start] of [[0, half, 5], [half, rows.length, 5 + half]] as const) {
      const { offsets, bytes } = utf8Column(rows.slice(from, to));
      interner.internUtf8Column(offsets, bytes, to - from, codes, start);
    }
    rows.forEach((value, index) => expect(interner.names[codes[5 + index]!]).toBe(value));
    const firstSeen = [...new Set(rows)];
    expect(interner.names).toEqual(firstSeen);
    expect(interner.intern("A\u0000")).toBe(firstSeen.indexOf("A\u0000"));
  });
});
