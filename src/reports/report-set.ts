import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { renderChart } from "./render.js";

// The files of one run's evaluation report, written to a local folder that the run then logs
// as its `reports/` artifacts. Each chart's PNG is drawn from data that is also written as JSON,
// so a reader (or a test) can check the numbers behind every picture.

export const REPORTS_ARTIFACT_PATH = "reports";

export interface ReportTiming {
  file: string;
  seconds: number;
}

export class ReportSet {
  readonly timings: ReportTiming[] = [];

  constructor(readonly directory: string) {}

  async json(file: string, value: unknown): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    await writeFile(path.join(this.directory, file), `${JSON.stringify(value, null, 2)}\n`);
  }

  async chart(file: string, spec: TopLevelSpec): Promise<void> {
    const started = performance.now();
    const { png } = await renderChart(spec);
    await mkdir(this.directory, { recursive: true });
    await writeFile(path.join(this.directory, file), png);
    this.timings.push({ file, seconds: (performance.now() - started) / 1000 });
  }

  get renderSeconds(): number {
    return this.timings.reduce((total, timing) => total + timing.seconds, 0);
  }
}
