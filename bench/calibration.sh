#!/usr/bin/env bash
# Calibration throughput and peak memory of `qcal quantize` against a plain FP32
# forward pass (`qcal bench --data`) over the same images, batch size 32:
# CIFAR ResNet-56 on the staged CIFAR-10 test JPEGs, for each activation
# algorithm and batch_num. Every figure includes reading and preprocessing the
# images (both commands read them the same way); peak RSS is the whole process.
#
# Usage: bench/calibration.sh [OUT_DIR]     (default /tmp/qcal_calibration)
# Environment (defaults): BUILD=build THREADS=2 ALGOS="hfmg ifmr" BATCH_NUMS="1 8 32" REPEATS=1
#   TESTDATA=<repo>/../shared/testdata
set -euo pipefail
unset OPENBLAS_CORETYPE  # as in compare_ort.sh: only inside the benchmark scripts

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-/tmp/qcal_calibration}
BUILD=${BUILD:-$ROOT/build}
THREADS=${THREADS:-2}
ALGOS=${ALGOS:-"hfmg ifmr"}
BATCH_NUMS=${BATCH_NUMS:-"1 8 32"}
REPEATS=${REPEATS:-1}  # FP32 / calibration pairs per batch_num; the ratio printed is their median
TESTDATA=${TESTDATA:-$(cd "$ROOT/.." && pwd)/shared/testdata}
MODEL=$TESTDATA/cifar10_resnet_akamaster/cifar10_resnet56.onnx
DATA=(--data "$TESTDATA/cifar10_test_jpg" --scale 1/255 --mean "0.485,0.456,0.406" --std "0.229,0.224,0.225")
mkdir -p "$OUT"
cmake --build "$BUILD" -j2 --target qcal >&2
QCAL=$BUILD/qcal

echo "| run | batch_num x 32 | images | images/s | peak RSS MiB | seconds | data loading s | load avg (1 min) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
declare -A RATIOS  # "algo n" -> the repeats' calibration / FP32 time ratios
for n in $BATCH_NUMS; do
  for r in $(seq 1 "$REPEATS"); do  # FP32 and calibration alternate, so both see the same load
    "$QCAL" -q bench --model "$MODEL" "${DATA[@]}" --batch 32 --threads "$THREADS" --warmup 0 --runs "$n" \
      --report-json "$OUT/fp32_forward_$n.json" >/dev/null
    jq -r --arg n "$n" '"| FP32 forward | \($n) | \(.runs * .batch) | \(.runs * .batch * 1000 / (.mean_ms * .runs) | . * 10 | round / 10) | \(.peak_rss_mib | round) | \(.mean_ms * .runs / 1000 | . * 100 | round / 100) | (included) | \(.load_avg_1m_before | . * 10 | round / 10) |"' \
      "$OUT/fp32_forward_$n.json"
    for algo in $ALGOS; do
      "$QCAL" -q quantize --model "$MODEL" "${DATA[@]}" --batch-size 32 --batch-num "$n" --act-algo "$algo" \
        --threads "$THREADS" --save-type deploy --save-path "$OUT/${algo}_$n" --report-json "$OUT/${algo}_$n.json" >/dev/null
      jq -r --arg n "$n" '"| calibration \(.act_algo) | \($n) | \(.images) | \(.images_per_s | . * 10 | round / 10) | \(.peak_rss_mib | round) | \(.seconds | . * 100 | round / 100) | \(.data_seconds | . * 100 | round / 100) | \(.load_avg_1m | . * 10 | round / 10) |"' \
        "$OUT/${algo}_$n.json"
      RATIOS["$algo $n"]+="$(jq -r -s '.[1].seconds / (.[0].mean_ms * .[0].runs / 1000)' \
        "$OUT/fp32_forward_$n.json" "$OUT/${algo}_$n.json") "
    done
  done
done
echo
echo "Calibration / FP32 time ratio, median of $REPEATS alternating runs (all runs in brackets):"
for n in $BATCH_NUMS; do
  for algo in $ALGOS; do
    sorted=$(echo ${RATIOS["$algo $n"]} | tr ' ' '\n' | sort -g | tr '\n' ' ')
    median=$(echo $sorted | awk '{print $(int((NF + 1) / 2))}')
    printf '  %s batch_num %s: %.2f [%s]\n' "$algo" "$n" "$median" \
      "$(echo $sorted | awk '{for (i = 1; i <= NF; ++i) printf "%s%.2f", (i > 1 ? " " : ""), $i}')"
  done
done
