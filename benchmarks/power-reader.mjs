#!/usr/bin/env node
// Reader throughput on a file the size of the real UCI one (2,076,480 minutes, ~130 MB),
// compared with node:readline only splitting lines. Runs on the compiled dist/ (npm run build).
//   node benchmarks/power-reader.mjs [file]     (default: generates /tmp/podtrain-power-2m.txt)
import { createReadStream, existsSync } from "node:fs";
import readline from "node:readline";

const { readPowerData } = await import("../dist/data/power/reader.js");
const { writeSyntheticPowerFile } = await import("../dist/data/power/synthetic-file.js");

const file = process.argv[2] ?? "/tmp/podtrain-power-2m.txt";
if (!existsSync(file)) {
  const started = performance.now();
  await writeSyntheticPowerFile(file, { days: 1442, seed: 1 });
  console.log(`generated ${file} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
for (let round = 1; round <= 3; round += 1) {
  let started = performance.now();
  const summary = await readPowerData({ file }, () => {});
  let seconds = (performance.now() - started) / 1000;
  console.log(`round ${round}: podtrain reader ${summary.rows} rows in ${seconds.toFixed(2)} s = ${Math.round(summary.rows / seconds)} rows/s (parse, checks, SHA-256)`);
  started = performance.now();
  let lines = 0;
  for await (const line of readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity })) if (line.split(";").length === 9) lines += 1;
  seconds = (performance.now() - started) / 1000;
  console.log(`round ${round}: node:readline + split only ${lines} lines in ${seconds.toFixed(2)} s = ${Math.round(lines / seconds)} lines/s (no parsing)`);
}
