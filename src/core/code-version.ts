import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface CodeVersion {
  packageVersion: string;
  /** From git when running in a checkout, else from PODTRAIN_GIT_SHA baked into the image. */
  gitSha?: string;
  gitDirty?: boolean;
  imageTag?: string;
}

async function git(...args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)("git", args, { cwd: REPOSITORY_ROOT, timeout: 5000 });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

export async function readCodeVersion(): Promise<CodeVersion> {
  const packageJson = JSON.parse(await readFile(path.join(REPOSITORY_ROOT, "package.json"), "utf8")) as { version: string };
  const gitSha = process.env.PODTRAIN_GIT_SHA ?? (await git("rev-parse", "HEAD"));
  const status = process.env.PODTRAIN_GIT_SHA ? undefined : await git("status", "--porcelain", "--untracked-files=no");
  return {
    packageVersion: packageJson.version,
    ...(gitSha ? { gitSha } : {}),
    ...(status === undefined ? {} : { gitDirty: status.length > 0 }),
    ...(process.env.PODTRAIN_IMAGE ? { imageTag: process.env.PODTRAIN_IMAGE } : {}),
  };
}

/** The tags MLflow's UI shows for code version, plus ours. */
export function codeVersionTags(version: CodeVersion): Record<string, string> {
  return {
    "podtrain.version": version.packageVersion,
    ...(version.gitSha ? { "mlflow.source.git.commit": version.gitSha } : {}),
    ...(version.gitDirty === undefined ? {} : { "podtrain.git_dirty": String(version.gitDirty) }),
    ...(version.imageTag ? { "podtrain.image": version.imageTag } : {}),
  };
}
