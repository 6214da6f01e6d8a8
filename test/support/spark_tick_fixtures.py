"""Writes the tick input datasets of the Spark input contract tests, all in one Spark session.

Usage: python spark_tick_fixtures.py OUT_DIR

Every dataset holds the same generated trades (two dates, three symbols, millisecond
timestamps, some trades sharing a timestamp), written the ways real Spark jobs write them;
`reference` (and `reference_seconds`, the same trades floored to whole seconds) is written by
pyarrow, one sorted file per date, as the contract's baseline. OUT_DIR/datasets.json lists the
datasets with the `input` settings each needs.
"""

import json
import os
import random
import sys

import pyarrow as pa
import pyarrow.parquet as pq

DATES = ["2026-01-05", "2026-01-06"]
SYMBOLS = ["AAPL", "MSFT", "SPY"]
TRADES_PER_SYMBOL_DAY = 1500
OPEN_MS = (14 * 3600 + 30 * 60) * 1000
CLOSE_MS = 21 * 3600 * 1000
NOON_MS = 17 * 3600 * 1000


def day_start_ms(date):
    import datetime as dt

    day = dt.datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
    return int(day.timestamp()) * 1000


def generate():
    """Rows (date, ts_ms, symbol, price, size, trade_id), sorted by (date, ts_ms, symbol)."""
    rng = random.Random(17)
    rows = []
    for date in DATES:
        start = day_start_ms(date)
        for index, symbol in enumerate(SYMBOLS):
            price = 100.0 + 50 * index
            # Distinct times per symbol except the identical copies below: two different trades
            # of one symbol in the same millisecond in different part files have no order a
            # reader can recover without a trade id (the contract orders them by file path).
            times = sorted(rng.sample(range(OPEN_MS, CLOSE_MS), TRADES_PER_SYMBOL_DAY))
            trade_id = 1_000_000 * (index + 1) + (0 if date == DATES[0] else 500_000)
            for position, offset in enumerate(times):
                price = max(1.0, price + rng.choice([-0.01, 0.0, 0.01]) * rng.randint(1, 3))
                size = rng.randint(1, 20) * 10
                trade_id += 1
                rows.append((date, start + offset, symbol, round(price, 4), size, trade_id))
                # A busy feed prints several trades in the same millisecond: some identical copies.
                if position % 97 == 0:
                    trade_id += 1
                    rows.append((date, start + offset, symbol, round(price, 4), size, trade_id))
    rows.sort(key=lambda row: (row[0], row[1], row[2]))
    return rows


def write_reference(rows, root, floor_to_seconds=False):
    for date in DATES:
        day = [row for row in rows if row[0] == date]
        timestamps = [(row[1] // 1000 * 1000 if floor_to_seconds else row[1]) * 1_000_000 for row in day]
        table = pa.table(
            {
                "timestamp": pa.array(timestamps, pa.int64()),
                "symbol": pa.array([row[2] for row in day], pa.string()),
                "price": pa.array([row[3] for row in day], pa.float64()),
                "size": pa.array([row[4] for row in day], pa.int64()),
            }
        )
        folder = os.path.join(root, f"date={date}")
        os.makedirs(folder, exist_ok=True)
        pq.write_table(table, os.path.join(folder, "trades.parquet"))


def main():
    out = sys.argv[1]
    rows = generate()
    write_reference(rows, os.path.join(out, "reference"))
    write_reference(rows, os.path.join(out, "reference_seconds"), floor_to_seconds=True)

    from pyspark.sql import SparkSession, functions as F
    from pyspark.sql.types import DecimalType, LongType, StringType, StructField, StructType

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("podtrain-tick-fixtures")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.sources.partitionOverwriteMode", "static")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    schema = StructType(
        [
            StructField("date", StringType()),
            StructField("ts_ms", LongType()),
            StructField("symbol", StringType()),
            StructField("price", StringType()),
            StructField("size", LongType()),
            StructField("trade_id", LongType()),
        ]
    )
    # Prices travel as text so that Spark's double and decimal columns are parsed from the
    # same digits pyarrow's float64 came from.
    base = spark.createDataFrame([(r[0], r[1], r[2], repr(r[3]), r[4], r[5]) for r in rows], schema)
    base = base.withColumn("timestamp", F.timestamp_millis("ts_ms")).withColumn("price", F.col("price").cast("double"))
    ordered = base.repartition(1).sortWithinPartitions("date", "ts_ms", "symbol")
    trades = ["timestamp", "symbol", "price", "size"]
    datasets = {}

    def path(name):
        return os.path.join(out, name)

    def parquet(name, frame, settings=None, reference="reference", compression="snappy", partition_by=("date",), mode="overwrite", **options):
        writer = frame.write.mode(mode).option("compression", compression)
        for key, value in options.items():
            writer = writer.option(key, value)
        writer.partitionBy(*partition_by).parquet(path(name))
        datasets[name] = {"input": settings or {}, "reference": reference}

    def set_timestamp_type(kind):
        spark.conf.set("spark.sql.parquet.outputTimestampType", kind)

    set_timestamp_type("INT96")
    parquet("int96_snappy", ordered.select("date", *trades))
    set_timestamp_type("TIMESTAMP_MICROS")
    parquet("micros_gzip", ordered.select("date", *trades), compression="gzip")
    set_timestamp_type("TIMESTAMP_MILLIS")
    parquet("millis_lz4", ordered.select("date", *trades), compression="lz4")
    set_timestamp_type("TIMESTAMP_MICROS")
    parquet("ntz", ordered.select("date", F.col("timestamp").cast("timestamp_ntz").alias("timestamp"), "symbol", "price", "size"))
    parquet("long_nanos_zstd", ordered.select("date", (F.col("ts_ms") * 1_000_000).alias("timestamp"), "symbol", "price", "size"), compression="zstd")
    parquet("long_micros", ordered.select("date", F.unix_micros("timestamp").alias("timestamp"), "symbol", "price", "size"), {"timestamp_unit": "us"})
    parquet("long_millis", ordered.select("date", F.col("ts_ms").alias("timestamp"), "symbol", "price", "size"), {"timestamp_unit": "ms"})
    parquet(
        "long_seconds",
        ordered.select("date", F.col("timestamp").cast("long").alias("timestamp"), "symbol", "price", "size"),
        {"timestamp_unit": "s"},
        reference="reference_seconds",
    )
    parquet(
        "decimal",
        ordered.select("date", "timestamp", "symbol", F.col("price").cast(DecimalType(18, 4)).alias("price"), F.col("size").cast(DecimalType(12, 0)).alias("size")),
    )
    parquet("reordered_columns", ordered.select("date", "size", "price", "symbol", "timestamp"))
    parquet("symbol_from_path", ordered.select("date", *trades), partition_by=("date", "symbol"))
    # No sort: Spark guarantees no row order across (or within) part files.
    parquet("unordered", base.select("date", *trades).repartition(4))
    parquet("unordered_again", base.select("date", *trades).orderBy(F.rand(5)).repartition(3))
    morning = base.filter(F.col("ts_ms") % 86_400_000 < NOON_MS)
    afternoon = base.filter(F.col("ts_ms") % 86_400_000 >= NOON_MS)
    parquet("two_appends", afternoon.select("date", *trades).repartition(2))
    parquet("two_appends", morning.select("date", *trades).repartition(2), mode="append")
    parquet(
        "renamed",
        ordered.select("date", F.col("timestamp").alias("ts"), F.col("symbol").alias("Symbol"), F.col("price").alias("PRICE"), "size"),
        {"columns": {"timestamp": "ts"}},
    )
    parquet("dt_key", ordered.select(F.col("date").alias("dt"), *trades), {"partition_key": "dt"}, partition_by=("dt",))
    # A retried job re-delivers the morning: the trade id tells the copies from real trades.
    with_id = trades + ["trade_id"]
    parquet("redelivered", ordered.select("date", *with_id), {"trade_id": "trade_id"})
    parquet("redelivered", morning.select("date", *with_id).repartition(2), {"trade_id": "trade_id"}, mode="append")
    ordered.select("date", (F.col("ts_ms") * 1_000_000).alias("timestamp"), "symbol", "price", "size").write.mode("overwrite").option("header", True).partitionBy("date").csv(path("csv_nanos"))
    datasets["csv_nanos"] = {"input": {}, "reference": "reference"}
    ordered.select("date", *trades).write.mode("overwrite").option("header", True).partitionBy("date").csv(path("csv_iso"))
    datasets["csv_iso"] = {"input": {}, "reference": "reference"}
    spark.stop()
    with open(os.path.join(out, "datasets.json"), "w") as handle:
        json.dump({"spark": __import__("pyspark").__version__, "rows": len(rows), "dates": DATES, "datasets": datasets}, handle, indent=2)


if __name__ == "__main__":
    main()
