// ONNX (opsets 1-21) -> qcal IR.
#pragma once

#include <string>
#include <string_view>

#include "ir/graph.h"

namespace qcal {

// Parses an ONNX model file. Errors name the file and, for graph problems,
// the node name and op type.
Result<Graph> ImportOnnxFile(const std::string& path);
// Same, from serialized bytes; `origin` names the source in messages.
Result<Graph> ImportOnnxBytes(std::string_view bytes, const std::string& origin);

}  // namespace qcal
