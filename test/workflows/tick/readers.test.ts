import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { tableToIPC } from "apache-arrow";
import { describe, expect, it } from "vitest";
import { detectTradeFileFormat } from "../../../src/data/tick/formats.js";
import { readTradesFile } from "../../../src/data/tick/read-trades.js";
import { tradesTable, writeTradesFile } from "../../../src/data/tick/write-trades.js";
import { DataError } from "../../../src/core/errors.js";
import { at, temporaryDirectory, tradesOf } from "./fixtures.js";

const PYTHON = path.resolve(".venv/tools/bin/python");
const sample = tradesOf(
  [
    { timestamp: at("2026-01-05", "14:30:00"), symbol: "AAPL", price: 190.5, size: 100, side: 1 },
    { timestamp: at("2026-01-05", "14:30:01"), symbol: "MSFT", price: 410.25, size: 50, side: -1 },
    { timestamp: at("2026-01-05", "14:30:02", 7n), symbol: "AAPL", price: 190.51, size: 300, side: 1 },
  ],
  true,
);

function plain(read: Awaited<ReturnType<typeof readTradesFile>>) {
  const { trades } = read;
  return {
    timestamps: [...trades.timestampNanos],
    symbols: [...trades.symbolCodes].map((code) => trades.symbolNames[code]),
    price: [...trades.price],
    size: [...trades.size],
    side: trades.side ? [...trades.side] : null,
  };
}

describe("readTradesFile", () => {
  const directory = temporaryDirectory();
  for (const format of ["parquet", "arrow", "csv"] as const) {
    it(`reads ${format} written by our writer with exact values`, async () => {
      const file = path.join(directory, `trades.${format}`);
      await writeTradesFile(file, sample, format);
      const read = await readTradesFile(file);
      expect(read.format).toBe(format);
      expect(plain(read)).toEqual({
        timestamps: [...sample.timestampNanos],
        symbols: ["AAPL", "MSFT", "AAPL"],
        price: [190.5, 410.25, 190.51],
        size: [100, 50, 300],
        side: [1, -1, 1],
      });
    });
  }

  it("reads an Arrow IPC stream as well as a file", async () => {
    const file = path.join(directory, "trades.arrows");
    await writeFile(file, tableToIPC(tradesTable(sample), "stream"));
    expect(plain(await readTradesFile(file)).price).toEqual([190.5, 410.25, 190.51]);
  });

  it.skipIf(!existsSync(PYTHON))("reads Parquet written by pyarrow (int64 sizes, dictionary symbols, no side)", async () => {
    const file = path.join(directory, "pyarrow.parquet");
    const script = [
      "import pyarrow as pa, pyarrow.parquet as pq, sys",
      "t = pa.table({'timestamp': pa.array([1767623400000000000, 1767623401000000000], pa.int64()),",
      " 'symbol': pa.array(['AAPL', 'MSFT']).dictionary_encode(), 'price': [190.5, 410.25], 'size': pa.array([100, 50], pa.int64())})",
      "pq.write_table(t, sys.argv[1], compression='zstd')",
    ].join("\n");
    execFileSync(PYTHON, ["-c", script, file]);
    const read = plain(await readTradesFile(file));
    expect(read).toEqual({ timestamps: [1767623400000000000n, 1767623401000000000n], symbols: ["AAPL", "MSFT"], price: [190.5, 410.25], size: [100, 50], side: null });
  });

  it("refuses a truncated Parquet file with a DataError", async () => {
    const file = path.join(directory, "truncated.parquet");
    await writeFile(file, Buffer.from("PAR1 then nothing useful"));
    await expect(readTradesFile(file)).rejects.toThrow(/does not end with it: a truncated or corrupt Parquet file/);
    await expect(readTradesFile(file)).rejects.toBeInstanceOf(DataError);
  });

  it("refuses a .parquet file without magic bytes", async () => {
    const file = path.join(directory, "fake.parquet");
    await writeFile(file, "hello");
    await expect(readTradesFile(file)).rejects.toThrow(/not a Parquet file \(no PAR1 magic bytes\)/);
  });

  it("names a missing column and a wrong column type", async () => {
    const missing = path.join(directory, "missing.csv");
    await writeFile(missing, "timestamp,symbol,price\n1,AAPL,1\n");
    await expect(readTradesFile(missing)).rejects.toThrow(/missing column "size" \(columns present: timestamp, symbol, price; name the size column with params.input.columns.size\)/);
    const wrongType = path.join(directory, "wrong.arrow");
    const table = tradesTable(sample);
    const { Table, vectorFromArray, Utf8 } = await import("apache-arrow");
    const broken = new Table({ timestamp: table.getChild("timestamp")!, symbol: table.getChild("symbol")!, price: vectorFromArray(["1", "2", "3"], new Utf8()), size: table.getChild("size")! });
    await writeFile(wrongType, tableToIPC(broken, "file"));
    await expect(readTradesFile(wrongType)).rejects.toThrow(/column "price" has type Utf8; expected a float, integer or decimal/);
  });

  it("rejects an unparsable CSV number with its line", async () => {
    const file = path.join(directory, "bad-number.csv");
    await writeFile(file, "timestamp,symbol,price,size\n1767623400000000000,AAPL,abc,1\n");
    await expect(readTradesFile(file)).rejects.toThrow(/bad-number.csv:2: column "price" is not a number: "abc"/);
  });
});

describe("detectTradeFileFormat", () => {
  it("trusts magic bytes over the extension and refuses unknown content", () => {
    expect(detectTradeFileFormat(new TextEncoder().encode("ARROW1\0\0....ARROW1"), "x.csv")).toBe("arrow");
    expect(() => detectTradeFileFormat(new TextEncoder().encode("garbage"), "x.bin")).toThrow(/unknown trade file format/);
  });
});
