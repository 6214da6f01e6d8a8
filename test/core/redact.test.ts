import { spawnSync } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { REDACTED, redactSecrets, registerSecret } from "../../src/core/redact.js";
import { REPOSITORY_ROOT } from "../support/python.js";

const environment = { MLFLOW_TRACKING_TOKEN: "tok-abcdef123456", MLFLOW_TRACKING_USERNAME: "alice", MLFLOW_TRACKING_PASSWORD: "pw1234" };
const basic = Buffer.from("alice:pw1234").toString("base64");

describe("redactSecrets", () => {
  it("removes the configured token, username, password and their base64 basic form", () => {
    const text = `token tok-abcdef123456, user alice, password pw1234, header ${basic}`;
    const redacted = redactSecrets(text, environment);
    for (const secret of ["tok-abcdef123456", "alice", "pw1234", basic]) expect(redacted).not.toContain(secret);
    expect(redacted).toContain(REDACTED);
  });

  it("removes Authorization values it was not told about, in headers, JSON and bare schemes", () => {
    const cases = [
      "headers: authorization: Bearer some-other-token-zz; host: x",
      '{"Authorization": "Basic c29tZW9uZTplbHNl"}',
      "Authorization=Token 0123456789abcdef",
      "got Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc back",
    ];
    for (const text of cases) {
      const redacted = redactSecrets(text, {});
      expect(redacted, text).toContain(REDACTED);
      expect(redacted).not.toMatch(/some-other-token|c29tZW9uZTplbHNl|0123456789abcdef|eyJhbGci/);
    }
  });

  it("keeps a JSON log line valid when the value sits in escaped quotes", () => {
    const line = JSON.stringify({ msg: 'refused: authorization=\\"Basic c29tZW9uZTplbHNl\\" end' });
    const redacted = redactSecrets(line, {});
    expect(() => JSON.parse(redacted)).not.toThrow();
    expect(redacted).not.toContain("c29tZW9uZTplbHNl");
  });

  it("removes the user info of URLs and secrets registered from a --tracking-uri", () => {
    registerSecret("bob-url-user");
    registerSecret("bob-url-user:url-pass-99");
    expect(redactSecrets("see http://bob-url-user:url-pass-99@127.0.0.1:5000/api", {})).toBe(`see http://${REDACTED}@127.0.0.1:5000/api`);
    expect(redactSecrets(`Basic ${Buffer.from("bob-url-user:url-pass-99").toString("base64")}`, {})).not.toContain(Buffer.from("bob-url-user:url-pass-99").toString("base64"));
  });

  it("leaves ordinary text alone", () => {
    const text = "basic information: run 0123 failed at epoch 3 (authorization header missing)";
    expect(redactSecrets(text, {})).toBe(text);
  });
});

describe("log lines", () => {
  for (const format of ["json", "pretty"] as const) {
    it(`are redacted on their way to stderr (${format})`, () => {
      // A real process: the reporter writes to fd 2, as in a pod (dist/, as users run it).
      const reporter = pathToFileURL(path.join(REPOSITORY_ROOT, "dist/runtime/reporter.js")).href;
      const script = `import { createReporter } from ${JSON.stringify(reporter)};
        createReporter(${JSON.stringify(format)}).log.warn({ answer: 'authorization: Basic c29tZW9uZTplbHNl', note: "token tok-abcdef123456" }, "server said tok-abcdef123456");`;
      const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, MLFLOW_TRACKING_TOKEN: "tok-abcdef123456" }, encoding: "utf8" });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stderr).toContain("server said [REDACTED]");
      expect(result.stderr).not.toMatch(/tok-abcdef123456|c29tZW9uZTplbHNl/);
      if (format === "json") expect(() => JSON.parse(result.stderr.trim())).not.toThrow();
    });
  }
});
