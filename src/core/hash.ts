import { createHash } from "node:crypto";

/** Lower-case hex SHA-256: the digest data versions, manifests and checkpoints record. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * The same digest computed on libuv's thread pool (WebCrypto's digest is an async job there),
 * so hashing a large input overlaps the JavaScript thread's work on another core. The bytes are
 * copied when the call is made, so the caller may reuse its buffer at once.
 */
export async function sha256HexOffThread(data: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", data);
  return Buffer.from(digest).toString("hex");
}
