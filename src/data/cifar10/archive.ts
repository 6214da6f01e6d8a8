import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { once } from "node:events";
import path from "node:path";
import type { ReadEntry } from "tar";
import { DataError } from "../../core/errors.js";

// Reads the batch files straight out of cifar-10-binary.tar.gz (no extraction to disk), hashing
// the archive in the same pass: its SHA-256 is the data version of a run that read it.
// tar (node-tar, npm's own) detects and inflates gzip itself; `strict` turns its warnings about
// bad headers or a cut-off stream into errors instead of silently skipped entries.

export interface ArchiveContents {
  /** Wanted files by base name (e.g. "data_batch_1.bin"), contents in full. */
  files: Map<string, Buffer>;
  sha256: string;
  bytes: number;
}

function describeTarFailure(archive: string, error: unknown): DataError {
  const message = error instanceof Error ? error.message : String(error);
  return new DataError(
    `${archive}: not a readable CIFAR-10 archive (${message}); the download is corrupt or truncated: fetch it again with \`train data fetch cifar10\``,
    { cause: error },
  );
}

/** Collects the entries whose base name is in `wanted`, checking each one arrived whole. */
export async function readTarGz(archive: string, wanted: ReadonlySet<string>): Promise<ArchiveContents> {
  const files = new Map<string, Buffer>();
  const hash = createHash("sha256");
  let bytes = 0;
  let failure: unknown;
  // Loaded here so commands that never read an archive (and `train --help`) do not load tar.
  const { Parser } = await import("tar");
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      const name = path.posix.basename(entry.path);
      if (entry.type !== "File" || !wanted.has(name)) {
        entry.resume();
        return;
      }
      if (files.has(name)) failure ??= new Error(`two entries named ${name}`);
      const chunks: Buffer[] = [];
      entry.on("data", (chunk: Buffer) => chunks.push(chunk));
      entry.on("end", () => {
        const contents = Buffer.concat(chunks);
        if (contents.length !== entry.size) failure ??= new Error(`${entry.path}: ${contents.length} of ${entry.size} bytes`);
        files.set(name, contents);
      });
    },
  });
  parser.on("error", (error: unknown) => {
    failure ??= error;
  });
  // `once` rejects when the parser emits "error"; caught here so an early failure is not unhandled.
  const finished = once(parser, "close").catch((error: unknown) => {
    failure ??= error;
  });
  try {
    for await (const chunk of createReadStream(archive)) {
      const buffer = chunk as Buffer;
      hash.update(buffer);
      bytes += buffer.length;
      if (failure) break;
      if (!parser.write(buffer)) await once(parser, "drain");
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new DataError(`${archive}: no such file`, { cause: error });
    throw describeTarFailure(archive, error);
  }
  if (!failure) {
    parser.end();
    await finished;
  }
  if (failure) throw describeTarFailure(archive, failure);
  return { files, sha256: hash.digest("hex"), bytes };
}
