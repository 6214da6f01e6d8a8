import { rm } from "node:fs/promises";
import path from "node:path";
import type { Reporter } from "../runtime/reporter.js";
import { REPORTS_ARTIFACT_PATH, ReportSet } from "./report-set.js";

/** Seconds evaluate spent drawing and logging its report: kept visible so that evaluate stays fast. */
export const REPORT_SECONDS_METRIC = "evaluate_report_seconds";

/** The part of a workflow's run context a report needs (WorkflowContext has it). */
export interface ReportContext {
  workDirectory: string;
  reporter: Reporter;
  logArtifacts(localDirectory: string, artifactPath: string): Promise<void>;
}

/**
 * Writes a run's evaluation report into a fresh local folder, then logs it as the run's
 * `reports/` artifacts (the local store and a server alike; a repeated evaluate overwrites the
 * same files). Returns the time it took as a metric for the run.
 */
export async function logEvaluationReports(context: ReportContext, write: (reports: ReportSet) => Promise<void>): Promise<Record<string, number>> {
  const started = performance.now();
  const directory = path.join(context.workDirectory, REPORTS_ARTIFACT_PATH);
  await rm(directory, { recursive: true, force: true });
  const reports = new ReportSet(directory);
  await write(reports);
  await context.logArtifacts(directory, REPORTS_ARTIFACT_PATH);
  const seconds = (performance.now() - started) / 1000;
  const renderSeconds = Object.fromEntries(reports.timings.map((timing) => [timing.file, Math.round(timing.seconds * 1000) / 1000]));
  context.reporter.log.info({ artifact_path: REPORTS_ARTIFACT_PATH, render_seconds: renderSeconds, total_seconds: Math.round(seconds * 1000) / 1000 }, "logged the evaluation reports");
  return { [REPORT_SECONDS_METRIC]: seconds };
}
