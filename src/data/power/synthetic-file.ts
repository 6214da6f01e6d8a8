import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { once } from "node:events";
import { POWER_HEADER } from "./format.js";
import { generatePowerDays, type SyntheticOptions } from "./synthetic.js";

// Writes synthetic data as one file (like the UCI download) or as one file per day (like a
// daily export), honouring stream back-pressure so years of minutes never sit in memory.

async function write(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, "drain");
}

async function close(stream: WriteStream): Promise<void> {
  stream.end();
  await once(stream, "finish");
}

/** Returns the number of data rows written. */
export async function writeSyntheticPowerFile(file: string, options: SyntheticOptions): Promise<number> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const stream = createWriteStream(file);
  for (const { text } of generatePowerDays(options)) await write(stream, text);
  await close(stream);
  return options.days * 1440;
}

/** One `household_power_YYYY-MM-DD.txt` per day, each with the header; returns the file paths. */
export async function writeSyntheticPowerDirectory(directory: string, options: SyntheticOptions): Promise<string[]> {
  await mkdir(directory, { recursive: true });
  const files: string[] = [];
  let first = true;
  for (const { date, text } of generatePowerDays(options)) {
    if (first) {
      first = false; // the generator's header chunk: each daily file writes its own
      continue;
    }
    const day = new Date(date).toISOString().slice(0, 10);
    const file = path.join(directory, `household_power_${day}.txt`);
    const stream = createWriteStream(file);
    await write(stream, `${POWER_HEADER}\n${text}`);
    await close(stream);
    files.push(file);
  }
  return files;
}
