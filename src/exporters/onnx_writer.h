// qcal IR -> ONNX ModelProto bytes / file. Used for the fake-quant and deploy
// models. Serialization is deterministic: the same graph gives the same bytes.
#pragma once

#include <string>

#include "ir/graph.h"

namespace qcal {

struct OnnxWriteOptions {
  int64_t min_opset = 13;  // QuantizeLinear/DequantizeLinear per-axis need 13
  std::string producer_name = "qcal";
  std::string doc_string;
};

Result<std::string> SerializeOnnx(const Graph& graph, const OnnxWriteOptions& options = {});
// Writes atomically (temp file + rename).
Status WriteOnnxFile(const Graph& graph, const std::string& path, const OnnxWriteOptions& options = {});

}  // namespace qcal
