import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { SpecError } from "../core/errors.js";
import { checkSpecParams, loadSpecFile } from "../config/load.js";
import { WORKFLOWS } from "../workflows/catalog.js";
import { DEFAULT_DEPLOYMENT_FILE, loadDeploymentFile } from "./deployment.js";
import { DEPLOYMENT_MODULE_FILE, MODULE_DOC, renderDeploymentModule } from "./deployment-module.js";
import { renderKubernetesDag } from "./kubernetes-template.js";
import { renderLocalDag } from "./local-template.js";
import { renderPoolsJson } from "./pools.js";
import { compareText, doNotEditHeader, PythonImports, pythonFile } from "./python-file.js";
import { planDag, type DagPlan } from "./task-plan.js";

// Reads models/*.yaml and the deployment config, and renders one DAG file per workflow plus
// pools.json. Rendering is pure (same inputs, same bytes); writing and checking are separate.

export type DagTarget = "kubernetes" | "local";

export interface GenerateOptions {
  /** Repository root; spec, deployment and output paths are relative to it. Default: cwd. */
  root?: string;
  out?: string;
  deploymentFile?: string;
  modelsDirectory?: string;
  target?: DagTarget;
}

interface ResolvedOptions {
  root: string;
  out: string;
  deploymentFile: string;
  modelsDirectory: string;
  target: DagTarget;
}

/** A path relative to the root, however it was spelled (`./dags/`, `dags`, absolute), in POSIX form. */
// One spelling per path (relative to the root, or absolute when it lies outside it), whatever was
// typed: `./dags/`, `dags` and an absolute path give the same regenerate command in the headers,
// so `check` agrees with `generate`.
function relativeToRoot(root: string, file: string): string {
  const absolute = path.resolve(root, file);
  const relative = path.relative(root, absolute);
  if (relative.startsWith("..") || path.isAbsolute(relative)) return absolute.split(path.sep).join("/");
  return relative === "" ? "." : relative.split(path.sep).join("/");
}

export function resolveOptions(options: GenerateOptions = {}): ResolvedOptions {
  const target = options.target ?? "kubernetes";
  const root = path.resolve(options.root ?? process.cwd());
  return {
    root,
    // Normalised so the generated headers do not depend on how --out / --deployment were written.
    out: relativeToRoot(root, options.out ?? (target === "local" ? ".cache/dags-local" : "dags")),
    deploymentFile: relativeToRoot(root, options.deploymentFile ?? DEFAULT_DEPLOYMENT_FILE),
    modelsDirectory: options.modelsDirectory ?? "models",
    target,
  };
}

const toPosix = (file: string): string => file.split(path.sep).join("/");

function regenerateCommand(options: ResolvedOptions): string {
  const flags = [
    ...(options.target === "local" ? ["--target", "local"] : []),
    ...(options.out !== "dags" || options.target === "local" ? ["--out-dir", toPosix(options.out)] : []),
    ...(options.deploymentFile !== DEFAULT_DEPLOYMENT_FILE ? ["--deployment", toPosix(options.deploymentFile)] : []),
  ];
  return ["npx train dags generate", ...flags].join(" ");
}

async function loadPlans(options: ResolvedOptions): Promise<{ plans: DagPlan[]; deployment: Awaited<ReturnType<typeof loadDeploymentFile>> }> {
  const deployment = await loadDeploymentFile(path.resolve(options.root, options.deploymentFile));
  const modelsDirectory = path.resolve(options.root, options.modelsDirectory);
  let names: string[];
  try {
    names = (await readdir(modelsDirectory)).filter((name) => name.endsWith(".yaml")).sort(compareText);
  } catch (cause) {
    throw new SpecError(`cannot list workflow specs in ${modelsDirectory}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
  if (names.length === 0) throw new SpecError(`no workflow specs (*.yaml) in ${modelsDirectory}`);
  const plans: DagPlan[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const specFile = toPosix(path.join(options.modelsDirectory, name));
    const loaded = await loadSpecFile(path.join(modelsDirectory, name));
    const { spec } = loaded;
    // A DAG runs the spec's params as they are: an invalid value must fail here, not in a pod.
    checkSpecParams(loaded, WORKFLOWS[spec.workflow].paramsSchema);
    const previous = seen.get(spec.dag_id);
    if (previous) throw new SpecError(`${specFile}: dag_id "${spec.dag_id}" is already used by ${previous}`);
    seen.set(spec.dag_id, specFile);
    plans.push(planDag(spec, deployment, specFile));
  }
  return { plans, deployment };
}

/** The generated files, keyed by path relative to the output folder, in sorted order. */
export async function renderDagFiles(options: GenerateOptions = {}): Promise<Map<string, string>> {
  const resolved = resolveOptions(options);
  const { plans, deployment } = await loadPlans(resolved);
  const files = new Map<string, string>();
  for (const plan of plans) {
    const imports = new PythonImports();
    const header = doNotEditHeader({ specFile: plan.specFile, deploymentFile: toPosix(resolved.deploymentFile), regenerateCommand: regenerateCommand(resolved) });
    const body =
      resolved.target === "local" ? renderLocalDag(plan, deployment, imports, resolved.root) : renderKubernetesDag(plan, deployment, imports);
    files.set(`${plan.spec.dag_id}.py`, pythonFile(header, imports, body));
  }
  if (resolved.target === "kubernetes") {
    // The shared half of every Kubernetes DAG: rendered once from the deployment config alone.
    const imports = new PythonImports();
    const header = doNotEditHeader({ deploymentFile: toPosix(resolved.deploymentFile), regenerateCommand: regenerateCommand(resolved) });
    const body = renderDeploymentModule(deployment, imports);
    files.set(DEPLOYMENT_MODULE_FILE, `${header}\n${MODULE_DOC}\n\n${imports.render()}\n\n${body.trimEnd()}\n`);
    files.set("pools.json", renderPoolsJson(plans, deployment));
  }
  return files;
}

export interface GenerateResult {
  out: string;
  written: string[];
}

export async function generateDags(options: GenerateOptions = {}): Promise<GenerateResult> {
  const resolved = resolveOptions(options);
  const files = await renderDagFiles(resolved);
  const outDirectory = path.resolve(resolved.root, resolved.out);
  await mkdir(outDirectory, { recursive: true });
  const written: string[] = [];
  for (const [name, content] of files) {
    await mkdir(path.dirname(path.join(outDirectory, name)), { recursive: true });
    await writeFile(path.join(outDirectory, name), content, "utf8");
    written.push(toPosix(path.join(resolved.out, name)));
  }
  return { out: outDirectory, written };
}
