import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../../src/cli/main.js";
import { fetchPowerData, UCI_POWER_FILE } from "../../../src/data/power/fetch.js";
import { POWER_HEADER } from "../../../src/data/power/format.js";
import { readPowerData } from "../../../src/data/power/reader.js";
import { UnavailableError } from "../../../src/core/errors.js";
import { SAMPLE_LINES, temporaryDirectory } from "./fixtures.js";

/** Runs `train power …` through the real program, which wires the power subcommands. */
async function runPower(args: string[]): Promise<void> {
  await buildProgram().parseAsync(["node", "train", "power", ...args]);
}

/** A one-entry zip archive (deflate), as the UCI download is. */
function zipOf(name: string, content: Buffer): Buffer {
  const data = deflateRawSync(content);
  const nameBytes = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt32LE(0, 42);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + nameBytes.length, 12);
  end.writeUInt32LE(30 + nameBytes.length + data.length, 16);
  return Buffer.concat([local, nameBytes, data, central, nameBytes, end]);
}

describe("train power generate", () => {
  it("writes the exact UCI format, reproducibly, with outages and sub-meterings within the total", async () => {
    const directory = await temporaryDirectory();
    const file = path.join(directory, "power.txt");
    await runPower(["generate", "--out", file, "--days", "30", "--seed", "3"]);
    const text = await readFile(file, "latin1");
    const lines = text.split("\n");
    expect(lines[0]).toBe(POWER_HEADER);
    expect(lines[1]).toMatch(/^16\/12\/2006;00:00:00;\d+\.\d{3};\d+\.\d{3};\d+\.\d{3};\d+\.\d{3};\d+\.000;\d+\.000;\d+\.000$/);
    expect(text).toMatch(/\n1\/1\/2007;00:00:00;/); // day and month unpadded, like the real file
    const outageRows = lines.filter((line) => line.endsWith(";?;?;?;?;?;?;"));
    expect(outageRows.length).toBeGreaterThan(0);
    expect(outageRows.length / (30 * 1440)).toBeLessThan(0.05);
    let rows = 0;
    await readPowerData({ file }, (_time, values) => {
      rows += 1;
      if (Number.isNaN(values[0]!)) return;
      // UCI note 1: active power × 1000/60 − the three sub-meterings is the rest of the house (≥ 0).
      expect((values[0]! * 1000) / 60 - values[4]! - values[5]! - values[6]!).toBeGreaterThan(-0.01);
    });
    expect(rows).toBe(30 * 1440);
    const again = path.join(directory, "again.txt");
    await runPower(["generate", "--out", again, "--days", "30", "--seed", "3"]);
    expect(await readFile(again, "latin1")).toBe(text);
  });

  it("writes daily files that read back as the same rows", async () => {
    const directory = await temporaryDirectory();
    await runPower(["generate", "--out-dir", path.join(directory, "daily"), "--days", "3", "--seed", "5"]);
    await runPower(["generate", "--out", path.join(directory, "one.txt"), "--days", "3", "--seed", "5"]);
    expect(await readdir(path.join(directory, "daily"))).toEqual(["household_power_2006-12-16.txt", "household_power_2006-12-17.txt", "household_power_2006-12-18.txt"]);
    const collect = async (source: Parameters<typeof readPowerData>[0]) => {
      const seen: number[] = [];
      await readPowerData(source, (time, values) => seen.push(time, ...values));
      return seen;
    };
    expect(await collect({ directory: path.join(directory, "daily") })).toEqual(await collect({ file: path.join(directory, "one.txt") }));
  });
});

describe("train power fetch", () => {
  it("says where to put the file when there is no network", async () => {
    const directory = await temporaryDirectory();
    const offline = (async () => {
      throw new TypeError("fetch failed");
    }) as typeof fetch;
    const failure = await fetchPowerData({ directory, fetchImpl: offline }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UnavailableError);
    expect((failure as Error).message).toBe(
      `could not download https://archive.ics.uci.edu/static/public/235/individual+household+electric+power+consumption.zip (fetch failed). Without network access, download the archive elsewhere, unzip it and put household_power_consumption.txt at ${path.join(directory, UCI_POWER_FILE)}, then run \`train power --data-file ${path.join(directory, UCI_POWER_FILE)}\``,
    );
  });

  it("checks the archive's SHA-256, unzips and parses the file", async () => {
    const directory = await temporaryDirectory();
    const archive = zipOf(UCI_POWER_FILE, Buffer.from(`${POWER_HEADER}\n${SAMPLE_LINES.join("\n")}\n`));
    const serve = (async () => new Response(archive)) as typeof fetch;
    const url = "https://mirror.example/power.zip";
    await expect(fetchPowerData({ directory, url, fetchImpl: serve, expectedSha256: "0".repeat(64) })).rejects.toThrow(/SHA-256 [0-9a-f]{64}, expected 0{64}; the download is corrupt/);
    const result = await fetchPowerData({ directory, url, fetchImpl: serve });
    expect(result.rows).toBe(SAMPLE_LINES.length);
    expect(await readFile(result.file, "utf8")).toContain(SAMPLE_LINES[0]);
  });
});
