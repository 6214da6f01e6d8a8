#!/usr/bin/env bash
# Creates (or reuses) the pinned Python environments the tests and benchmarks drive:
#   .venv/tools    MLflow, reference LightGBM, polars/pandas
#   .venv/airflow  Apache Airflow and the cncf-kubernetes provider
#   .venv/keras    Keras 3 on tensorflow-cpu (the reference for benchmarks/)
#   .venv/spark    PySpark (writes the Spark datasets of the tick input contract tests; needs Java 17)
# Usage: scripts/python-env.sh [tools|airflow|spark ...]   (default: tools airflow spark)
# A venv is rebuilt only when its requirements file changed (hash stamp inside the venv).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PODTRAIN_PYTHON:-python3}"
# `npm run setup` caches the TensorFlow wheel here; pip takes it from there instead of downloading 274 MB again.
cache="${PODTRAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/podtrain}"
find_links=(); [ -d "$cache/wheels" ] && find_links=(--find-links "$cache/wheels")
names=("$@"); [ ${#names[@]} -gt 0 ] || names=(tools airflow airflow31 spark)
for name in "${names[@]}"; do
  requirements="$root/scripts/python/$name.txt"
  [ -f "$requirements" ] || { echo "python-env: no requirements file $requirements" >&2; exit 2; }
  venv="$root/.venv/$name"
  stamp="$venv/.requirements.sha256"
  wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then continue; fi
  echo "python-env: building $venv" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip >&2
  "$venv/bin/pip" install --quiet "${find_links[@]}" -r "$requirements" >&2
  echo "$wanted" > "$stamp"
done
