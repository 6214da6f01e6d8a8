import { execFileSync } from "node:child_process";
import path from "node:path";

// The pinned Python environment with the real MLflow (and the reference LightGBM, polars) is
// built once before the suite, so individual tests never race to create it.
export default async function setup(): Promise<void> {
  const root = path.resolve(import.meta.dirname, "..");
  execFileSync(path.join(root, "scripts/python-env.sh"), ["tools"], { stdio: "inherit" });
}
