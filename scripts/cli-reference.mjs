#!/usr/bin/env node
// Writes README.md's CLI reference from the --help texts (run after `npm run build`);
// `--check` exits 1 when README.md is out of date instead of writing it.
import { readFile, writeFile } from "node:fs/promises";

const readmeFile = new URL("../README.md", import.meta.url);
const { buildProgram } = await import(new URL("../dist/cli/main.js", import.meta.url).href);
const { withCliReference } = await import(new URL("../dist/cli/cli-reference.js", import.meta.url).href);
const readme = await readFile(readmeFile, "utf8");
const updated = withCliReference(readme, buildProgram());
if (process.argv.includes("--check")) {
  if (updated !== readme) {
    process.stderr.write("cli-reference: README.md's CLI reference differs from the help: run `node scripts/cli-reference.mjs`\n");
    process.exit(1);
  }
} else if (updated !== readme) {
  await writeFile(readmeFile, updated);
  process.stdout.write("README.md: CLI reference rewritten\n");
}
