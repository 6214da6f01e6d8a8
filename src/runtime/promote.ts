import os from "node:os";
import type { TrackingStore } from "../tracking/store.js";
import { UsageError } from "./errors.js";

export interface PromotionInput {
  store: TrackingStore;
  model: string;
  version: string;
  reason: string;
  alias: string;
  /** Who approved; defaults to PODTRAIN_APPROVER, then the OS user. */
  approver?: string;
  now?: Date;
}

export interface PromotionRecord {
  model: string;
  version: string;
  alias: string;
  previous_version: string | null;
  approved_by: string;
  reason: string;
  at: string;
}

const AUDIT_TAG_PREFIX = "podtrain.promotion";

/**
 * Moves an alias (champion by default) to a version, explicitly, and leaves an audit trail as
 * model-version tags: the latest promotion in plain tags and every promotion under a
 * time-stamped key, on the promoted version and on the one it replaced.
 */
export async function promoteModelVersion(input: PromotionInput): Promise<PromotionRecord> {
  const reason = input.reason.trim();
  if (reason.length < 3) throw new UsageError('promotion needs a reason: --reason "why this version"');
  const registry = input.store.registry;
  await registry.getModelVersion(input.model, input.version);
  const previous = await registry.getModelVersionByAlias(input.model, input.alias);
  const now = input.now ?? new Date();
  const record: PromotionRecord = {
    model: input.model,
    version: input.version,
    alias: input.alias,
    previous_version: previous?.version ?? null,
    approved_by: input.approver ?? process.env.PODTRAIN_APPROVER ?? os.userInfo().username,
    reason,
    at: now.toISOString(),
  };
  if (previous?.version === input.version) throw new UsageError(`${input.model} version ${input.version} already has the alias ${input.alias}`);
  await registry.setAlias(input.model, input.alias, input.version);
  const entry = JSON.stringify(record);
  await registry.setModelVersionTag(input.model, input.version, `${AUDIT_TAG_PREFIX}.${now.getTime()}`, entry);
  await registry.setModelVersionTag(input.model, input.version, `${AUDIT_TAG_PREFIX}.latest`, entry);
  if (previous) {
    await registry.setModelVersionTag(input.model, previous.version, `${AUDIT_TAG_PREFIX}.${now.getTime()}`, JSON.stringify({ ...record, replaced_by: input.version }));
  }
  return record;
}
