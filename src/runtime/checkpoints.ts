import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { TrackingStore } from "../tracking/store.js";
import { sha256Hex } from "../core/hash.js";

// Where a fit keeps its checkpoints: a folder on a mounted volume (--checkpoint-dir; one
// sub-folder per run) or, by default, the run's own artifacts under checkpoints/, so a retry on
// another node resumes with nothing but the tracking server.
//
// A checkpoint is two files: data.bin (the tensors, opaque here) and manifest.json (what the
// training loop needs to continue, plus the data's size and SHA-256). The manifest is written
// last: a checkpoint without one, or whose data does not match it, is half-written or corrupted
// and is skipped with a warning in favour of the next older one. Only the newest
// KEPT_CHECKPOINTS are kept; saving also removes any with a later step than the one saved (a
// damaged one the run resumed past, or the rest of a timeline it abandoned).

export const CHECKPOINT_FORMAT = "podtrain-checkpoint/1";
export const CHECKPOINT_ARTIFACT_PATH = "checkpoints";
export const KEPT_CHECKPOINTS = 2;
export const DATA_FILE = "data.bin";
export const MANIFEST_FILE = "manifest.json";
export const NAME = /^ckpt-\d{10}$/;

export interface CheckpointManifest<State = Record<string, unknown>> {
  format: typeof CHECKPOINT_FORMAT;
  name: string;
  created: string;
  data_bytes: number;
  data_sha256: string;
  state: State;
}

export interface Checkpoint<State = Record<string, unknown>> {
  name: string;
  /** Where it was read from, for messages and the podtrain.resumed_from tag. */
  location: string;
  state: State;
  data: Uint8Array;
}

export interface CheckpointStore {
  readonly location: string;
  /** Writes checkpoint `ordinal` (increasing: the global step) atomically, then prunes old ones. */
  save(ordinal: number, state: Record<string, unknown>, data: Uint8Array): Promise<{ name: string; bytes: number }>;
  /** The newest checkpoint that reads back intact; damaged ones are skipped with a warning. */
  loadNewest(): Promise<Checkpoint | undefined>;
  /** Removes them all: once the fitted model is logged, nothing resumes from them. */
  clear(): Promise<void>;
}

export function checkpointName(ordinal: number): string {
  return `ckpt-${String(ordinal).padStart(10, "0")}`;
}

/** Which of `names` (sorted) go once `saved` is written: later ones, and all but the last kept. */
export function prunable(names: string[], saved: string): string[] {
  const upToSaved = names.filter((name) => name <= saved);
  return [...names.filter((name) => name > saved), ...upToSaved.slice(0, -KEPT_CHECKPOINTS)];
}

export function manifestFor(name: string, state: Record<string, unknown>, data: Uint8Array): CheckpointManifest {
  return { format: CHECKPOINT_FORMAT, name, created: new Date().toISOString(), data_bytes: data.byteLength, data_sha256: sha256Hex(data), state };
}

/** Throws a message saying what is wrong when the pair is not an intact checkpoint called `name`. */
export function verified(name: string, manifestText: string, data: Uint8Array): CheckpointManifest {
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(manifestText) as CheckpointManifest;
  } catch {
    throw new Error(`${MANIFEST_FILE} is not valid JSON (half-written?)`);
  }
  if (manifest.format !== CHECKPOINT_FORMAT || manifest.name !== name) throw new Error(`${MANIFEST_FILE} is not a ${CHECKPOINT_FORMAT} manifest for ${name}`);
  if (data.byteLength !== manifest.data_bytes) throw new Error(`${DATA_FILE} holds ${data.byteLength} bytes, the manifest says ${manifest.data_bytes} (truncated?)`);
  if (sha256Hex(data) !== manifest.data_sha256) throw new Error(`${DATA_FILE} does not match the manifest's SHA-256 (corrupted)`);
  return manifest;
}

/** Checkpoints in `<root>/<runId>/`: written to a temporary folder, then renamed into place. */
export function directoryCheckpoints(root: string, runId: string, log: Logger): CheckpointStore {
  const directory = path.join(path.resolve(root), runId);
  const names = async () => (await readdir(directory).catch(() => [] as string[])).filter((entry) => NAME.test(entry)).sort();
  return {
    location: directory,
    async save(ordinal, state, data) {
      const name = checkpointName(ordinal);
      const temporary = path.join(directory, `.${name}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
      await mkdir(temporary, { recursive: true });
      try {
        await writeFile(path.join(temporary, DATA_FILE), data);
        await writeFile(path.join(temporary, MANIFEST_FILE), JSON.stringify(manifestFor(name, state, data)));
        await rm(path.join(directory, name), { recursive: true, force: true });
        await rename(temporary, path.join(directory, name));
      } catch (error) {
        await rm(temporary, { recursive: true, force: true });
        throw error;
      }
      // Older checkpoints and temporary folders a killed attempt left behind.
      for (const old of prunable(await names(), name)) await rm(path.join(directory, old), { recursive: true, force: true });
      for (const entry of await readdir(directory)) if (entry.startsWith(".ckpt-") && !entry.includes(`.tmp-${process.pid}-`)) await rm(path.join(directory, entry), { recursive: true, force: true });
      return { name, bytes: data.byteLength };
    },
    async loadNewest() {
      for (const name of (await names()).reverse()) {
        const folder = path.join(directory, name);
        try {
          const [manifestText, data] = await Promise.all([readFile(path.join(folder, MANIFEST_FILE), "utf8"), readFile(path.join(folder, DATA_FILE))]);
          const manifest = verified(name, manifestText, data);
          return { name, location: folder, state: manifest.state, data };
        } catch (error) {
          log.warn({ checkpoint: folder, reason: (error as Error).message }, "skipping a damaged checkpoint");
        }
      }
      return undefined;
    },
    clear: () => rm(directory, { recursive: true, force: true }),
  };
}

/** Checkpoints in the run's artifacts (checkpoints/<name>/): data first, manifest last. */
export function artifactCheckpoints(store: TrackingStore, runId: string, scratch: string, log: Logger): CheckpointStore {
  const names = async () => {
    const files = await store.listArtifacts(runId, CHECKPOINT_ARTIFACT_PATH).catch(() => [] as string[]);
    return [...new Set(files.map((file) => file.split("/")[1] ?? "").filter((name) => NAME.test(name)))].sort();
  };
  return {
    location: `${store.location} run ${runId} artifacts ${CHECKPOINT_ARTIFACT_PATH}/`,
    async save(ordinal, state, data) {
      const name = checkpointName(ordinal);
      const local = path.join(scratch, `upload-${name}-${randomBytes(4).toString("hex")}`);
      try {
        await mkdir(path.join(local, "data"), { recursive: true });
        await mkdir(path.join(local, "manifest"), { recursive: true });
        await writeFile(path.join(local, "data", DATA_FILE), data);
        await writeFile(path.join(local, "manifest", MANIFEST_FILE), JSON.stringify(manifestFor(name, state, data)));
        await store.logArtifacts(runId, path.join(local, "data"), `${CHECKPOINT_ARTIFACT_PATH}/${name}`);
        await store.logArtifacts(runId, path.join(local, "manifest"), `${CHECKPOINT_ARTIFACT_PATH}/${name}`);
      } finally {
        await rm(local, { recursive: true, force: true });
      }
      if (store.deleteArtifacts) {
        for (const old of prunable(await names(), name)) await store.deleteArtifacts(runId, `${CHECKPOINT_ARTIFACT_PATH}/${old}`);
      }
      return { name, bytes: data.byteLength };
    },
    async loadNewest() {
      for (const name of (await names()).reverse()) {
        const local = path.join(scratch, `download-${name}-${randomBytes(4).toString("hex")}`);
        try {
          await store.downloadArtifacts(runId, `${CHECKPOINT_ARTIFACT_PATH}/${name}`, local);
          const manifestText = await readFile(path.join(local, MANIFEST_FILE), "utf8").catch(() => {
            throw new Error(`${MANIFEST_FILE} is missing (the upload was cut short)`);
          });
          const data = await readFile(path.join(local, DATA_FILE)).catch(() => new Uint8Array(0));
          const manifest = verified(name, manifestText, data);
          return { name, location: `${CHECKPOINT_ARTIFACT_PATH}/${name}`, state: manifest.state, data };
        } catch (error) {
          log.warn({ checkpoint: `${CHECKPOINT_ARTIFACT_PATH}/${name}`, reason: (error as Error).message }, "skipping a damaged checkpoint");
        } finally {
          await rm(local, { recursive: true, force: true });
        }
      }
      return undefined;
    },
    async clear() {
      if ((await names()).length > 0) await store.deleteArtifacts?.(runId, CHECKPOINT_ARTIFACT_PATH);
    },
  };
}
