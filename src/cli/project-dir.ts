import { existsSync } from "node:fs";
import path from "node:path";
import { MODELS_DIRECTORY } from "../config/load.js";

// Works from anywhere: the specs (models/), the deployment config and the DAG folder belong to a
// project directory, which is --project-dir, else $PODTRAIN_PROJECT_DIR, else the cwd when it is
// one (it has models/), else the installed package itself.

export const PROJECT_DIR_ENV = "PODTRAIN_PROJECT_DIR";
export const PACKAGE_ROOT = path.dirname(MODELS_DIRECTORY);
export const PROJECT_DIR_HELP = `folder holding models/ and deploy/ (default: $${PROJECT_DIR_ENV}, else the current folder when it has models/, else the podtrain package)`;

export function projectDirectory(flag?: string, environment: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const chosen = flag ?? environment[PROJECT_DIR_ENV];
  if (chosen) return path.resolve(cwd, chosen);
  return existsSync(path.join(cwd, "models")) ? cwd : PACKAGE_ROOT;
}

/**
 * A --spec path as given when it exists (or is absolute); a relative one that does not, such
 * as `models/mnist_cnn.yaml` typed outside the checkout, is looked up in the project directory.
 */
export function resolveSpecFile(spec: string, environment: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const direct = path.resolve(cwd, spec);
  if (path.isAbsolute(spec) || existsSync(direct)) return direct;
  const inProject = path.resolve(projectDirectory(undefined, environment, cwd), spec);
  return existsSync(inProject) ? inProject : direct;
}
