import { z } from "zod";
import { loadYaml } from "../config/yaml.js";
import { durationSchema } from "../config/schema.js";

// The deployment config (deploy/deployment.yaml): what differs per cluster, as opposed to the
// workflow policy in models/*.yaml. Secrets are referenced by Kubernetes secret name and key only.

const imageSchema = z
  .strictObject({
    repository: z.string().min(1),
    tag: z.string().regex(/^[\w][\w.-]{0,127}$/, "expected an image tag").optional(),
    digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, "expected sha256:<64 hex digits>").optional(),
  })
  .refine((image) => (image.tag === undefined) !== (image.digest === undefined), {
    message: "give exactly one of tag or digest",
  });
export type ImageReference = z.infer<typeof imageSchema>;

export function imageName(image: ImageReference): string {
  return image.digest ? `${image.repository}@${image.digest}` : `${image.repository}:${image.tag}`;
}

const labelMapSchema = z.record(z.string().min(1), z.string());

const tolerationSchema = z.strictObject({
  key: z.string().min(1),
  operator: z.enum(["Exists", "Equal"]).default("Exists"),
  value: z.string().optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
});
export type Toleration = z.infer<typeof tolerationSchema>;

const secretReferenceSchema = z.strictObject({
  env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "expected an environment variable name"),
  secret: z.string().min(1),
  key: z.string().min(1),
});
export type SecretReference = z.infer<typeof secretReferenceSchema>;

/**
 * S3-compatible object storage the pods read data from (issue #17): endpoint and region become
 * the AWS SDK's environment variables, the keys come from a Kubernetes secret by reference.
 */
const objectStoreSchema = z.strictObject({
  endpoint: z.string().url().optional(),
  region: z.string().min(1),
  /** Path-style URLs (http://host/bucket/key): what MinIO and most on-premises stores need. */
  path_style: z.boolean().default(false),
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "expected an S3 bucket name"),
  /** Key prefix inside the bucket under which data_root's files live; empty for the bucket root. */
  prefix: z.string().regex(/^[^/\s]+(\/[^/\s]+)*$/, "expected a key prefix without leading or trailing slash").optional(),
  /** Arguments of workflows.* that are this folder or under it become s3://<bucket>/<prefix>/… paths. */
  data_root: z.string().regex(/^\/[^\s]*[^/\s]$/, "expected an absolute path without trailing slash").default("/data"),
  credentials: z.strictObject({
    secret: z.string().min(1),
    access_key_id_key: z.string().min(1).default("access_key_id"),
    secret_access_key_key: z.string().min(1).default("secret_access_key"),
  }),
});
export type ObjectStore = z.infer<typeof objectStoreSchema>;

/** The Airflow minor versions the generator targets; each is pinned and tested at the version named. */
export const AIRFLOW_TARGETS = { "3.3": "3.3.2", "3.1": "3.1.8" } as const;
export type AirflowTarget = keyof typeof AIRFLOW_TARGETS;

export const deploymentSchema = z.strictObject({
  /** Which Airflow the DAGs are generated for: imports and arguments that changed between minors. */
  airflow: z.strictObject({ version: z.enum(Object.keys(AIRFLOW_TARGETS) as [AirflowTarget, ...AirflowTarget[]]).default("3.3") }).default({ version: "3.3" }),
  image: imageSchema,
  gpu_image: imageSchema.describe("the Dockerfile.gpu image, used by steps that request a GPU"),
  kubernetes: z.strictObject({
    namespace: z.string().min(1),
    service_account: z.string().min(1),
    in_cluster: z.boolean().default(true),
    config_file: z.string().optional(),
    cluster_context: z.string().optional(),
    image_pull_secrets: z.array(z.string().min(1)).default([]),
    run_as_user: z.number().int().positive().default(1000),
    startup_timeout: durationSchema.default("10m"),
    /** How long a CPU pod may stay unscheduled (Pending) before the task fails; GPU classes set their own. */
    schedule_timeout: durationSchema.default("10m"),
    /**
     * The XCom sidecar's image. The provider's default is `alpine` from Docker Hub, which clusters
     * without Docker Hub access cannot pull; it needs only `sh` and `sleep`.
     */
    xcom_sidecar_image: imageSchema.optional(),
    /** A retried task whose worker died re-attaches to its still-running pod (the provider's `durable`). */
    reattach_on_restart: z.boolean().default(true),
    /** Size limit of the emptyDir mounted at /tmp on every pod (the root filesystem is read-only). */
    tmp_size_limit: z.string().regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti)?$/, 'expected a Kubernetes quantity such as "4Gi"').default("4Gi"),
  }),
  /**
   * A PersistentVolumeClaim for training checkpoints, mounted on fit pods; fit then gets
   * `--checkpoint-dir`. Off when absent (checkpoints then go to the MLflow run's artifacts).
   */
  checkpoints: z
    .strictObject({
      pvc: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "expected a PersistentVolumeClaim name"),
      mount_path: z.string().regex(/^\/[^\s]*$/, "expected an absolute path").default("/checkpoints"),
    })
    .optional(),
  mlflow: z.strictObject({
    tracking_uri: z.string().min(1),
    /** Base URL of the MLflow UI people open (the approval message links the run); default: tracking_uri. */
    ui_url: z.string().url().optional(),
    secrets: z.array(secretReferenceSchema).default([]),
  }),
  object_store: objectStoreSchema.optional(),
  gpu_classes: z.record(
    z.string().min(1),
    z.strictObject({
      resource: z.string().min(1).default("nvidia.com/gpu"),
      node_selector: labelMapSchema.default({}),
      tolerations: z.array(tolerationSchema).default([]),
      /** How long a pod of this class may stay Pending: long enough for the node pool to scale up. */
      schedule_timeout: durationSchema.default("30m"),
    }),
  ),
  alerts: z.strictObject({
    connection_id: z.string().min(1),
    fallback_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).default("PODTRAIN_ALERT_WEBHOOK_URL"),
  }),
  pools: z.record(z.string().min(1), z.strictObject({ slots: z.number().int().min(1), description: z.string().default("") })),
  workflows: z
    .strictObject({
      mnist: z.strictObject({ arguments: z.array(z.string()).default([]) }).optional(),
      cifar10: z.strictObject({ arguments: z.array(z.string()).default([]) }).optional(),
      power: z.strictObject({ arguments: z.array(z.string()).default([]) }).optional(),
      tick: z
        .strictObject({
          /** Appended to the training steps (fit, evaluate, register), e.g. --features-dir. */
          arguments: z.array(z.string()).default([]),
          /** Appended to each `tick features` partition step, e.g. --input and --out-dir. */
          feature_arguments: z.array(z.string()).default([]),
          max_partitions_per_run: z.number().int().positive().default(31),
          max_parallel_partitions: z.number().int().positive().default(4),
        })
        .optional(),
    })
    .default({}),
});
export type Deployment = z.infer<typeof deploymentSchema>;

export interface PartitionSettings {
  feature_arguments: string[];
  max_partitions_per_run: number;
  max_parallel_partitions: number;
}

/** The partition-step settings of a workflow whose DAG computes partitions (defaults when unset). */
export function partitionSettingsOf(deployment: Deployment, workflow: keyof Deployment["workflows"]): PartitionSettings {
  // Only a partitioned workflow's entry (tick) has these keys; the others' strict schemas refuse them.
  const settings = (deployment.workflows[workflow] ?? {}) as Partial<PartitionSettings>;
  return {
    feature_arguments: settings.feature_arguments ?? [],
    max_partitions_per_run: settings.max_partitions_per_run ?? 31,
    max_parallel_partitions: settings.max_parallel_partitions ?? 4,
  };
}

export const DEFAULT_DEPLOYMENT_FILE = "deploy/deployment.yaml";

export async function loadDeploymentFile(file: string): Promise<Deployment> {
  return (await loadYaml(file, deploymentSchema, "deployment config")).value;
}
