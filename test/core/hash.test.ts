import { describe, expect, it } from "vitest";
import { sha256Hex, sha256HexOffThread } from "../../src/core/hash.js";

describe("sha256HexOffThread", () => {
  it("gives the digest sha256Hex gives, for empty, small and multi-megabyte inputs and for a view into a larger buffer", async () => {
    const large = new Uint8Array(5 * 1024 * 1024 + 3).map((_, index) => (index * 31) & 0xff);
    const inputs = [new Uint8Array(0), new TextEncoder().encode("abc"), large, large.subarray(17, 4096)];
    for (const input of inputs) expect(await sha256HexOffThread(input)).toBe(sha256Hex(input));
    expect(await sha256HexOffThread(new TextEncoder().encode("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("hashes the bytes as they were at the call, so the caller may reuse its buffer at once", async () => {
    const buffer = new Uint8Array(1024 * 1024).fill(7);
    const expected = sha256Hex(buffer);
    const pending = sha256HexOffThread(buffer);
    buffer.fill(9);
    expect(await pending).toBe(expected);
  });
});
