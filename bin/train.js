#!/usr/bin/env node
// Runs the compiled CLI; `npm run setup` (or `npm run build`) produces dist/.
import { existsSync } from "node:fs";

const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("train: error: podtrain is not built yet: run `npm run setup` (or `npm run build`) in the podtrain folder\n");
  process.exit(70);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
