import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

// The one reader of "which code is this": package version plus the git SHA. In the container
// image there is no .git, so the image build passes PODTRAIN_GIT_SHA (and PODTRAIN_IMAGE).
// Runs record it as tags (tracking/tags.ts: codeVersionTags); tick feature manifests record it as { package, git_sha }.

const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface CodeVersion {
  packageVersion: string;
  /** From git when running in a checkout, else from PODTRAIN_GIT_SHA baked into the image. */
  gitSha?: string;
  gitDirty?: boolean;
  imageTag?: string;
}

/** What a tick feature manifest records; git_sha null when neither git nor PODTRAIN_GIT_SHA has one. */
export interface ManifestCodeVersion {
  package: string;
  git_sha: string | null;
}

async function git(...args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)("git", args, { cwd: REPOSITORY_ROOT, timeout: 5000 });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

function shaFromEnvironment(): string | undefined {
  return process.env.PODTRAIN_GIT_SHA?.trim() || undefined;
}

async function readPackageJson(): Promise<{ name: string; version: string }> {
  return JSON.parse(await readFile(path.join(REPOSITORY_ROOT, "package.json"), "utf8")) as { name: string; version: string };
}

export async function readCodeVersion(): Promise<CodeVersion> {
  const packageJson = await readPackageJson();
  const fromEnvironment = shaFromEnvironment();
  const gitSha = fromEnvironment ?? (await git("rev-parse", "HEAD"));
  const status = fromEnvironment ? undefined : await git("status", "--porcelain", "--untracked-files=no");
  return {
    packageVersion: packageJson.version,
    ...(gitSha ? { gitSha } : {}),
    ...(status === undefined ? {} : { gitDirty: status.length > 0 }),
    ...(process.env.PODTRAIN_IMAGE ? { imageTag: process.env.PODTRAIN_IMAGE } : {}),
  };
}

let manifestVersion: Promise<ManifestCodeVersion> | undefined;

/** Cached: one `train tick features` writes many manifests and asks git once. */
export function manifestCodeVersion(): Promise<ManifestCodeVersion> {
  manifestVersion ??= (async () => {
    const packageJson = await readPackageJson();
    const gitSha = shaFromEnvironment() ?? (await git("rev-parse", "HEAD"));
    return { package: `${packageJson.name}@${packageJson.version}`, git_sha: gitSha || null };
  })();
  return manifestVersion;
}
