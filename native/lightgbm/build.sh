#!/usr/bin/env bash
# Builds LightGBM's C API to WebAssembly from LightGBM's official source distribution on PyPI.
#
#   native/lightgbm/build.sh            rebuild into native/lightgbm/dist/ (the committed copy)
#   native/lightgbm/build.sh --check    rebuild into a temporary folder and compare the hashes
#                                       with the committed dist/ (exit 1 on any difference)
#
# Needs: python3 with pip (to fetch the sdist by name and version), Debian's `emscripten`
# package 3.1.6 (`apt-get install -y emscripten`), node. No CMake: LightGBM 4.6 asks for
# CMake >= 3.28, so the sources are compiled with em++ directly, with the definitions LightGBM's
# CMakeLists.txt sets for a socket build with OpenMP and without GPU, CUDA or MPI. OpenMP comes
# from openmp/ (Emscripten 3.1.6 has no OpenMP runtime): omp.h and kmp.c, LightGBM's
# `#pragma omp` loops on Emscripten pthreads; unwind.c replaces Emscripten's wasm unwinder,
# whose thread_local landing-pad context does not match clang 14's code in a pthreads build.
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
# The one change to LightGBM's sources, on the error path only. LightGBM 4.6's
# ThreadExceptionHelper rethrows the exception a parallel loop captured from OMP_THROW_EX() and
# then again from its destructor while the first one unwinds the stack: std::terminate (native
# lightgbm dies the same way, "terminate called without an active exception"). ReThrow() now
# forgets the exception it throws, so the C API returns -1 with LightGBM's message.
omp_wrapper="$source_dir/include/LightGBM/utils/openmp_wrapper.h"
[ "$(grep -c 'std::rethrow_exception(ex_ptr_);' "$omp_wrapper")" = 1 ] || { echo "build.sh: ThreadExceptionHelper::ReThrow not as expected in $omp_wrapper" >&2; exit 1; }
sed -i 's/std::rethrow_exception(ex_ptr_);/std::exception_ptr captured = ex_ptr_; ex_ptr_ = nullptr; std::rethrow_exception(captured);/' "$omp_wrapper"
objects_dir="$work/objects"
mkdir -p "$objects_dir"
# Copied next to the sources so that every path on a compiler command line is relative.
cp -r "$here/openmp" "$work/openmp"
emscripten_root="$(em-config EMSCRIPTEN_ROOT)"

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
# the histogram loops. -pthread -fopenmp: the `#pragma omp` loops run on worker threads
# sharing the wasm memory. Relative paths and -ffile-prefix-map keep the build folder out of
# __FILE__ strings so that two builds produce the same bytes.
compile_flags=(
  -std=c++11 -O3 -funroll-loops -msimd128 -fwasm-exceptions -pthread -fopenmp -I../openmp
  -DEIGEN_MPL2_ONLY -DEIGEN_DONT_PARALLELIZE -DUSE_SOCKET
  -Iinclude -Iexternal_libs/eigen -Iexternal_libs/fast_double_parser/include
  -Iexternal_libs/fmt/include
  "-ffile-prefix-map=$source_dir=."
  -Wno-unknown-pragmas -Wno-unused-private-field -Wno-deprecated-declarations
)
exported_functions="_malloc,_free,_podtrain_omp_start"
for name in $(grep -oE "LIGHTGBM_C_EXPORT [^(]*\(" "$source_dir/include/LightGBM/c_api.h" | grep -oE "LGBM_[A-Za-z0-9_]+"); do
  exported_functions="$exported_functions,_$name"
done
openmp_flags=(-O3 -msimd128 -pthread -Wall -Wextra -Werror)
unwind_flags=(-O3 -pthread -fwasm-exceptions -Wall -Werror -I"$emscripten_root/system/lib/libunwind/include")
# -sPTHREAD_POOL_SIZE: the loader starts this many Workers before the module resolves (the
# value of the `lightgbmWorkers` module option, at least 1: with 0 Emscripten 3.1.6 never
# resolves), so podtrain_omp_start never waits for a Worker while JavaScript is blocked in wasm.
# --wrap=__cxa_begin_catch: see openmp/unwind.c.
link_flags=(
  -O3 -msimd128 -fwasm-exceptions -pthread
  -sMODULARIZE=1 -sEXPORT_NAME=createLightGBMModule -sENVIRONMENT=node
  -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sWASM_BIGINT=1
  '-sPTHREAD_POOL_SIZE=(Module["lightgbmWorkers"]>0?Module["lightgbmWorkers"]:1)'
  -Wl,--wrap=__cxa_begin_catch
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
(
  cd "$work"
  emcc "${openmp_flags[@]}" -c openmp/kmp.c -o "$objects_dir/openmp_kmp.o"
  emcc "${unwind_flags[@]}" -c openmp/unwind.c -o "$objects_dir/openmp_unwind.o"
)
echo "build.sh: linking" >&2
# emcc decides the output kind from the suffix, so it writes .js and the file is renamed:
# the package is ESM ("type": "module") and the loader and its pthread worker script are
# CommonJS, hence .cjs (and the loader is told the worker script's new name).
em++ "${link_flags[@]}" "$objects_dir"/*.o -o "$work/lightgbm.js" 2> >(grep -v -e 'pthreads-mem-growth' -e 'USE_PTHREADS + ALLOW_MEMORY_GROWTH' >&2)
sed 's/locateFile("lightgbm\.worker\.js")/locateFile("lightgbm.worker.cjs")/' "$work/lightgbm.js" > "$work/lightgbm.cjs"
grep -q 'locateFile("lightgbm.worker.cjs")' "$work/lightgbm.cjs" || { echo "build.sh: worker script name not found in the loader" >&2; exit 1; }
rm "$work/lightgbm.js"
mv "$work/lightgbm.worker.js" "$work/lightgbm.worker.cjs"
elapsed=$(( $(date +%s) - started ))
echo "build.sh: compiled and linked in ${elapsed}s" >&2

sha() { sha256sum "$1" | cut -d' ' -f1; }
if [ "$mode" = "check" ]; then
  status=0
  for file in lightgbm.cjs lightgbm.worker.cjs lightgbm.wasm; do
    committed="$(sha "$here/dist/$file")"; rebuilt="$(sha "$work/$file")"
    if [ "$committed" = "$rebuilt" ]; then echo "ok        $file $rebuilt"
    else echo "DIFFERENT $file committed $committed rebuilt $rebuilt"; status=1; fi
  done
  exit "$status"
fi

dist="$here/dist"
mkdir -p "$dist"
cp "$work/lightgbm.cjs" "$work/lightgbm.worker.cjs" "$work/lightgbm.wasm" "$dist/"
cp "$source_dir/LICENSE" "$dist/LICENSE-LightGBM"
cp "$source_dir/external_libs/fmt/LICENSE" "$dist/LICENSE-fmt"
cp "$source_dir/external_libs/fast_double_parser/LICENSE" "$dist/LICENSE-fast_double_parser"
NODE_PATH= node --input-type=module -e '
  import { writeFileSync } from "node:fs";
  const [out, version, sdistSha, emcc, compile, openmp, unwind, link, cjsSha, workerSha, wasmSha, wasmBytes, seconds] = process.argv.slice(1);
  const info = {
    lightgbmVersion: version,
    source: `PyPI sdist lightgbm-${version}.tar.gz`,
    sdistSha256: sdistSha,
    emccVersion: emcc,
    compileFlags: JSON.parse(compile).filter((flag) => !flag.startsWith("-ffile-prefix-map")),
    openmpRuntimeFlags: JSON.parse(openmp),
    unwinderFlags: JSON.parse(unwind).map((flag) => flag.replace(/^-I.*\/system\//, "-I<emscripten>/system/")),
    linkFlags: JSON.parse(link).map((flag) => flag.startsWith("-sEXPORTED_FUNCTIONS") ? "-sEXPORTED_FUNCTIONS=[_malloc,_free,_podtrain_omp_start,_LGBM_* (all of c_api.h)]" : flag),
    outputs: {
      "lightgbm.cjs": { sha256: cjsSha },
      "lightgbm.worker.cjs": { sha256: workerSha },
      "lightgbm.wasm": { sha256: wasmSha, bytes: Number(wasmBytes) },
    },
    buildSeconds: Number(seconds),
  };
  writeFileSync(out, JSON.stringify(info, null, 2) + "\n");
' "$dist/BUILD-INFO.json" "$LIGHTGBM_VERSION" "$SDIST_SHA256" "$emcc_version" \
  "$(printf '%s\n' "${compile_flags[@]}" | node -e 'console.log(JSON.stringify(require("fs").readFileSync(0,"utf8").trim().split("\n")))')" \
  "$(printf '%s\n' "${openmp_flags[@]}" | node -e 'console.log(JSON.stringify(require("fs").readFileSync(0,"utf8").trim().split("\n")))')" \
  "$(printf '%s\n' "${unwind_flags[@]}" | node -e 'console.log(JSON.stringify(require("fs").readFileSync(0,"utf8").trim().split("\n")))')" \
  "$(printf '%s\n' "${link_flags[@]}" | node -e 'console.log(JSON.stringify(require("fs").readFileSync(0,"utf8").trim().split("\n")))')" \
  "$(sha "$dist/lightgbm.cjs")" "$(sha "$dist/lightgbm.worker.cjs")" "$(sha "$dist/lightgbm.wasm")" "$(stat -c %s "$dist/lightgbm.wasm")" "$elapsed"
echo "build.sh: wrote $dist" >&2
