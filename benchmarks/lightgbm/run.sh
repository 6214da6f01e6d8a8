#!/usr/bin/env bash
# Compiles the LightGBM benchmark and runs it: wasm (this repository) against Python's native
# lightgbm 4.6.0 on the same generated data. Results go to benchmarks/results/.
# Usage: benchmarks/lightgbm/run.sh [--rows N] [--columns N] [--iterations N] [--leaves N]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
bash scripts/python-env.sh tools
npx tsc -p benchmarks/lightgbm/tsconfig.json
exec node dist/benchmarks/benchmarks/lightgbm/run.js "$@"
