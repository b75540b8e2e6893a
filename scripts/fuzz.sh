#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang + ASan + UBSan) into build-fuzz/ and
# runs each for SECONDS (default 60) on a corpus in build-fuzz/corpus/<target>/,
# seeded from tests/testdata, ../shared/testdata and fuzz/make_seeds.py (nothing
# is committed; the corpus grows across runs). Crashes land in
# build-fuzz/artifacts/<target>/; logs in build-fuzz/logs/. Prints execs, time
# and corpus size per target.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    (default: all targets)
#   FUZZ_PARALLEL=N  run N targets at once (default 1); FUZZ_NICE=19 to be polite.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
[ $# -gt 0 ] && shift
B=build-fuzz
TD=$(realpath -m ../shared/testdata)
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD/..}
scripts/install-deps.sh --fuzz

cmake -S . -B "$B" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DQCAL_FUZZ=ON -DQCAL_BUILD_TESTS=OFF \
  $(command -v ccache >/dev/null && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache) >/dev/null
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=($(sed -n 's/^qcal_fuzzer(\([a-z_]*\) .*/\1/p' fuzz/CMakeLists.txt))
fi
cmake --build "$B" -j "${FUZZ_BUILD_JOBS:-2}" --target "${TARGETS[@]}"

# Seeds: files of a kind from the test data (small ones; a few per folder kind).
seed_files() {  # target -> list of seed files
  local small="-size -300k"
  case "$1" in
    onnx_model_fuzzer) find tests/testdata "$TD" -name '*.onnx' $small ;;
    onnx_tensor_fuzzer) find tests/testdata "$TD" -name '*.pb' $small | sort | head -n 300 ;;
    caffe_prototxt_fuzzer) find "$TD" -name '*.prototxt' ;;
    caffemodel_fuzzer) find "$TD" -name '*.caffemodel' ;;
    npz_fuzzer) find "$TD" -name '*.npz' $small ;;
    image_fuzzer) find "$TD" -name '*.jpg' | sort | awk 'NR % 50 == 1' ;;
  esac
}
/usr/bin/python3 fuzz/make_seeds.py "$B/seeds"
for t in "${TARGETS[@]}"; do
  c="$B/corpus/$t"
  mkdir -p "$c" "$B/artifacts/$t" "$B/logs"
  seed_files "$t" | while read -r f; do cp -n "$f" "$c/seed_$(echo "$f" | md5sum | cut -c1-12)_$(basename "$f")"; done
  kind=${t%_fuzzer}
  [ -d "$B/seeds/$kind" ] && cp -n "$B/seeds/$kind"/* "$c/"
done

# A generous per-input timeout: on a shared machine a niced fuzzer can be starved for many seconds.
run_one() {
  local t=$1
  nice -n "${FUZZ_NICE:-0}" "$B/fuzz/$t" -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=120 \
    -print_final_stats=1 -artifact_prefix="$B/artifacts/$t/" "$B/corpus/$t" >"$B/logs/$t.log" 2>&1 || true
}
export -f run_one
export B SECS
printf '%s\n' "${TARGETS[@]}" | xargs -P "${FUZZ_PARALLEL:-1}" -I{} bash -c 'run_one {}'

printf '%-24s %12s %8s %8s %8s %s\n' target execs seconds corpus crashes slow-units
fail=0
for t in "${TARGETS[@]}"; do
  log="$B/logs/$t.log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
  crashes=$(ls "$B/artifacts/$t" | grep -c -E '^(crash|oom|timeout|leak)-' || true)
  slow=$(ls "$B/artifacts/$t" | grep -c '^slow-unit-' || true)
  [ "$crashes" -gt 0 ] && fail=1
  printf '%-24s %12s %8s %8s %8s %s\n' "$t" "${execs:-?}" "${secs:-?}" "$(ls "$B/corpus/$t" | wc -l)" "$crashes" "$slow"
done
[ $fail -eq 0 ] || echo "crash inputs in $B/artifacts/ (see $B/logs/)"
exit $fail
