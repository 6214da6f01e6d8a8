#!/usr/bin/env bash
# Builds LightGBM's C API to WebAssembly from LightGBM's official source distribution on PyPI.
#
#   native/lightgbm/build.sh            rebuild into native/lightgbm/dist/ (the committed copy)
#   native/lightgbm/build.sh --check    rebuild into a temporary folder and compare the hashes
#                                       with the committed dist/ (exit 1 on any difference)
#
# Needs: python3 with pip (to fetch the sdist by name and version), Debian's `emscripten`
# package 3.1.6 (`apt-get install -y emscripten`), node. No CMake: LightGBM 4.6 asks for
# CMake >= 3.28 and adds `-pthread` under Emscripten, so the sources are compiled with em++
# directly, with the same definitions LightGBM's CMakeLists.txt sets for a socket build
# without OpenMP, GPU, CUDA or MPI.
set -euo pipefail

readonly LIGHTGBM_VERSION="4.6.0"
# SHA-256 of lightgbm-4.6.0.tar.gz as published on PyPI.
readonly SDIST_SHA256="cb1c59720eb569389c0ba74d14f52351b573af489f230032a1c9f314f8bab7fe"
readonly EXPECTED_EMCC_VERSION="3.1.6"

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mode="build"
if [ "${1:-}" = "--check" ]; then mode="check"; elif [ -n "${1:-}" ]; then
  echo "usage: $0 [--check]" >&2; exit 2
fi

# Debian's emcc finds its JavaScript dependencies (acorn) only through NODE_PATH.
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
command -v em++ >/dev/null || { echo "build.sh: em++ not found; run: apt-get install -y emscripten" >&2; exit 2; }
emcc_version="$(emcc --version | head -n 1 | sed -E 's/.* ([0-9]+\.[0-9]+\.[0-9]+).*/\1/')"
if [ "$emcc_version" != "$EXPECTED_EMCC_VERSION" ]; then
  echo "build.sh: warning: emcc $emcc_version, the committed build used $EXPECTED_EMCC_VERSION; hashes will differ" >&2
fi

# The sdist is cached by content: a cached copy is reused only if its hash still matches.
cache="$root/.cache/lightgbm"
sdist="$cache/lightgbm-$LIGHTGBM_VERSION.tar.gz"
mkdir -p "$cache"
if [ ! -f "$sdist" ] || [ "$(sha256sum "$sdist" | cut -d' ' -f1)" != "$SDIST_SHA256" ]; then
  rm -f "$sdist"
  # --no-binary=lightgbm (not :all:) so that pip may use wheels for the sdist's build backend
  # when it reads the metadata; with :all: it compiles CMake itself from source first.
  python3 -m pip download --quiet --no-deps --no-binary=lightgbm \
    "lightgbm==$LIGHTGBM_VERSION" -d "$cache" >&2
fi
actual_sha256="$(sha256sum "$sdist" | cut -d' ' -f1)"
if [ "$actual_sha256" != "$SDIST_SHA256" ]; then
  echo "build.sh: SHA-256 mismatch for $sdist: got $actual_sha256, want $SDIST_SHA256" >&2
  exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/lightgbm-wasm.XXXXXX")"
trap 'rm -rf "$work"' EXIT
tar -xzf "$sdist" -C "$work"
source_dir="$work/lightgbm-$LIGHTGBM_VERSION"
objects_dir="$work/objects"
mkdir -p "$objects_dir"

# The list LightGBM's CMakeLists.txt names LGBM_SOURCES (without CUDA) plus the C API.
sources=(
  src/boosting/boosting.cpp src/boosting/gbdt_model_text.cpp src/boosting/gbdt_prediction.cpp
  src/boosting/gbdt.cpp src/boosting/prediction_early_stop.cpp src/boosting/sample_strategy.cpp
  src/io/bin.cpp src/io/config_auto.cpp src/io/config.cpp src/io/dataset_loader.cpp
  src/io/dataset.cpp src/io/file_io.cpp src/io/json11.cpp src/io/metadata.cpp src/io/parser.cpp
  src/io/train_share_states.cpp src/io/tree.cpp
  src/metric/dcg_calculator.cpp src/metric/metric.cpp
  src/network/linker_topo.cpp src/network/linkers_mpi.cpp src/network/linkers_socket.cpp
  src/network/network.cpp
  src/objective/objective_function.cpp
  src/treelearner/data_parallel_tree_learner.cpp src/treelearner/feature_histogram.cpp
  src/treelearner/feature_parallel_tree_learner.cpp src/treelearner/gpu_tree_learner.cpp
  src/treelearner/gradient_discretizer.cpp src/treelearner/linear_tree_learner.cpp
  src/treelearner/serial_tree_learner.cpp src/treelearner/tree_learner.cpp
  src/treelearner/voting_parallel_tree_learner.cpp
  src/utils/openmp_wrapper.cpp
  src/c_api.cpp
)

# -fwasm-exceptions: LightGBM reports errors by throwing; with native wasm exceptions the C API
# catches them and returns -1, and the module stays usable. -msimd128 lets clang vectorise
# the histogram loops. Relative paths and -ffile-prefix-map keep the build folder out of
# __FILE__ strings so that two builds produce the same bytes.
compile_flags=(
  -std=c++11 -O3 -funroll-loops -msimd128 -fwasm-exceptions
  -DEIGEN_MPL2_ONLY -DEIGEN_DONT_PARALLELIZE -DUSE_SOCKET
  -Iinclude -Iexternal_libs/eigen -Iexternal_libs/fast_double_parser/include
  -Iexternal_libs/fmt/include
  "-ffile-prefix-map=$source_dir=."
  -Wno-unknown-pragmas -Wno-unused-private-field -Wno-deprecated-declarations
)
exported_functions="_malloc,_free"
for name in $(grep -oE "LIGHTGBM_C_EXPORT [^(]*\(" "$source_dir/include/LightGBM/c_api.h" | grep -oE "LGBM_[A-Za-z0-9_]+"); do
  exported_functions="$exported_functions,_$name"
done
link_flags=(
  -O3 -msimd128 -fwasm-exceptions
  -sMODULARIZE=1 -sEXPORT_NAME=createLightGBMModule -sENVIRONMENT=node
  -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sWASM_BIGINT=1
  "-sEXPORTED_FUNCTIONS=[$exported_functions]"
)

started="$(date +%s)"
echo "build.sh: compiling ${#sources[@]} sources with $(nproc) jobs" >&2
(
  cd "$source_dir"
  printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -I{} sh -c '
    object="$0/$(echo "{}" | tr / _).o"
    em++ "$@" -c "{}" -o "$object"' "$objects_dir" "${compile_flags[@]}"
)
echo "build.sh: linking" >&2
# emcc decides the output kind from the suffix, so it writes .js and the file is renamed:
# the package is ESM ("type": "module") and the loader is CommonJS, hence .cjs.
em++ "${link_flags[@]}" "$objects_dir"/*.o -o "$work/lightgbm.js"
mv "$work/lightgbm.js" "$work/lightgbm.cjs"
elapsed=$(( $(date +%s) - started ))
echo "build.sh: compiled and linked in ${elapsed}s" >&2

sha() { sha256sum "$1" | cut -d' ' -f1; }
if [ "$mode" = "check" ]; then
  status=0
  for file in lightgbm.cjs lightgbm.wasm; do
    committed="$(sha "$here/dist/$file")"; rebuilt="$(sha "$work/$file")"
    if [ "$committed" = "$rebuilt" ]; then echo "ok        $file $rebuilt"
    else echo "DIFFERENT $file committed $committed rebuilt $rebuilt"; status=1; fi
  done
  exit "$status"
fi

dist="$here/dist"
mkdir -p "$dist"
cp "$work/lightgbm.cjs" "$work/lightgbm.wasm" "$dist/"
cp "$source_dir/LICENSE" "$dist/LICENSE-LightGBM"
cp "$source_dir/external_libs/fmt/LICENSE" "$dist/LICENSE-fmt"
cp "$source_dir/external_libs/fast_double_parser/LICENSE" "$dist/LICENSE-fast_double_parser"
NODE_PATH= node --input-type=module -e '
  import { writeFileSync } from "node:fs";
  const [out, version, sdistSha, emcc, compile, link, cjsSha, wasmSha, wasmBytes, seconds] = process.argv.slice(1);
  const info = {
    lightgbmVersion: version,
    source: `PyPI sdist lightgbm-${version}.tar.gz`,
    sdistSha256: sdistSha,
    emccVersion: emcc,
    compileFlags: JSON.parse(compile).filter((flag) => !flag.startsWith("-ffile-prefix-map")),
    linkFlags: JSON.parse(link).map((flag) => flag.startsWith("-sEXPORTED_FUNCTIONS") ? "-sEXPORTED_FUNCTIONS=[_malloc,_free,_LGBM_* (all of c_api.h)]" : flag),
    outputs: {
      "lightgbm.cjs": { sha256: cjsSha },
      "lightgbm.wasm": { sha256: wasmSha, bytes: Number(wasmBytes) },
    },
    buildSeconds: Number(seconds),
  };
  writeFileSync(out, JSON.stringify(info, null, 2) + "\n");
' "$dist/BUILD-INFO.json" "$LIGHTGBM_VERSION" "$SDIST_SHA256" "$emcc_version" \
  "$(printf '%s\n' "${compile_flags[@]}" | node -e 'console.log(JSON.stringify(require("fs").readFileSync(0,"utf8").trim().split("\n")))')" \
  "$(printf '%s\n' "${link_flags[@]}" | node -e 'console.log(JSON.stringify(require("fs").readFileSync(0,"utf8").trim().split("\n")))')" \
  "$(sha "$dist/lightgbm.cjs")" "$(sha "$dist/lightgbm.wasm")" "$(stat -c %s "$dist/lightgbm.wasm")" "$elapsed"
echo "build.sh: wrote $dist" >&2
