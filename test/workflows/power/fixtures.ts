import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { POWER_HEADER } from "../../../src/data/power/format.js";

export async function temporaryDirectory(prefix = "podtrain-power-test-"): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Writes a file in the exact UCI format from data lines (the header is added). */
export async function writePowerFile(file: string, lines: string[], header = POWER_HEADER): Promise<string> {
  await writeFile(file, `${header}\n${lines.join("\n")}\n`);
  return file;
}

/** Six rows around midnight, copied in shape from the real file: unpadded dates, a `?` outage row. */
export const SAMPLE_LINES = [
  "16/12/2006;23:58:00;4.216;0.418;234.840;18.400;0.000;1.000;17.000",
  "16/12/2006;23:59:00;5.360;0.436;233.630;23.000;0.000;1.000;16.000",
  "17/12/2006;00:00:00;?;?;?;?;?;?;",
  "17/12/2006;00:01:00;3.666;0.528;235.680;15.800;0.000;2.000;17.000",
  "17/12/2006;00:03:00;2.000;0.000;240.000;8.400;1.000;?;0.000",
  "1/1/2007;00:00:00;2.580;0.136;241.970;10.600;0.000;0.000;0.000",
];
