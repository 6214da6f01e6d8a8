import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPOSITORY_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const TOOLS_VENV = join(REPOSITORY_ROOT, ".venv", "tools");

/**
 * The Python of the pinned tools venv (reference lightgbm 4.6.0), built on first use by the
 * repository's own script. The script is idempotent: with a current stamp it returns at once.
 */
export function toolsPython(): string {
  if (!existsSync(join(TOOLS_VENV, ".requirements.sha256"))) {
    execFileSync("bash", [join(REPOSITORY_ROOT, "scripts", "python-env.sh"), "tools"], {
      cwd: REPOSITORY_ROOT, stdio: ["ignore", "inherit", "inherit"], timeout: 900_000,
    });
  }
  return join(TOOLS_VENV, "bin", "python");
}
