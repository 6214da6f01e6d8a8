import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

// Code version for manifests: package version plus the git SHA. In the container image there is
// no .git, so the image build passes PODTRAIN_GIT_SHA; null when neither is available.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export interface CodeVersion {
  package: string;
  git_sha: string | null;
}

let cached: Promise<CodeVersion> | undefined;

async function gitSha(): Promise<string | null> {
  const fromEnvironment = process.env.PODTRAIN_GIT_SHA?.trim();
  if (fromEnvironment) return fromEnvironment;
  try {
    const { stdout } = await promisify(execFile)("git", ["rev-parse", "HEAD"], { cwd: ROOT, timeout: 5_000 });
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

export function codeVersion(): Promise<CodeVersion> {
  cached ??= (async () => {
    const manifest = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as { name: string; version: string };
    return { package: `${manifest.name}@${manifest.version}`, git_sha: await gitSha() };
  })();
  return cached;
}
