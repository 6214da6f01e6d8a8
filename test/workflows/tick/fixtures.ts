import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TradeColumns } from "../../../src/data/tick/trade-columns.js";
import { tickFeatureParamsSchema, type TickFeatureParams } from "../../../src/workflows/tick/params.js";

export function temporaryDirectory(prefix = "tick-test-"): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export interface TradeRow {
  timestamp: bigint;
  symbol: string;
  price: number;
  size: number;
  side?: number;
}

/** Nanoseconds of `date` at hh:mm:ss UTC plus `extra` nanoseconds. */
export function at(date: string, time: string, extra = 0n): bigint {
  return BigInt(Date.parse(`${date}T${time}Z`)) * 1_000_000n + extra;
}

export function tradesOf(rows: TradeRow[], withSide = false): TradeColumns {
  const names = [...new Set(rows.map((row) => row.symbol))];
  return {
    rowCount: rows.length,
    timestampNanos: BigInt64Array.from(rows.map((row) => row.timestamp)),
    symbolCodes: Int32Array.from(rows.map((row) => names.indexOf(row.symbol))),
    symbolNames: names,
    price: Float64Array.from(rows.map((row) => row.price)),
    size: Float64Array.from(rows.map((row) => row.size)),
    side: withSide ? Int8Array.from(rows.map((row) => row.side ?? 0)) : null,
    missing: null,
  };
}

export function featureParams(overrides: Partial<TickFeatureParams> = {}): TickFeatureParams {
  return tickFeatureParamsSchema.parse(overrides);
}
