import { z } from "zod";
import { parseDurationSeconds } from "../core/duration.js";

// The workflow spec (models/<registered_model>.yaml): one file per registered model, read by
// both `train` and the DAG generator. Workflow-specific hyper-parameters live under `params`
// and are validated by the workflow's own schema (src/workflows/<name>/params.ts).

export const WORKFLOW_NAMES = ["mnist", "cifar10", "tick", "power"] as const;
export type WorkflowName = (typeof WORKFLOW_NAMES)[number];

const IDENTIFIER = /^[a-z][a-z0-9_]*$/;
const KUBERNETES_QUANTITY = /^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti)?$/;

export const durationSchema = z
  .string()
  .refine((text) => parseDurationSeconds(text) !== undefined, {
    message: 'expected a duration such as "90s", "10m", "4h" or "2d"',
  });

const podResourcesSchema = z.strictObject({
  cpu: z.string().regex(KUBERNETES_QUANTITY, 'expected a Kubernetes CPU quantity such as "2" or "500m"'),
  memory: z.string().regex(KUBERNETES_QUANTITY, 'expected a Kubernetes memory quantity such as "8Gi"'),
  gpu: z.number().int().min(0).default(0),
  gpu_class: z.string().optional().describe("key into the deployment config's GPU classes"),
});
export type PodResources = z.infer<typeof podResourcesSchema>;

const readinessSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("none") }),
  z.strictObject({
    kind: z.literal("external_task"),
    dag_id: z.string().min(1),
    task_id: z.string().min(1).optional(),
    timeout: durationSchema.default("6h"),
    poke_interval: durationSchema.default("5m"),
  }),
  z.strictObject({
    kind: z.literal("asset"),
    uri: z.string().min(1),
  }),
]);
export type Readiness = z.infer<typeof readinessSchema>;

/** `train --grace-period`'s default: how long a stopped `train` takes at most to shut down. */
export const CLI_GRACE_PERIOD_SECONDS = 25;
/** Kubernetes must not SIGKILL a pod before `train` has had its grace period and a margin. */
export const MIN_TERMINATION_GRACE_SECONDS = CLI_GRACE_PERIOD_SECONDS + 5;

const orchestrationSchema = z.strictObject({
  schedule: z.string().nullable().describe('cron, an Airflow preset such as "@weekly", or null for manual'),
  timezone: z.string().default("UTC"),
  start_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD"),
  catchup: z.boolean().default(false),
  owner: z.string().min(1),
  tags: z.array(z.string()).default([]),
  pool: z.string().min(1),
  pool_slots: z.number().int().positive().default(1),
  queue: z.string().min(1),
  priority_weight: z.number().int().min(1),
  max_active_runs: z.number().int().positive(),
  max_active_tasks: z.number().int().positive(),
  retries: z.number().int().min(0),
  retry_delay: durationSchema,
  retry_exponential_backoff: z.boolean().default(true),
  max_retry_delay: durationSchema.default("1h"),
  execution_timeout: durationSchema.describe("per task; also the pods' active_deadline_seconds (deferrable tasks ignore execution_timeout)"),
  dagrun_timeout: durationSchema,
  termination_grace_period: durationSchema
    .refine((text) => (parseDurationSeconds(text) ?? 0) >= MIN_TERMINATION_GRACE_SECONDS, {
      message: `expected at least ${MIN_TERMINATION_GRACE_SECONDS}s: train's shutdown grace period (${CLI_GRACE_PERIOD_SECONDS} s) plus a margin`,
    })
    .default("45s")
    .describe("the pods' terminationGracePeriodSeconds: SIGTERM to SIGKILL"),
  deferrable_fit: z.boolean().default(false).describe("run the fit pod task deferrable (frees the worker slot while it trains)"),
  deadline: durationSchema.describe("lateness deadline after the data interval ends"),
  readiness: readinessSchema.default({ kind: "none" }),
  resources: z.strictObject({
    default: podResourcesSchema,
    fit: podResourcesSchema,
  }),
});
export type Orchestration = z.infer<typeof orchestrationSchema>;

const gateSchema = z.strictObject({
  metric: z.string().min(1),
  direction: z.enum(["maximize", "minimize"]),
  threshold: z.number(),
  compare_to_champion: z.boolean().default(true),
});
export type Gate = z.infer<typeof gateSchema>;

const registrySchema = z.strictObject({
  candidate_alias: z.string().regex(IDENTIFIER).default("candidate"),
  champion_alias: z.string().regex(IDENTIFIER).default("champion"),
  auto_promote: z.boolean().default(false).describe("move the champion alias without approval"),
  approval: z.enum(["required", "none"]).default("required").describe("required: the DAGs end with approve (human in the loop) -> promote; none: promotion stays a manual `train promote`"),
  approval_timeout: durationSchema.default("3d").describe("how long approve waits for a person; then it fails (alert) and the champion stays"),
  on_reject: z.enum(["keep_candidate", "clear_candidate"]).default("clear_candidate").describe("what a rejection does to the candidate alias: clear it (default) or leave it on the rejected version"),
});

export const specSchema = z.strictObject({
  workflow: z.enum(WORKFLOW_NAMES),
  description: z.string().min(1),
  dag_id: z.string().regex(IDENTIFIER, "expected snake_case"),
  experiment: z.string().min(1),
  registered_model: z.string().regex(IDENTIFIER, "expected snake_case"),
  params: z.record(z.string(), z.unknown()).default({}),
  gate: gateSchema,
  registry: registrySchema.default({ candidate_alias: "candidate", champion_alias: "champion", auto_promote: false, approval: "required", approval_timeout: "3d", on_reject: "clear_candidate" }),
  orchestration: orchestrationSchema,
});

export type WorkflowSpec = z.infer<typeof specSchema>;
