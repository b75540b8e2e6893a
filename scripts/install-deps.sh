#!/usr/bin/env bash
# Installs everything qcal needs to build and test on Debian 12. Idempotent:
# packages already present are skipped, npm packages are installed once.
#   scripts/install-deps.sh [--fuzz]   (--fuzz: also clang for scripts/fuzz.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(cmake ninja-build g++ pkg-config
      libprotobuf-dev protobuf-compiler libonnx-dev libdnnl-dev
      nlohmann-json3-dev libcli11-dev libstb-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev
      libgtest-dev libgmock-dev libbenchmark-dev
      zlib1g-dev dataset-fashion-mnist
      jq)  # jq: bench/compare_ort.sh reads the benchmark JSON
# libFuzzer needs clang with its runtime; oneDNN's OpenMP build links libomp under clang.
[ "${1:-}" = --fuzz ] && PKGS+=(clang libclang-rt-dev libomp-dev)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm (for ONNX Runtime): Debian's nodejs+npm unless a Node.js with npm is already there.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "[install-deps] installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# ONNX Runtime (reference peer for tests and benchmarks): the CPU library ships
# inside npm onnxruntime-node; C/C++ headers come from com.github.asus4.onnxruntime.
ORT_DIR=.deps/ort
if [ ! -f "$ORT_DIR/lib/libonnxruntime.so" ] || [ ! -f "$ORT_DIR/include/onnxruntime_cxx_api.h" ]; then
  echo "[install-deps] installing ONNX Runtime from npm into $ORT_DIR"
  mkdir -p .deps/npm "$ORT_DIR/lib" "$ORT_DIR/include"
  (cd .deps/npm && [ -f package.json ] || echo '{"name":"qcal-deps","private":true}' > package.json)
  (cd .deps/npm && npm install --ignore-scripts --no-audit --no-fund --silent \
      onnxruntime-node@1.30.0 com.github.asus4.onnxruntime@0.4.9 >/dev/null)
  so=$(ls .deps/npm/node_modules/onnxruntime-node/bin/napi-v*/linux/x64/libonnxruntime.so.1* | head -n 1)
  cp "$so" "$ORT_DIR/lib/libonnxruntime.so.1"
  ln -sf libonnxruntime.so.1 "$ORT_DIR/lib/libonnxruntime.so"
  hdr=$(dirname "$(find .deps/npm/node_modules/com.github.asus4.onnxruntime -name onnxruntime_cxx_api.h | head -n 1)")
  cp "$hdr"/*.h "$ORT_DIR/include/"
fi
echo "[install-deps] ok"
