import { createHash } from "node:crypto";

/** Lower-case hex SHA-256: the digest data versions, manifests and checkpoints record. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}
