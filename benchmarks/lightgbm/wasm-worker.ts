// The wasm side of the LightGBM benchmark, run in its own process by run.ts.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Dataset, loadLightGBM, train, type LightGBMParameters } from "../../src/lightgbm/index.js";

interface Request {
  numRows: number;
  numColumns: number;
  numIterations: number;
  parameters: LightGBMParameters;
}

function readTyped<T extends Float32Array | Float64Array>(path: string, make: (buffer: ArrayBuffer) => T): T {
  const bytes = readFileSync(path);
  return make(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export async function runWasmWorker(workDirectory: string, numThreads: number, prefix: string) {
  const request = JSON.parse(readFileSync(join(workDirectory, "request.json"), "utf8")) as Request;
  const values = readTyped(join(workDirectory, "features.f64"), (buffer) => new Float64Array(buffer));
  const labels = readTyped(join(workDirectory, "labels.f32"), (buffer) => new Float32Array(buffer));
  const parameters = { ...request.parameters, num_threads: numThreads };
  await loadLightGBM(numThreads); // module start-up (and its worker threads) is not part of the timings

  let started = performance.now();
  const trainData = await Dataset.fromMatrix({ values, labels, numColumns: request.numColumns, parameters });
  const datasetSeconds = (performance.now() - started) / 1000;

  // CPU time next to wall time: on a shared machine wall time grows with others' load.
  const cpuSeconds = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1e6;
  };
  started = performance.now();
  let startedCpu = process.cpuUsage();
  const { booster } = await train({ parameters, train: trainData, numIterations: request.numIterations });
  const trainSeconds = (performance.now() - started) / 1000;
  const trainCpuSeconds = cpuSeconds(startedCpu);

  started = performance.now();
  startedCpu = process.cpuUsage();
  const predictions = booster.predict({ values, numColumns: request.numColumns }, { numThreads });
  const predictSeconds = (performance.now() - started) / 1000;
  const predictCpuSeconds = cpuSeconds(startedCpu);
  writeFileSync(join(workDirectory, `${prefix}.predictions.f64`), predictions);
  writeFileSync(join(workDirectory, `${prefix}.model.txt`), booster.saveModelToString());
  booster.dispose();
  trainData.dispose();
  // maxRSS is in KiB; process.cpuUsage and maxRSS cover all threads of the process.
  return {
    datasetSeconds, trainSeconds, predictSeconds, trainCpuSeconds, predictCpuSeconds, peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}
