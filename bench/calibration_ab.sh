#!/usr/bin/env bash
# Back-to-back A/B of calibration cost against the FP32 forward pass, for two
# qcal binaries (e.g. main's and a branch's) on a shared, loaded machine: for
# each batch_num, binary A's `bench --data` and HFMG `quantize`, then B's, so
# both see the same load. Prints seconds, peak RSS, the ratio HFMG / FP32 and
# whether the two record files are byte-identical.
#
# Usage: bench/calibration_ab.sh QCAL_A QCAL_B [OUT_DIR]   (default /tmp/qcal_calibration_ab)
# Environment (defaults): THREADS=1 ALGO=hfmg BATCH_NUMS="1 8 32" TESTDATA=<repo>/../shared/testdata
set -euo pipefail
unset OPENBLAS_CORETYPE
ROOT=$(cd "$(dirname "$0")/.." && pwd)
A=$1 B=$2 OUT=${3:-/tmp/qcal_calibration_ab}
THREADS=${THREADS:-1} ALGO=${ALGO:-hfmg} BATCH_NUMS=${BATCH_NUMS:-"1 8 32"}
TESTDATA=${TESTDATA:-$(cd "$ROOT/.." && pwd)/shared/testdata}
MODEL=$TESTDATA/cifar10_resnet_akamaster/cifar10_resnet56.onnx
DATA=(--data "$TESTDATA/cifar10_test_jpg" --scale 1/255 --mean "0.485,0.456,0.406" --std "0.229,0.224,0.225")
mkdir -p "$OUT"
echo "| binary | batch_num | FP32 s | FP32 RSS MiB | $ALGO s | $ALGO RSS MiB | ratio | load avg |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for n in $BATCH_NUMS; do
  for tag in A B; do
    q=$A; [ "$tag" = B ] && q=$B
    nice "$q" -q bench --model "$MODEL" "${DATA[@]}" --batch 32 --threads "$THREADS" --warmup 0 --runs "$n" \
      --report-json "$OUT/fp32_${tag}_$n.json" >/dev/null
    nice "$q" -q quantize --model "$MODEL" "${DATA[@]}" --batch-size 32 --batch-num "$n" --act-algo "$ALGO" \
      --threads "$THREADS" --save-type deploy --save-path "$OUT/${tag}_$n" --report-json "$OUT/cal_${tag}_$n.json" >/dev/null
    jq -r -s --arg t "$tag" --arg n "$n" '(.[0].mean_ms * .[0].runs / 1000) as $f |
      "| \($t) | \($n) | \($f * 100 | round / 100) | \(.[0].peak_rss_mib | round) | \(.[1].seconds * 100 | round / 100) | \(.[1].peak_rss_mib | round) | \(.[1].seconds / $f * 100 | round / 100) | \(.[1].load_avg_1m * 10 | round / 10) |"' \
      "$OUT/fp32_${tag}_$n.json" "$OUT/cal_${tag}_$n.json"
  done
  cmp -s "$OUT/A_${n}_record.txt" "$OUT/B_${n}_record.txt" && echo "(batch_num $n: records identical)" \
    || echo "(batch_num $n: records DIFFER)"
done
