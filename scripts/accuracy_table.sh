#!/usr/bin/env bash
# Accuracy table: FP32 and INT8 (fake-quant) top-1 of the reference models for
# every activation calibration method, as a markdown table on stdout.
# Uses only the qcal binary (plus coreutils/awk to make the image lists).
#
#   scripts/accuracy_table.sh                      # full table (CPU-heavy: tens of minutes on 2 cores)
#   QUICK=1 scripts/accuracy_table.sh              # smoke run: 200 evaluation images per model
#   QCAL=build/qcal TESTDATA=/path/to/testdata OUT=/tmp/acc METHODS="ifmr kl" MODELS="resnet20 lenet" scripts/accuracy_table.sh
#   WBITS="8 7" METHODS="ifmr hfmg" scripts/accuracy_table.sh   # a column per method and weight bit width
#
# Protocol (docs/accuracy.md):
#   CIFAR-10 ResNet-20/56: calibration = the first 256 images of the interleaved list (0000-0024 of every
#     class, then 0025 of the first six classes), 8 batches of 32; evaluation = the other 4,744 images.
#   MNIST LeNet (Caffe): calibration = the first 256 of the 5,000 idx images (4 x 64); evaluation = all 5,000.
#   ShuffleNet-v2: resize 256, crop 224, /255, ImageNet mean/std; calibration = the first 128 images
#     (sorted names, 8 x 16); evaluation = all 650. Its Reshapes fix the batch at 1: quantize (and eval,
#     for any --batch-size) notice it and run the model one image at a time (runtime/batch_runner.h);
#     eval is given --batch-size 1 so that it does not first try a whole batch.
# The wall time of each row and of the whole table goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
QCAL=${QCAL:-$here/build/qcal}
TESTDATA=${TESTDATA:-$here/../shared/testdata}
OUT=${OUT:-$(mktemp -d /tmp/qcal_accuracy.XXXXXX)}
METHODS=${METHODS:-"ifmr hfmg minmax percentile kl mse"}
WBITS=${WBITS:-8}  # weight bit widths (qcal quantize --weight-bits): 8, 7 or "8 7"
MODELS=${MODELS:-"resnet20 resnet56 lenet shufflenet"}
LIMIT=""
[[ -n "${QUICK:-}" ]] && LIMIT="--limit 200"
mkdir -p "$OUT"
# oneDNN's OpenMP threads busy-wait by default; on a shared machine that costs
# far more than it saves (ShuffleNet eval: ~40x slower wall time on 2 busy cores).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
log() { echo "[accuracy_table] $*" >&2; }

# CIFAR lists: a symlink keeps paths (and labels) relative to the list's folder.
cifar_lists() {
  local d=$OUT/cifar
  mkdir -p "$d"
  ln -sfn "$TESTDATA/cifar10_test_jpg" "$d/img"
  # Interleave classes: sort by image number, then class.
  tail -n +2 "$TESTDATA/cifar10_test_jpg/labels.csv" | awk -F'[/,]' '{print $2 "," $1 "/" $2 "," $3}' | sort |
    awk -F, '{print "img/" $2 "," $3}' >"$d/all.csv"
  head -n 256 "$d/all.csv" | cut -d, -f1 >"$d/calib.txt"
  tail -n +257 "$d/all.csv" | cut -d, -f1 >"$d/eval.txt"
  { echo "file,label"; cat "$d/all.csv"; } >"$d/labels.csv"
}

imagenet_lists() {
  local d=$OUT/imagenet
  mkdir -p "$d"
  ln -sfn "$TESTDATA/imagenet_val_subset/images" "$d/img"
  tail -n +2 "$TESTDATA/imagenet_val_subset/labels.csv" | sort | awk -F, '{print "img/" $1 "," $2}' >"$d/all.csv"
  head -n 128 "$d/all.csv" | cut -d, -f1 >"$d/calib.txt"
  cut -d, -f1 "$d/all.csv" >"$d/eval.txt"
  { echo "file,label"; cat "$d/all.csv"; } >"$d/labels.csv"
}

# run NAME "MODEL FLAGS" "CALIB FLAGS" "EVAL FLAGS" "PREPROCESSING" BATCH_NUM BATCH_SIZE EVAL_BATCH_SIZE
# Prints one markdown row.
run() {
  local name=$1 model=$2 calib=$3 eval=$4 pre=$5 bn=$6 bs=$7 ebs=$8 quantized=() m start=$SECONDS
  mkdir -p "$OUT/$name"
  for m in $METHODS; do
    for b in $WBITS; do
      log "$name: calibrating with $m, $b-bit weights"
      # shellcheck disable=SC2086
      "$QCAL" -q quantize $model $calib $pre --act-algo "$m" --weight-bits "$b" --batch-num "$bn" \
        --batch-size "$bs" --save-type fakequant --save-path "$OUT/$name/${m}_w$b" >/dev/null
      quantized+=(--quantized "$OUT/$name/${m}_w${b}_fake_quant_model.onnx")
    done
  done
  log "$name: evaluating FP32 and $((${#quantized[@]} / 2)) INT8 models"
  # shellcheck disable=SC2086
  "$QCAL" -q eval $model $eval $pre "${quantized[@]}" --batch-size "$ebs" $LIMIT >"$OUT/$name/eval.txt"
  # eval prints: model images top1% top5% path; first row fp32, then one per --quantized in order.
  awk -v name="$name" '
    $1 == "fp32" { images = $2; fp32 = $3 + 0; row = sprintf("| %s | %d | %.2f", name, images, fp32) }
    $1 == "int8" { v = $3 + 0; row = row sprintf(" | %.2f (%+.2f)", v, v - fp32) }
    END { print row " |" }' "$OUT/$name/eval.txt"
  log "$name: done in $((SECONDS - start)) s"
}

header="| model | eval images | FP32 top-1 |"
sep="|---|---|---|"
for m in $METHODS; do
  for b in $WBITS; do
    if [[ $b == 8 ]]; then header+=" INT8 $m |"; else header+=" INT8 $m, $b-bit w |"; fi
    sep+="---|"
  done
done
echo "$header"
echo "$sep"

cifar=$TESTDATA/cifar10_resnet_akamaster
cifar_pre="--scale 1/255 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225"
imagenet_pre="--resize 256 --crop 224 $cifar_pre"
for model in $MODELS; do
  case $model in
    resnet20 | resnet56)
      [[ -f $OUT/cifar/labels.csv ]] || cifar_lists
      run "cifar10_$model" "--model $cifar/cifar10_$model.onnx" "--data $OUT/cifar/calib.txt" \
        "--data $OUT/cifar/eval.txt --labels $OUT/cifar/labels.csv" "$cifar_pre" 8 32 50
      ;;
    lenet)
      lenet=$TESTDATA/mnist_lenet_caffe
      mnist="--data $TESTDATA/mnist_t10k_first5000/t10k-first5000-images-idx3-ubyte.gz"
      run mnist_lenet_caffe "--model $lenet/lenet.prototxt --weights $lenet/lenet_iter_10000.caffemodel" \
        "$mnist" "$mnist" "--scale 0.00390625" 4 64 64
      ;;
    shufflenet)
      [[ -f $OUT/imagenet/labels.csv ]] || imagenet_lists
      run imagenet_shufflenet_v2 "--model $TESTDATA/imagenet_shufflenet_v2/shufflenet-v2-12-dequantized-fp32.onnx" \
        "--data $OUT/imagenet/calib.txt" "--data $OUT/imagenet/eval.txt --labels $OUT/imagenet/labels.csv" \
        "$imagenet_pre" 8 16 1  # the model's Reshapes fix batch 1
      ;;
    *) echo "unknown model $model (resnet20 resnet56 lenet shufflenet)" >&2; exit 2 ;;
  esac
done
log "table done in $SECONDS s; outputs in $OUT"
