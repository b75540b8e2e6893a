#!/usr/bin/env bash
# Builds the unit tests with ASan + UBSan into build-asan/ and runs them in 2
# shards. -O0 -g1: a third of the compile time of -O1 -g, with line numbers in
# reports. The end-to-end tests that drive the qcal binary and the slow whole-model
# runs stay in the normal build (tests/CMakeLists.txt leaves e2e/ out under
# QCAL_SANITIZE). Any sanitizer report fails the run.
#   scripts/test_sanitize.sh [extra gtest filter, e.g. 'Npy*']
set -euo pipefail
cd "$(dirname "$0")/.."
B=build-asan
FILTER="${1:-*}"

launcher=$(command -v ccache >/dev/null && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache || true)
cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" -DQCAL_SANITIZE=ON \
  $launcher >/dev/null
cmake --build "$B" -j "$(nproc)" --target qcal_tests

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0
export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan_suppressions.txt:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
shards=2
pids=()
for i in $(seq 0 $((shards - 1))); do
  GTEST_TOTAL_SHARDS=$shards GTEST_SHARD_INDEX=$i "$B/tests/qcal_tests" --gtest_filter="$FILTER" \
    --gtest_brief=1 >"$B/shard$i.log" 2>&1 &
  pids+=($!)
done
status=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    status=1
    echo "=== sanitizer test shard $i failed:"
    cat "$B/shard$i.log"
  fi
done
grep -h "tests ran\|PASSED\|FAILED" "$B"/shard*.log || true
exit $status
