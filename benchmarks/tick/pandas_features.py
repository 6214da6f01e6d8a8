"""Peer implementation of the tick features in pandas (the eager, single-threaded tool most
desks start from), timed, plus the same parity check against ours as the polars peer.

usage: pandas_features.py INPUT_ROOT OURS_OUTPUT_ROOT SYMBOL,SYMBOL,...  -> JSON on stdout
Same rules as polars_features.py, step by step: validation per partition, 1-minute bars per
(date, symbol), rolling features per symbol across days, forward return and label within the day.
"""
import glob, json, os, resource, sys, time
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import polars as pl
import pyarrow.feather as feather

from polars_features import BAR_NS, DAY_NS, DEAD_BAND, H, HORIZONS, VOL_W, Z_W, parity


def features(input_root: str, universe: list[str]) -> tuple[pd.DataFrame, int]:
    frames = []
    for file in sorted(glob.glob(os.path.join(input_root, "date=*", "*.arrow"))):
        date = file.split("date=")[1][:10]
        day_start_ns = int(datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp()) * 1_000_000_000
        frame = feather.read_table(file).to_pandas()
        frame["date"] = date
        frame["day_start"] = np.int64(day_start_ns)
        frames.append(frame)
    trades = pd.concat(frames, ignore_index=True)
    rows = len(trades)
    trades["nanos"] = trades["timestamp"] - trades["day_start"]
    basic = (trades["nanos"] >= 0) & (trades["nanos"] < DAY_NS) & (trades["price"] > 0) & (trades["size"] >= 0) & trades["symbol"].isin(universe)
    valid = trades[basic]
    keys = [valid["date"], valid["symbol"]]
    previous_max = valid["nanos"].groupby(keys, sort=False).cummax().groupby(keys, sort=False).shift(1).fillna(-1)
    accepted = valid[valid["nanos"] > previous_max].copy()
    accepted["bar"] = accepted["nanos"] // BAR_NS
    accepted["notional"] = accepted["price"] * accepted["size"]
    accepted["signed"] = accepted["side"].astype("float64") * accepted["size"]
    bars = (
        accepted.groupby(["symbol", "date", "bar"], sort=True)
        .agg(day_start=("day_start", "first"), open=("price", "first"), high=("price", "max"), low=("price", "min"), close=("price", "last"),
             volume=("size", "sum"), notional=("notional", "sum"), signed=("signed", "sum"), trade_count=("price", "size"))
        .reset_index()
    )
    by_symbol = bars.groupby("symbol", sort=False)
    close, volume = bars["close"], bars["volume"]
    for h in HORIZONS:
        bars[f"return_{h}"] = np.log(close / by_symbol["close"].shift(h))
    r1_squared = np.log(close / by_symbol["close"].shift(1)) ** 2
    bars["realized_volatility"] = np.sqrt(r1_squared.groupby(bars["symbol"], sort=False).rolling(VOL_W).sum().reset_index(level=0, drop=True))
    rolling_volume = volume.groupby(bars["symbol"], sort=False).rolling(Z_W)
    mean = rolling_volume.mean().reset_index(level=0, drop=True)
    std = volume.groupby(bars["symbol"], sort=False).rolling(Z_W).std().reset_index(level=0, drop=True)
    bars["volume_zscore"] = (volume - mean) / std
    bars["vwap_deviation"] = close / (bars["notional"] / volume) - 1
    bars["trade_sign_imbalance"] = bars["signed"] / volume
    bars["high_low_range"] = np.log(bars["high"] / bars["low"])
    bars["forward_return"] = np.log(bars.groupby(["symbol", "date"], sort=False)["close"].shift(-H) / close)
    forward = bars["forward_return"]
    label = np.where(forward > DEAD_BAND, 1, np.where(forward < -DEAD_BAND, -1, 0)).astype("float64")
    bars["label"] = pd.array(np.where(forward.isna(), np.nan, label), dtype="Int8")
    bars["bar_ns"] = bars["day_start"] + bars["bar"] * BAR_NS
    return bars, rows


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    input_root, ours_root, universe = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    frame, rows = features(input_root, universe)
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    check = parity(ours_root, pl.from_pandas(frame))
    print(json.dumps({"engine": "pandas", "version": pd.__version__, "threads": 1, "rows": rows, "seconds": seconds, "cpu_seconds": cpu, "rows_per_second": rows / seconds, "parity": check}))
