import type { ObjectStore, SecretReference } from "./deployment.js";

// The deployment config's optional `object_store` (issue #17): the pods then read their data
// from S3-compatible storage. Endpoint, region and addressing style become the AWS SDK's
// environment variables; the access keys come from a Kubernetes secret by reference; data paths
// under `data_root` in the workflows' arguments become s3:// URLs.

/** Environment variables of every pod (no credentials: those are secret references). */
export function objectStoreEnvironment(store: ObjectStore | undefined): Record<string, string> {
  if (!store) return {};
  return {
    ...(store.endpoint ? { AWS_ENDPOINT_URL: store.endpoint } : {}),
    AWS_REGION: store.region,
    PODTRAIN_S3_PATH_STYLE: store.path_style ? "true" : "false",
  };
}

export function objectStoreSecrets(store: ObjectStore | undefined): SecretReference[] {
  if (!store) return [];
  const { secret, access_key_id_key: idKey, secret_access_key_key: secretKey } = store.credentials;
  return [
    { env: "AWS_ACCESS_KEY_ID", secret, key: idKey },
    { env: "AWS_SECRET_ACCESS_KEY", secret, key: secretKey },
  ];
}

/** `/data/power/x.txt` → `s3://<bucket>/<prefix>/power/x.txt` for paths under data_root; others unchanged. */
export function objectStorePath(argument: string, store: ObjectStore | undefined): string {
  if (!store) return argument;
  const root = store.data_root;
  if (argument !== root && !argument.startsWith(`${root}/`)) return argument;
  const rest = argument.slice(root.length).replace(/^\/+/, "");
  return `s3://${[store.bucket, store.prefix, rest].filter((part) => part).join("/")}`;
}
