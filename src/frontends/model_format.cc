#include "frontends/model_format.h"

#include <algorithm>

#include "frontends/onnx/onnx_importer.h"

namespace qcal {
namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  std::string tail = s.substr(s.size() - suffix.size());
  std::transform(tail.begin(), tail.end(), tail.begin(), ::tolower);
  return tail == suffix;
}

Result<Graph> ImportOnnxModel(const ModelFiles& f) {
  if (!f.weights.empty()) {
    return InvalidArgument("--weights is only for Caffe models; '" + f.model + "' is ONNX");
  }
  return ImportOnnxFile(f.model);
}

struct Format {
  std::string_view suffix;
  Result<Graph> (*import)(const ModelFiles&);
};

// One row per model format, matched by file suffix.
const Format kFormats[] = {
    {".onnx", ImportOnnxModel},
};

}  // namespace

Result<Graph> ImportModel(const ModelFiles& files) {
  for (const auto& f : kFormats) {
    if (EndsWith(files.model, f.suffix)) return f.import(files);
  }
  std::string known;
  for (const auto& f : kFormats) known += (known.empty() ? "" : ", ") + std::string(f.suffix);
  return InvalidArgument("cannot tell the format of '" + files.model + "' (known suffixes: " + known + ")");
}

}  // namespace qcal
