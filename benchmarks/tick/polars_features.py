"""Peer implementation of the tick features in polars, timed, plus a parity check against ours.

usage: polars_features.py INPUT_ROOT OURS_OUTPUT_ROOT SYMBOL,SYMBOL,...  -> JSON on stdout
Same rules as src/workflows/tick: validation per partition, 1-minute bars per (date, symbol),
rolling features per symbol across days, forward return and label within the day.
"""
import glob, json, math, os, resource, sys, time
from datetime import datetime, timezone
import polars as pl

BAR_NS, HORIZONS, VOL_W, Z_W, H, DEAD_BAND = 60_000_000_000, (1, 5, 15), 30, 30, 5, 2e-4
DAY_NS = 86_400_000_000_000


def features(input_root: str, universe: list[str]) -> tuple[pl.DataFrame, int]:
    # Lazy scans, and each partition's day start as an integer literal: no per-row string
    # parsing, so polars' optimizer sees the whole query (projection, predicate pushdown).
    frames = []
    for file in sorted(glob.glob(os.path.join(input_root, "date=*", "*.arrow"))):
        date = file.split("date=")[1][:10]
        day_start_ns = int(datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp()) * 1_000_000_000
        frames.append(pl.scan_ipc(file).with_columns(pl.lit(date).alias("date"), pl.lit(day_start_ns, dtype=pl.Int64).alias("day_start")))
    trades = pl.concat(frames)
    rows = trades.select(pl.len()).collect().item()
    trades = trades.with_columns((pl.col("timestamp") - pl.col("day_start")).alias("nanos"))
    basic = (pl.col("nanos") >= 0) & (pl.col("nanos") < DAY_NS) & (pl.col("price") > 0) & (pl.col("size") >= 0) & pl.col("symbol").is_in(universe)
    valid = trades.filter(basic)
    previous_max = pl.col("nanos").cum_max().shift(1).over(["date", "symbol"]).fill_null(-1)
    accepted = valid.filter(pl.col("nanos") > previous_max)
    bars = (
        accepted.with_columns((pl.col("nanos") // BAR_NS).alias("bar"))
        .group_by(["symbol", "date", "bar"])
        .agg(
            pl.col("day_start").first(),
            pl.col("price").first().alias("open"), pl.col("price").max().alias("high"), pl.col("price").min().alias("low"),
            pl.col("price").last().alias("close"), pl.col("size").sum().alias("volume"),
            (pl.col("price") * pl.col("size")).sum().alias("notional"),
            (pl.col("side").cast(pl.Float64) * pl.col("size")).sum().alias("signed"), pl.len().alias("trade_count"),
        )
        .sort(["symbol", "date", "bar"])
    )
    close, volume = pl.col("close"), pl.col("volume")
    r1 = (close / close.shift(1)).log()
    out = bars.with_columns(
        *[(close / close.shift(h)).log().over("symbol").alias(f"return_{h}") for h in HORIZONS],
        (r1.pow(2).rolling_sum(VOL_W)).sqrt().over("symbol").alias("realized_volatility"),
        ((volume - volume.rolling_mean(Z_W)) / volume.rolling_std(Z_W)).over("symbol").alias("volume_zscore"),
        (close / (pl.col("notional") / volume) - 1).alias("vwap_deviation"),
        (pl.col("signed") / volume).alias("trade_sign_imbalance"),
        (pl.col("high") / pl.col("low")).log().alias("high_low_range"),
        (close.shift(-H) / close).log().over(["symbol", "date"]).alias("forward_return"),
    ).with_columns(
        pl.when(pl.col("forward_return") > DEAD_BAND).then(1).when(pl.col("forward_return") < -DEAD_BAND).then(-1)
        .when(pl.col("forward_return").is_not_null()).then(0).otherwise(None).cast(pl.Int8).alias("label"),
        (pl.col("day_start") + pl.col("bar") * BAR_NS).alias("bar_ns"),
    )
    return out.collect(), rows


COLUMNS = [f"return_{h}" for h in HORIZONS] + ["realized_volatility", "volume_zscore", "vwap_deviation", "trade_sign_imbalance", "high_low_range", "forward_return", "close", "volume", "trade_count"]


def parity(ours_root: str, theirs: pl.DataFrame) -> dict:
    ours = pl.concat([pl.read_ipc(f) for f in sorted(glob.glob(os.path.join(ours_root, "date=*", "features.arrow")))])
    ours = ours.with_columns(pl.col("bar_start").dt.epoch("ns").alias("bar_ns"))
    joined = ours.join(theirs, on=["symbol", "bar_ns"], how="full", suffix="_polars")
    result = {"ours_rows": ours.height, "polars_rows": theirs.height, "unmatched": joined.filter(pl.col("symbol").is_null() | pl.col("symbol_polars").is_null()).height, "max_relative_difference": {}}
    for name in COLUMNS:
        a = joined[name].cast(pl.Float64).fill_null(float("nan")).to_numpy()
        b = joined[f"{name}_polars"].cast(pl.Float64).fill_null(float("nan")).to_numpy()
        import numpy as np
        both_nan = np.isnan(a) & np.isnan(b)
        one_nan = np.isnan(a) ^ np.isnan(b)
        diff = np.where(both_nan, 0.0, np.abs(a - b) / np.maximum(1.0, np.maximum(np.abs(a), np.abs(b))))
        result["max_relative_difference"][name] = "NaN in one side only" if one_nan.any() else float(np.nanmax(diff))
    labels = joined.select((pl.col("label").fill_null(9) != pl.col("label_polars").fill_null(9)).sum()).item()
    result["label_mismatches"] = int(labels)
    result["ok"] = result["unmatched"] == 0 and labels == 0 and all(isinstance(v, float) and v <= 1e-9 for v in result["max_relative_difference"].values())
    return result


if __name__ == "__main__":
    input_root, ours_root, universe = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    frame, rows = features(input_root, universe)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    print(json.dumps({"engine": "polars", "version": pl.__version__, "threads": pl.thread_pool_size(), "rows": rows, "seconds": seconds, "cpu_seconds": cpu, "rows_per_second": rows / seconds, "parity": parity(ours_root, frame)}))
