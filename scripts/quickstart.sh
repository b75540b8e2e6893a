#!/usr/bin/env bash
# The main job on the bundled example: quantize the Fashion-MNIST CNN
# (models/fashion_mnist_cnn.onnx) with 4 x 32 training images, then print
# FP32 vs INT8 top-1 on the 10,000 test images.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
F=/usr/share/datasets/fashion-mnist
PRE=(--scale 1/255 --mean 0.2860 --std 0.3530)
OUT=out/fashion_mnist
build/qcal -q quantize --model models/fashion_mnist_cnn.onnx --data "$F/train-images-idx3-ubyte.gz" "${PRE[@]}" \
  --batch-num 4 --batch-size 32 --save-path "$OUT/fashion_mnist"
build/qcal -q eval --model models/fashion_mnist_cnn.onnx --quantized "$OUT/fashion_mnist_fake_quant_model.onnx" \
  --quantized "$OUT/fashion_mnist_deploy_model.onnx" --data "$F/t10k-images-idx3-ubyte.gz" "${PRE[@]}" \
  --batch-size 100 --report-json "$OUT/accuracy.json"
