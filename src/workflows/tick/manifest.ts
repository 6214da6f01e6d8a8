import { readFile } from "node:fs/promises";
import { z } from "zod";
import { isDefaultInput, tickInputSchema, type TickInputSettings } from "../../data/tick/input-contract.js";
import { REJECT_REASONS } from "../../data/tick/validate.js";
import { canonicalJson } from "./feature-set.js";

// The partition manifest: written last, after the features file, so its presence means the
// partition is complete. It holds no wall-clock time, so a re-run rewrites it identically.

const fileEntrySchema = z.strictObject({
  path: z.string().describe("relative to the input root"),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().min(0),
  format: z.enum(["parquet", "arrow", "csv"]),
  rows: z.number().int().min(0),
});

export const manifestSchema = z.strictObject({
  manifest_version: z.literal(1),
  date: z.string(),
  inputs: z.array(fileEntrySchema),
  lookback: z.strictObject({ date: z.string(), inputs: z.array(fileEntrySchema) }).nullable(),
  rows: z.strictObject({ read: z.number().int(), accepted: z.number().int(), rejected: z.number().int() }),
  rejects_by_reason: z.record(z.enum(REJECT_REASONS), z.number().int()),
  output: z.strictObject({ file: z.string(), format: z.literal("arrow-ipc-file"), sha256: z.string(), bytes: z.number().int(), rows: z.number().int() }),
  quarantine: z.strictObject({ file: z.string(), sha256: z.string(), rows: z.number().int() }).nullable(),
  feature_set: z.strictObject({ hash: z.string(), revision: z.number().int(), params: z.record(z.string(), z.unknown()), columns: z.record(z.string(), z.string()) }),
  code_version: z.strictObject({ package: z.string(), git_sha: z.string().nullable() }),
  /** The input contract the partition was read with; absent when it was the default one. */
  input: tickInputSchema.optional(),
});

export type PartitionManifest = z.infer<typeof manifestSchema>;
export type InputFileEntry = z.infer<typeof fileEntrySchema>;

/** The manifest at `file`, or undefined when absent or unreadable (then the partition is recomputed). */
export async function readManifest(file: string): Promise<PartitionManifest | undefined> {
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(await readFile(file, "utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function manifestBytes(manifest: PartitionManifest): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Identity of what a partition was computed from: input hashes (own and lookback), the feature
 * set, and the input contract when it is not the default (so manifests written before the
 * contract existed stay valid).
 */
export function sourceFingerprint(
  inputs: ReadonlyArray<Pick<InputFileEntry, "path" | "sha256">>,
  lookback: ReadonlyArray<Pick<InputFileEntry, "path" | "sha256">>,
  featureSetHash: string,
  input?: TickInputSettings,
): string {
  const list = (entries: ReadonlyArray<Pick<InputFileEntry, "path" | "sha256">>) => entries.map((entry) => `${entry.path}=${entry.sha256}`).join(";");
  const contract = input && !isDefaultInput(input) ? `|${canonicalJson(input)}` : "";
  return `${list(inputs)}|${list(lookback)}|${featureSetHash}${contract}`;
}
