#include "frontends/onnx/onnx_importer.h"

namespace qcal {

Result<Graph> ImportOnnxFile(const std::string& path) {
  return Unsupported("ONNX import is not implemented yet: " + path);
}

Result<Graph> ImportOnnxBytes(std::string_view, const std::string& origin) {
  return Unsupported("ONNX import is not implemented yet: " + origin);
}

}  // namespace qcal
