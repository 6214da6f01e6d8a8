import {
  Field, Float64, Int32, Int8, makeData, RecordBatch, Schema, Struct, Table, TimestampNanosecond, Utf8,
  tableToIPC, vectorFromArray, type Data, type DataType,
} from "apache-arrow";
import type { FeatureColumns } from "./features.js";
import type { TickFeatureParams } from "./params.js";

// Output: one Arrow IPC *file* per date. Chosen over Parquet because (1) the bytes are a pure
// function of the table (Parquet writers stamp a "created_by" version and encoder choices that
// change across upgrades, breaking the byte-identical re-run), (2) training memory-maps or
// reads it with zero decoding, and (3) partitions are small (symbols × bars of a day), so
// Parquet's compression buys little. Null label = no forward window.

function floatData(values: Float64Array): Data {
  return makeData({ type: new Float64(), length: values.length, data: values });
}

function bitmapOf(valid: Uint8Array): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array(Math.ceil(valid.length / 8));
  let nullCount = 0;
  for (let index = 0; index < valid.length; index += 1) {
    if (valid[index] === 1) bitmap[index >> 3] = (bitmap[index >> 3] as number) | (1 << (index & 7));
    else nullCount += 1;
  }
  return { bitmap, nullCount };
}

export function featureTable(columns: FeatureColumns, params: TickFeatureParams, metadata: Record<string, string>): Table {
  const length = columns.rowCount;
  const label = bitmapOf(columns.labelValid);
  const entries: Array<[string, Data]> = [
    ["bar_start", makeData({ type: new TimestampNanosecond("UTC"), length, data: columns.barStartNanos })],
    ["symbol", vectorFromArray(columns.symbol, new Utf8()).data[0] as Data],
    ["open", floatData(columns.open)],
    ["high", floatData(columns.high)],
    ["low", floatData(columns.low)],
    ["close", floatData(columns.close)],
    ["volume", floatData(columns.volume)],
    ["vwap", floatData(columns.vwap)],
    ["trade_count", makeData({ type: new Int32(), length, data: columns.tradeCount })],
    ...params.return_horizons_bars.map((lag, index): [string, Data] => [`return_${lag}`, floatData(columns.returns[index] as Float64Array)]),
    ["realized_volatility", floatData(columns.realizedVolatility)],
    ["vwap_deviation", floatData(columns.vwapDeviation)],
    ["trade_sign_imbalance", floatData(columns.tradeSignImbalance)],
    ["high_low_range", floatData(columns.highLowRange)],
    ["volume_zscore", floatData(columns.volumeZscore)],
    ["forward_return", floatData(columns.forwardReturn)],
    ["label", makeData({ type: new Int8(), length, data: columns.label, nullBitmap: label.bitmap, nullCount: label.nullCount })],
  ];
  const fields = entries.map(([name, data]) => new Field(name, data.type as DataType, name === "label"));
  const schema = new Schema(fields, new Map(Object.entries(metadata)));
  const children = entries.map(([, data]) => data);
  const structData = makeData({ type: new Struct(fields), length, nullCount: 0, children });
  return new Table(schema, [new RecordBatch(schema, structData)]);
}

export function featureTableBytes(table: Table): Uint8Array {
  return tableToIPC(table, "file");
}

