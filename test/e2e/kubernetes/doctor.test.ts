import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ENABLED, KUBECONFIG, kubectl, REPOSITORY } from "./harness.js";

// dags/common/doctor.py reads the pod settings of the generated DAG files and checks the cluster
// has what they need (namespace, ServiceAccount, Secrets and their keys, pull secrets, GPU nodes):
// a pod missing one of them would otherwise sit in CreateContainerConfigError until its startup
// timeout. Against the real test cluster: all present, then two broken on purpose.

const AIRFLOW_PYTHON = path.join(REPOSITORY, ".venv/airflow/bin/python");
const DOCTOR = path.join(REPOSITORY, "dags/common/doctor.py");

function doctor(...args: string[]) {
  return spawnSync(AIRFLOW_PYTHON, [DOCTOR, ...args], { encoding: "utf8", timeout: 120_000 });
}

describe.skipIf(!ENABLED)("train DAGs doctor on a real cluster (PODTRAIN_E2E_KUBERNETES=1)", () => {
  it("passes on the prepared cluster and names each missing Secret and key with the command that creates it", { timeout: 300_000 }, async () => {
    const healthy = doctor("--kubeconfig", KUBECONFIG);
    expect(healthy.status, healthy.stderr).toBe(0);
    expect(healthy.stdout).toMatch(/^GPU nodes \(nvidia\.com\/gpu, ml-platform\/node-pool=gpu, nvidia\.com\/gpu\.present=true\): ok: /m);
    expect(healthy.stdout).toMatch(/^doctor: 6 of 6 prerequisites present for \d+ pod tasks$/m);

    const saved = await mkdtemp(path.join(os.tmpdir(), "podtrain-doctor-"));
    const secrets = ["mlflow-credentials", "registry-credentials"];
    const files: string[] = [];
    for (const name of secrets) {
      const secret = JSON.parse((await kubectl("-n", "ml-training", "get", "secret", name, "-o", "json")).stdout) as { metadata: Record<string, unknown> };
      secret.metadata = { name, namespace: "ml-training" };
      const file = path.join(saved, `${name}.json`);
      await writeFile(file, JSON.stringify(secret));
      files.push(file);
    }
    try {
      await kubectl("-n", "ml-training", "delete", "secret", ...secrets);
      await kubectl("-n", "ml-training", "create", "secret", "generic", "mlflow-credentials", "--from-literal=username=e2e");
      const broken = doctor("--kubeconfig", KUBECONFIG);
      expect(broken.status).toBe(1);
      expect(broken.stdout).toContain("secret ml-training/mlflow-credentials: has no key password (keys: username): add it");
      expect(broken.stdout).toContain("image pull secret ml-training/registry-credentials: missing: kubectl -n ml-training create secret docker-registry registry-credentials");
      expect(broken.stdout).toContain("secret ml-training/mlflow-credentials key username: ok");
      expect(broken.stdout).toMatch(/^doctor: 4 of 6 prerequisites present/m);
    } finally {
      await kubectl("-n", "ml-training", "delete", "secret", "--ignore-not-found", ...secrets);
      for (const file of files) await kubectl("apply", "-f", file);
      await rm(saved, { recursive: true, force: true });
    }
    expect(doctor("--kubeconfig", KUBECONFIG).status).toBe(0);
  });
});

describe("train DAGs doctor without a reachable cluster", () => {
  it("exits 2 with one line when the API server does not answer", { timeout: 120_000 }, async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), "podtrain-doctor-"));
    const kubeconfig = path.join(folder, "config");
    // A closed port on loopback: nothing leaves the machine.
    await writeFile(
      kubeconfig,
      ["apiVersion: v1", "kind: Config", "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9', insecure-skip-tls-verify: true}}]", "users: [{name: u, user: {token: t}}]", "contexts: [{name: x, context: {cluster: c, user: u}}]", "current-context: x", ""].join("\n"),
    );
    try {
      const result = doctor("--kubeconfig", kubeconfig);
      expect(result.status).toBe(2);
      const lines = result.stderr.trim().split("\n");
      expect(lines.at(-1)).toMatch(/^doctor: cannot check the cluster: /);
      expect(result.stdout).not.toMatch(/: ok|: missing|prerequisites present/);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
