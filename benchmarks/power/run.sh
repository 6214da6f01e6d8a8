#!/usr/bin/env bash
# `train power` end to end (read, hourly features, LightGBM fit with early stopping, evaluation,
# report, local MLflow store) on synthetic UCI-format files: a full year (525,600 minutes) and the
# real file's length (2,076,480 minutes), at 1 and N LightGBM threads, two rounds each.
# Prints wall, CPU (user + sys) and peak RSS per run from /usr/bin/time.
# Usage: benchmarks/power/run.sh [threads...]   (default: 1 and the CPUs of this machine)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
[ -f dist/cli/main.js ] || npm run build >/dev/null
work="${PODTRAIN_BENCH_WORK:-$root/.cache/power-benchmark}"
mkdir -p "$work"
threads=("$@")
[ ${#threads[@]} -gt 0 ] || threads=(1 "$(nproc)")
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs; node $(node --version)"
for days in 365 1442; do
  file="$work/power-$days.txt"
  [ -f "$file" ] || node bin/train.js power generate --out "$file" --days "$days" --seed 1 >&2
  for count in "${threads[@]}"; do
    for round in 1 2; do
      rm -rf "$work/mlruns"
      load="$(cut -d' ' -f1-3 /proc/loadavg)"
      timing="$( { /usr/bin/time -f 'wall_s=%e user_s=%U sys_s=%S peak_rss_kb=%M' \
        node bin/train.js power --data-file "$file" --threads "$count" --tracking-uri "$work/mlruns" \
        --no-register --quiet --log-format json >/dev/null; } 2>&1 | tail -n 1)"
      echo "days=$days threads=$count round=$round load_before=\"$load\" $timing"
    done
  done
done
