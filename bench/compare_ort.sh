#!/usr/bin/env bash
# qcal vs ONNX Runtime, FP32 and INT8, batch 1, in one run:
#   1. builds qcal, qcal_ort_bench and qcal_make_resnet50 (QCAL_BUILD_BENCH=ON) in $BUILD;
#   2. writes a ResNet-50-shaped conv stack (no BN, random weights) and random calibration data;
#   3. quantizes every model with `qcal quantize` (real images where staged) -> QDQ deploy models;
#   4. times FP32 and the INT8 deploy model in qcal (`qcal bench`) and in ORT (`qcal_ort_bench`,
#      graph optimizations on, so ORT fuses QDQ into QLinearConv) at each thread count, after an
#      idle check, alternating qcal and ORT, $REPEATS processes each;
#   5. prints a markdown table (median of all timed runs, p10/p90, images/s, qcal/ORT ratio)
#      and keeps every JSON report in $OUT.
#
# Usage: bench/compare_ort.sh [OUT_DIR]      (default /tmp/qcal_compare_ort)
# Environment knobs (defaults): BUILD=build THREADS="1 2" REPEATS=3 RUNS=20 WARMUP=3
#   MAX_SECONDS=20 (per process; slow reference kernels stop early, at least 3 runs)
#   MODELS="resnet56 shufflenet ultraface resnet50" IDLE_BUSY=25 (% CPU) IDLE_WAIT=60 (s)
#   WEIGHT_BITS="8 7": one INT8 deploy model per weight bit width (rows INT8 and INT8W7; 7-bit
#   weights let qcal run one exact oneDNN int8 primitive per conv on CPUs without VNNI)
#   TESTDATA=<repo>/../shared/testdata
set -euo pipefail

# Only in this script: the environment's OPENBLAS_CORETYPE=Haswell halves OpenBLAS on this
# machine (see /work/shared/reference/runtimes-and-machine.md); neither runtime should inherit it.
unset OPENBLAS_CORETYPE

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-/tmp/qcal_compare_ort}
BUILD=${BUILD:-$ROOT/build}
THREADS=${THREADS:-"1 2"}
REPEATS=${REPEATS:-3}
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}
MAX_SECONDS=${MAX_SECONDS:-20}
MODELS=${MODELS:-"resnet56 shufflenet ultraface resnet50"}
WEIGHT_BITS=${WEIGHT_BITS:-"8 7"}
IDLE_BUSY=${IDLE_BUSY:-25}
IDLE_WAIT=${IDLE_WAIT:-60}
TESTDATA=${TESTDATA:-$(cd "$ROOT/.." && pwd)/shared/testdata}
mkdir -p "$OUT/json" "$OUT/models"
RESULTS=$OUT/results.tsv

log() { echo "[compare_ort] $*" >&2; }

build() {
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DQCAL_BUILD_BENCH=ON >/dev/null
  cmake --build "$BUILD" -j2 --target qcal qcal_ort_bench qcal_make_resnet50 >&2
  QCAL=$BUILD/qcal
  ORT_BENCH=$BUILD/bench/qcal_ort_bench
  [ -x "$ORT_BENCH" ] || { log "qcal_ort_bench was not built: install ONNX Runtime (scripts/install-deps.sh)"; exit 1; }
}

# CPU busy % (all cores) over one second, from /proc/stat.
cpu_busy() {
  local a b c d e f g h t1 i1 t2 i2
  read -r _ a b c d e f g h _ </proc/stat; t1=$((a + b + c + d + e + f + g + h)); i1=$((d + e))
  sleep 1
  read -r _ a b c d e f g h _ </proc/stat; t2=$((a + b + c + d + e + f + g + h)); i2=$((d + e))
  echo $((100 * ((t2 - t1) - (i2 - i1)) / (t2 - t1 > 0 ? t2 - t1 : 1)))
}

# Waits up to IDLE_WAIT s for the CPU to be under IDLE_BUSY % busy; warns if it never is.
# Sets BUSY (last % busy) and LOAD (1-minute load average).
wait_idle() {
  local waited=0
  BUSY=$(cpu_busy)
  while [ "$BUSY" -ge "$IDLE_BUSY" ] && [ "$waited" -lt "$IDLE_WAIT" ]; do
    waited=$((waited + 1))
    BUSY=$(cpu_busy)
  done
  LOAD=$(cut -d' ' -f1 /proc/loadavg)
  if [ "$BUSY" -ge "$IDLE_BUSY" ]; then
    log "warning: CPU still ${BUSY}% busy after ${IDLE_WAIT}s (load average $LOAD); measuring anyway"
  fi
}

# model_info NAME -> "FP32_MODEL|QUANTIZE_DATA_FLAGS"
model_info() {
  local imagenet="--scale 1/255 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225"
  case "$1" in
    resnet56) echo "$TESTDATA/cifar10_resnet_akamaster/cifar10_resnet56.onnx|--data $TESTDATA/cifar10_test_jpg $imagenet" ;;
    shufflenet) echo "$TESTDATA/imagenet_shufflenet_v2/shufflenet-v2-12-dequantized-fp32.onnx|--data $TESTDATA/imagenet_val_subset/images --resize 256 --crop 224 $imagenet" ;;
    ultraface) echo "$TESTDATA/ultraface_RFB-320/version-RFB-320_simplified.onnx|--data $TESTDATA/ultraface_RFB-320/images --resize 240,320 --mean 127 --std 128" ;;
    resnet50) echo "$OUT/models/resnet50_nobn.onnx|--data $OUT/models/resnet50_calib.npy" ;;
    *) log "unknown model '$1'"; exit 2 ;;
  esac
}

# Precision label of an INT8 model with BITS-bit weights: int8 (8), int8w7 (7).
int8_label() { if [ "$1" = 8 ]; then echo int8; else echo "int8w$1"; fi; }

# quantize NAME BITS: writes $OUT/models/NAME_wBITS_deploy_model.onnx (8 x 2 calibration images, IFMR).
quantize() {
  local info fp32 data
  info=$(model_info "$1"); fp32=${info%%|*}; data=${info#*|}
  if [ "$1" = resnet50 ] && [ ! -f "$fp32" ]; then
    "$BUILD/bench/qcal_make_resnet50" "$fp32" "$OUT/models/resnet50_calib.npy" 16 >&2
  fi
  # shellcheck disable=SC2086  # $data is a list of flags
  if ! "$QCAL" -q quantize --model "$fp32" $data --batch-size 8 --batch-num 2 --save-type deploy \
      --weight-bits "$2" --save-path "$OUT/models/$1_w$2" >"$OUT/models/$1_w$2_quantize.log" 2>&1; then
    log "qcal quantize failed for $1 (see $OUT/models/$1_w$2_quantize.log); $(int8_label "$2") rows skipped"
    return 1
  fi
}

# measure NAME PRECISION MODEL_FILE THREADS REP: one qcal and one ORT process.
measure() {
  local name=$1 prec=$2 file=$3 thr=$4 rep=$5 rt json
  for rt in qcal ort; do
    json=$OUT/json/${name}_${prec}_t${thr}_${rt}_${rep}.json
    wait_idle
    local cmd=("$ORT_BENCH")
    [ "$rt" = qcal ] && cmd=("$QCAL" -q bench)
    if "${cmd[@]}" --model "$file" --batch 1 --threads "$thr" --warmup "$WARMUP" --runs "$RUNS" \
        --max-seconds "$MAX_SECONDS" --report-json "$json" >/dev/null 2>"$json.err"; then
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$prec" "$thr" "$rt" "$json" "$BUSY" "$LOAD" >>"$RESULTS"
      log "$name $prec t$thr $rt #$rep: $(jq -r '"median \(.median_ms) ms, \(.runs) runs"' "$json") (busy $BUSY%, load $LOAD)"
    else
      log "$name $prec t$thr $rt failed: $(head -c 300 "$json.err")"
    fi
  done
}

# Pooled stats of every timed run of one (model, precision, threads, runtime) as
# "median p10 p90 images_per_s mean_load", or "-" when nothing was measured.
pooled() {
  local files
  files=$(awk -F'\t' -v m="$1" -v p="$2" -v t="$3" -v r="$4" '$1==m && $2==p && $3==t && $4==r {print $5}' "$RESULTS")
  [ -n "$files" ] || { echo "-"; return; }
  local load
  load=$(awk -F'\t' -v m="$1" -v p="$2" -v t="$3" -v r="$4" \
    '$1==m && $2==p && $3==t && $4==r {s+=$7; n++} END {printf "%.1f", s/n}' "$RESULTS")
  # shellcheck disable=SC2086  # one argument per JSON file
  jq -s -r --arg load "$load" '
    def pct(q): ((length - 1) * q) as $pos | ($pos | floor) as $lo | ([$lo + 1, length - 1] | min) as $hi
                | .[$lo] + ($pos - $lo) * (.[$hi] - .[$lo]);
    ([.[].times_ms[]] | sort) as $t | ($t | pct(0.5)) as $m
    | "\($m) \($t | pct(0.1)) \($t | pct(0.9)) \(1000 / $m) \($load)"' $files
}

# Ratio of the qcal and ORT process medians of each repeat (the two ran back to
# back, so they saw the same host), as "median (min-max)" over the repeats, or "-".
paired() {
  local rep q o ratios=()
  for rep in $(seq 1 "$REPEATS"); do
    q=$OUT/json/${1}_${2}_t${3}_qcal_${rep}.json; o=$OUT/json/${1}_${2}_t${3}_ort_${rep}.json
    [ -f "$q" ] && [ -f "$o" ] && ratios+=("$(jq -r -s '.[0].median_ms / .[1].median_ms' "$q" "$o")")
  done
  [ ${#ratios[@]} -gt 0 ] || { echo "-"; return; }
  printf '%s\n' "${ratios[@]}" | sort -g | awk '{v[NR] = $1} END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.2f (%.2f-%.2f)", m, v[1], v[NR] }'
}

table() {
  echo "| model | precision | threads | qcal median ms (p10-p90) | qcal img/s | ORT median ms (p10-p90) | ORT img/s | qcal/ORT latency | per-repeat qcal/ORT: median (min-max) | load avg (1 min) |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  local name prec thr q o
  for name in $MODELS; do
    local precs="fp32" bits
    for bits in $WEIGHT_BITS; do precs="$precs $(int8_label "$bits")"; done
    for prec in $precs; do
      for thr in $THREADS; do
        q=$(pooled "$name" "$prec" "$thr" qcal); o=$(pooled "$name" "$prec" "$thr" ort)
        [ "$q" = "-" ] && [ "$o" = "-" ] && continue
        echo "$q|$o" | awk -F'|' -v n="$name" -v p="$prec" -v t="$thr" -v pr="$(paired "$name" "$prec" "$thr")" '
          function cell(s,  a) { if (s == "-") return "- | -"; split(s, a, " ");
                                 return sprintf("%.2f (%.2f-%.2f) | %.1f", a[1], a[2], a[3], a[4]) }
          { split($1, q, " "); split($2, o, " ");
            ratio = ($1 == "-" || $2 == "-") ? "-" : sprintf("%.2f", q[1] / o[1]);
            load = ($1 == "-") ? o[5] : ($2 == "-") ? q[5] : sprintf("%.1f / %.1f", q[5], o[5]);
            printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", n, toupper(p), t, cell($1), cell($2), ratio, pr, load }'
      done
    done
  done
}

main() {
  build
  : >"$RESULTS"
  log "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  declare -A int8
  local name info bits
  for name in $MODELS; do
    for bits in $WEIGHT_BITS; do
      if quantize "$name" "$bits"; then int8[$name.$bits]=$OUT/models/${name}_w${bits}_deploy_model.onnx; fi
    done
  done
  local rep thr
  for rep in $(seq 1 "$REPEATS"); do
    for name in $MODELS; do
      info=$(model_info "$name")
      for thr in $THREADS; do
        measure "$name" fp32 "${info%%|*}" "$thr" "$rep"
        for bits in $WEIGHT_BITS; do
          if [ -n "${int8[$name.$bits]:-}" ]; then
            measure "$name" "$(int8_label "$bits")" "${int8[$name.$bits]}" "$thr" "$rep"
          fi
        done
      done
    done
  done
  table | tee "$OUT/table.md"
  log "JSON reports: $OUT/json; table: $OUT/table.md"
}

main "$@"
