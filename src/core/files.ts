import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { PodtrainError } from "./errors.js";

// File helpers shared by the data readers, the tracking stores and the config loaders. Every
// caller turns "cannot read X" into its own typed error (DataError for inputs, SpecError for
// configs) so the one error line names what was being read and why it failed.

/**
 * Files under `directory` (relative paths, sorted), skipping half-written `.tmp-` siblings of
 * atomic writes; [] when the folder does not exist.
 */
export async function listFilesRecursive(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile() && !entry.name.includes(".tmp-"))
    .map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** Why a read failed, the way the error lines show it: the errno code ("ENOENT"), else the message. */
export function failureReason(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}

/** Reads `file`; a failure becomes the caller's typed error, built from the failure's reason. */
export async function readFileOr(file: string, errorFor: (reason: string, cause: unknown) => PodtrainError): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (cause) {
    throw errorFor(failureReason(cause), cause);
  }
}

/** As readFileOr, as UTF-8 text. */
export async function readTextFileOr(file: string, errorFor: (reason: string, cause: unknown) => PodtrainError): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (cause) {
    throw errorFor(failureReason(cause), cause);
  }
}
