#include "frontends/model_format.h"

#include <algorithm>

#include "frontends/caffe/caffe_importer.h"
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

Result<Graph> ImportCaffeModel(const ModelFiles& f) {
  if (f.weights.empty()) {
    return InvalidArgument("Caffe model '" + f.model +
                           "' needs its trained weights: pass the .caffemodel with --weights");
  }
  return ImportCaffeFiles(f.model, f.weights);
}

Result<Graph> RejectCaffeWeightsAsModel(const ModelFiles& f) {
  return InvalidArgument("'" + f.model +
                         "' holds Caffe weights, not a network: give the .prototxt as the model " +
                         "and this file with --weights " + f.model);
}

struct Format {
  std::string_view suffix;
  Result<Graph> (*import)(const ModelFiles&);
};

// One row per model format, matched by file suffix.
const Format kFormats[] = {
    {".onnx", ImportOnnxModel},
    {".prototxt", ImportCaffeModel},
    {".caffemodel", RejectCaffeWeightsAsModel},
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
