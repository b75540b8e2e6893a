// ONNX TensorProto (.pb files, as in ONNX test data sets) -> Tensor.
#pragma once

#include <string>
#include <string_view>

#include "ir/tensor.h"

namespace qcal {

struct NamedTensor {
  std::string name;  // TensorProto.name (may be empty)
  Tensor tensor;
};

// Parses a serialized TensorProto; `origin` names the source in errors.
Result<NamedTensor> ParseTensorProto(std::string_view bytes, const std::string& origin);
Result<NamedTensor> ReadTensorProtoFile(const std::string& path);

}  // namespace qcal
