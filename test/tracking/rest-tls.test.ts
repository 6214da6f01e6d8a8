import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/core/errors.js";
import { RestTrackingStore } from "../../src/tracking/rest/rest-store.js";

// A tracking server behind a private CA: MLFLOW_TRACKING_SERVER_CERT_PATH trusts it,
// MLFLOW_TRACKING_INSECURE_TLS skips verification, and neither means a clear TLS failure.

const directory = mkdtempSync(path.join(os.tmpdir(), "podtrain-tls-"));
let server: https.Server;
let uri = "";

beforeAll(async () => {
  const key = path.join(directory, "key.pem");
  const certificate = path.join(directory, "cert.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
  server = https.createServer({ key: readFileSync(key), cert: readFileSync(certificate) }, (request, response) => {
    request.resume();
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ experiments: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  uri = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  rmSync(directory, { recursive: true, force: true });
});

describe("TLS settings", () => {
  it("trusts a custom CA, can skip verification, and otherwise reports the TLS error", async () => {
    await expect(new RestTrackingStore(uri, { environment: { MLFLOW_TRACKING_SERVER_CERT_PATH: path.join(directory, "cert.pem") } }).checkAvailable()).resolves.toBeUndefined();
    await expect(new RestTrackingStore(uri, { environment: { MLFLOW_TRACKING_INSECURE_TLS: "true" } }).checkAvailable()).resolves.toBeUndefined();
    const error = await new RestTrackingStore(uri, { environment: {} }).checkAvailable().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toMatch(/\((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)/);
    await expect(new RestTrackingStore(uri, { environment: { MLFLOW_TRACKING_SERVER_CERT_PATH: path.join(directory, "missing.pem") } }).checkAvailable()).rejects.toThrow(/cannot read MLFLOW_TRACKING_SERVER_CERT_PATH/);
  });
});
