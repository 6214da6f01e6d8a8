import { execFileSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { hivePathValues, parseIsoTimestampNanos, tickInputSchema, timestampUnitHint } from "../../../src/data/tick/input-contract.js";
import { scanPartitionRoot } from "../../../src/data/tick/partitions.js";
import { parseTradesCsv } from "../../../src/data/tick/read-csv.js";
import { readTradesFile } from "../../../src/data/tick/read-trades.js";
import { compareTradeIds, orderTrades } from "../../../src/data/tick/time-order.js";
import type { TradeColumns } from "../../../src/data/tick/trade-columns.js";
import { createValidationState, validateTrades } from "../../../src/data/tick/validate.js";
import { DataError } from "../../../src/core/errors.js";
import { toolsPython } from "../../support/python.js";
import { at, temporaryDirectory, tradesOf } from "./fixtures.js";

const DATE = "2026-01-05";
const csv = (text: string) => new TextEncoder().encode(text);

function rowsOf(trades: TradeColumns) {
  return Array.from({ length: trades.rowCount }, (_, row) => `${trades.symbolNames[trades.symbolCodes[row] as number]}@${trades.timestampNanos[row]}:${trades.price[row]}`);
}

describe("orderTrades", () => {
  it("puts each symbol's trades in (timestamp, file, row) order and renumbers symbols by name", () => {
    const first = tradesOf([
      { timestamp: 30n, symbol: "MSFT", price: 3, size: 1 },
      { timestamp: 20n, symbol: "AAPL", price: 2, size: 1 },
      { timestamp: 20n, symbol: "AAPL", price: 2.5, size: 1 },
    ]);
    const second = tradesOf([
      { timestamp: 10n, symbol: "AAPL", price: 1, size: 1 },
      { timestamp: 20n, symbol: "AAPL", price: 2.75, size: 1 },
      { timestamp: 5n, symbol: "MSFT", price: 0.5, size: 1 },
    ]);
    const ordered = orderTrades([first, second]);
    expect(ordered.reordered).toBe(true);
    expect(ordered.trades.symbolNames).toEqual(["AAPL", "MSFT"]);
    // Equal timestamps are kept, in file then row order.
    expect(rowsOf(ordered.trades)).toEqual(["AAPL@10:1", "AAPL@20:2", "AAPL@20:2.5", "AAPL@20:2.75", "MSFT@5:0.5", "MSFT@30:3"]);
    expect([...ordered.sourceFile]).toEqual([1, 0, 0, 1, 1, 0]);
    expect([...ordered.sourceRow]).toEqual([0, 1, 2, 1, 2, 0]);
  });

  it("leaves rows already in time order per symbol where they are", () => {
    const trades = tradesOf([
      { timestamp: 10n, symbol: "MSFT", price: 1, size: 1 },
      { timestamp: 5n, symbol: "AAPL", price: 1, size: 1 },
      { timestamp: 10n, symbol: "MSFT", price: 2, size: 1 },
    ]);
    const ordered = orderTrades([trades]);
    expect(ordered.reordered).toBe(false);
    expect(rowsOf(ordered.trades)).toEqual(["MSFT@10:1", "AAPL@5:1", "MSFT@10:2"]);
  });

  it("sorts times across the whole int64 range, before 1970 included, and many symbols", () => {
    const times = [1n << 40n, -5n, 3n, -(1n << 50n), (1n << 62n) + 7n, 0n, 1n << 32n, (1n << 32n) - 1n];
    const symbols = Array.from({ length: 70_000 }, (_, index) => `S${String(index).padStart(5, "0")}`);
    const aaplRows = tradesOf(times.map((timestamp, index) => ({ timestamp, symbol: "AAPL", price: index + 1, size: 1 })));
    // 70,000 symbols (more than one 16-bit digit), each with one trade, listed in reverse name order.
    const many: TradeColumns = {
      ...tradesOf([]),
      rowCount: symbols.length,
      timestampNanos: BigInt64Array.from(symbols, (_, index) => BigInt(index)),
      symbolCodes: Int32Array.from(symbols, (_, index) => symbols.length - 1 - index),
      symbolNames: symbols,
      price: new Float64Array(symbols.length).fill(1),
      size: new Float64Array(symbols.length).fill(1),
    };
    const ordered = orderTrades([aaplRows, many]);
    expect(ordered.reordered).toBe(true);
    const aapl = rowsOf(ordered.trades).filter((row) => row.startsWith("AAPL@")).map((row) => BigInt(row.slice(5, row.indexOf(":"))));
    expect(aapl).toEqual([...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(ordered.trades.symbolNames.slice(0, 3)).toEqual(["AAPL", "S00000", "S00001"]);
    expect(ordered.trades.symbolCodes.slice(8, 11)).toEqual(Int32Array.from([1, 2, 3]));
  });

  it("does not sort for rows outside the day, which validation rejects wherever they are", () => {
    const start = at(DATE, "00:00:00");
    const trades = tradesOf([
      { timestamp: at(DATE, "15:00:00"), symbol: "AAPL", price: 1, size: 1 },
      { timestamp: start - 1n, symbol: "AAPL", price: 2, size: 1 },
      { timestamp: at(DATE, "15:00:01"), symbol: "AAPL", price: 3, size: 1 },
    ]);
    expect(orderTrades([trades], { start, end: start + 86_400_000_000_000n }).reordered).toBe(false);
    expect(orderTrades([trades]).reordered).toBe(true);
  });

  it("orders equal timestamps by trade id when there is one, whatever the file order", () => {
    const withIds = (rows: Array<[bigint, number, string]>): TradeColumns => ({
      ...tradesOf(rows.map(([timestamp, price]) => ({ timestamp, symbol: "AAPL", price, size: 1 }))),
      tradeIds: rows.map(([, , id]) => id),
    });
    const early = withIds([[10n, 1, "9"], [20n, 2, "12"]]);
    const late = withIds([[10n, 1.5, "10"], [20n, 2.5, "11"]]);
    expect(rowsOf(orderTrades([early, late]).trades)).toEqual(rowsOf(orderTrades([late, early]).trades));
    expect(rowsOf(orderTrades([late, early]).trades)).toEqual(["AAPL@10:1", "AAPL@10:1.5", "AAPL@20:2.5", "AAPL@20:2"]);
  });

  it("compares integer trade ids by value and other ids as text", () => {
    expect(["10", "9", "009", "100"].sort(compareTradeIds)).toEqual(["009", "9", "10", "100"].sort(compareTradeIds));
    expect(compareTradeIds("9", "10")).toBeLessThan(0);
    expect(compareTradeIds("b-1", "a-2")).toBeGreaterThan(0);
  });
});

describe("validateTrades", () => {
  it("accepts equal timestamps and rejects repeated trade ids of a symbol", () => {
    const trades: TradeColumns = {
      ...tradesOf([
        { timestamp: at(DATE, "15:00:00"), symbol: "AAPL", price: 10, size: 1 },
        { timestamp: at(DATE, "15:00:00"), symbol: "AAPL", price: 11, size: 1 },
        { timestamp: at(DATE, "15:00:01"), symbol: "AAPL", price: 10, size: 1 },
        { timestamp: at(DATE, "15:00:01"), symbol: "MSFT", price: 10, size: 1 },
      ]),
      tradeIds: ["1", "2", "1", "1"],
    };
    const validated = validateTrades(trades, { date: DATE }, createValidationState());
    expect([...validated.reasons]).toEqual([0, 0, 6, 0]);
    expect(validated.rejectCounts.duplicate_trade_id).toBe(1);
  });
});

describe("Parquet under the input contract", () => {
  it("reads integer prices, decimal sizes, zoned second timestamps, large_string symbols and int32 seconds", async () => {
    const directory = temporaryDirectory();
    const script = [
      "import decimal, sys, pyarrow as pa, pyarrow.parquet as pq",
      "t = pa.table({",
      " 'Timestamp': pa.array([1767623400, 1767623401], pa.timestamp('s', tz='America/New_York')),",
      " 'symbol': pa.array(['AAPL', 'MSFT'], pa.large_string()),",
      " 'price': pa.array([190, 410], pa.int64()),",
      " 'size': pa.array([decimal.Decimal('100.25'), decimal.Decimal('-0.50')], pa.decimal128(10, 2)),",
      " 'seconds': pa.array([1767623400, 1767623401], pa.int32())})",
      "pq.write_table(t, sys.argv[1] + '/zoned.parquet')",
      "pq.write_table(t.drop_columns(['Timestamp']).rename_columns(['symbol', 'price', 'size', 'timestamp']), sys.argv[1] + '/seconds.parquet')",
    ].join("\n");
    execFileSync(toolsPython(), ["-c", script, directory]);
    const expected = [at(DATE, "14:30:00"), at(DATE, "14:30:01")];
    const zoned = (await readTradesFile(path.join(directory, "zoned.parquet"))).trades;
    expect([...zoned.timestampNanos]).toEqual(expected);
    expect(zoned.symbolNames).toEqual(["AAPL", "MSFT"]);
    expect([...zoned.price]).toEqual([190, 410]);
    expect([...zoned.size]).toEqual([100.25, -0.5]);
    expect(zoned.integerTimestampUnit).toBeNull();
    const settings = tickInputSchema.parse({ timestamp_unit: "s" });
    const seconds = (await readTradesFile(path.join(directory, "seconds.parquet"), { settings, pathValues: new Map() })).trades;
    expect([...seconds.timestampNanos]).toEqual(expected);
    expect(seconds.integerTimestampUnit).toBe("s");
  });
});

describe("CSV under the input contract", () => {
  it("maps renamed and capitalised columns, reads ISO timestamps and takes the symbol from the partition folder", () => {
    const settings = tickInputSchema.parse({ columns: { timestamp: "ts" } });
    const trades = parseTradesCsv(
      csv("TS,Price,SIZE\n2026-01-05T14:30:00.123456Z,10.5,100\n2026-01-05 09:30:00.5-05:00,10.25,50\n2026-01-05T14:30:01,10,1\n"),
      "part-0.csv",
      { settings, pathValues: hivePathValues("symbol=BRK%2FB/part-0.csv") },
    );
    expect([...trades.timestampNanos]).toEqual([at(DATE, "14:30:00", 123_456_000n), at(DATE, "14:30:00", 500_000_000n), at(DATE, "14:30:01")]);
    expect(trades.symbolNames).toEqual(["BRK/B"]);
    expect([...trades.price]).toEqual([10.5, 10.25, 10]);
    expect(trades.integerTimestampUnit).toBeNull();
  });

  it("scales integer timestamps by the configured unit and names a unit that overflows", () => {
    const settings = tickInputSchema.parse({ timestamp_unit: "ms" });
    const trades = parseTradesCsv(csv("timestamp,symbol,price,size\n1767623400123,AAPL,1,1\n"), "t.csv", { settings, pathValues: new Map() });
    expect([...trades.timestampNanos]).toEqual([at(DATE, "14:30:00", 123_000_000n)]);
    expect(trades.integerTimestampUnit).toBe("ms");
    const seconds = tickInputSchema.parse({ timestamp_unit: "s" });
    expect(() => parseTradesCsv(csv("timestamp,symbol,price,size\n1767623400123456789,AAPL,1,1\n"), "t.csv", { settings: seconds, pathValues: new Map() })).toThrow(
      /t\.csv:2: column "timestamp" value 1767623400123456789 overflows as s: integer timestamp values \(1767623400123456789\) look like nanoseconds since the epoch \(2026-01-05\); set params\.input\.timestamp_unit: ns/,
    );
  });

  it("refuses columns that differ only in case, and names the setting for a missing column", () => {
    const settings = tickInputSchema.parse({});
    expect(() => parseTradesCsv(csv("timestamp,Symbol,SYMBOL,price,size\n"), "t.csv", { settings, pathValues: new Map() })).toThrow(/columns "Symbol" and "SYMBOL" differ only in case/);
    expect(() => parseTradesCsv(csv("time,symbol,price,size\n"), "t.csv", { settings, pathValues: new Map() })).toThrow(
      /missing column "timestamp" \(columns present: time, symbol, price, size; name the timestamp column with params.input.columns.timestamp\)/,
    );
  });
});

describe("input contract helpers", () => {
  it("parses ISO 8601 timestamps to nanoseconds and refuses impossible dates", () => {
    expect(parseIsoTimestampNanos("2026-01-05T14:30:00.123456789Z")).toBe(at(DATE, "14:30:00", 123_456_789n));
    expect(parseIsoTimestampNanos("2026-01-05T16:30:00+02:00")).toBe(at(DATE, "14:30:00"));
    expect(parseIsoTimestampNanos("2026-02-30T00:00:00Z")).toBeUndefined();
    expect(parseIsoTimestampNanos("yesterday")).toBeUndefined();
  });

  it("says which unit an integer timestamp looks like", () => {
    const seconds = 1_767_623_400n;
    expect(timestampUnitHint(seconds, "ns")).toBe("integer timestamp values (1767623400) look like seconds since the epoch (2026-01-05); set params.input.timestamp_unit: s");
    expect(timestampUnitHint(seconds * 1000n, "ns")).toMatch(/look like milliseconds .*timestamp_unit: ms$/);
    expect(timestampUnitHint(seconds * 1_000_000n, "ns")).toMatch(/look like microseconds .*timestamp_unit: us$/);
    expect(timestampUnitHint(seconds * 1_000_000_000n, "ns")).toBe("integer timestamps (1767623400000000000) read as nanoseconds fall on 2026-01-05: are the files under the right date folder?");
  });

  it("reads Hive partition folders below the date folder, with Hive's null marker", () => {
    expect([...hivePathValues("Symbol=AAPL/venue=__HIVE_DEFAULT_PARTITION__/part-0.parquet")]).toEqual([["symbol", "AAPL"], ["venue", null]]);
    expect(hivePathValues("part-0.parquet").size).toBe(0);
  });

  it("refuses date folders under another partition key, naming the setting", async () => {
    const root = temporaryDirectory();
    await mkdir(path.join(root, "dt=2026-01-05"), { recursive: true });
    await mkdir(path.join(root, "tmp"), { recursive: true });
    await expect(scanPartitionRoot(root)).rejects.toThrow(DataError);
    await expect(scanPartitionRoot(root)).rejects.toThrow(/1 folder\(s\) under .* are date partitions under key "dt", not "date": dt=2026-01-05; set params.input.partition_key: dt/);
    expect(await scanPartitionRoot(root, "dt")).toEqual({ dates: ["2026-01-05"], foreign: ["tmp"] });
  });
});
