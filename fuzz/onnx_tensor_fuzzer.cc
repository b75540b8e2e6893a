// ONNX TensorProto bytes (test data .pb files, `qcal run --input x.pb`).
#include "frontends/onnx/onnx_tensor.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto t = qcal::ParseTensorProto(qcal::fuzz::Bytes(data, size), "fuzz.pb");
  qcal::fuzz::CheckError(t.status());
  return 0;
}
