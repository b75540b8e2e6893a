// ONNX model bytes -> import -> the whole LoadModel pipeline (support check,
// shape inference, constant folding, dead code elimination).
#include "frontends/onnx/onnx_importer.h"
#include "fuzz_util.h"
#include "runtime/model_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto graph = qcal::ImportOnnxBytes(qcal::fuzz::Bytes(data, size), "fuzz.onnx");
  qcal::fuzz::CheckError(graph.status());
  if (!graph.ok()) return 0;
  qcal::fuzz::CheckError(qcal::PrepareModel(*graph, {}, "fuzz.onnx"));
  return 0;
}
