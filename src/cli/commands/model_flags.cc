#include "cli/commands/model_flags.h"

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace qcal::cli {

void AddModelFlags(CLI::App& sub, ModelFlags& flags) {
  sub.add_option("--model", flags.model, "Model file (.onnx, or Caffe .prototxt)")->required();
  sub.add_option("--weights", flags.weights, "Caffe .caffemodel weights (Caffe models only)");
  sub.add_option("--input-shape", flags.input_shapes,
                 "Override an input shape, NAME:N,C,H,W (e.g. input:8,3,32,32); repeatable");
  sub.add_flag("--no-fold", flags.no_fold, "Do not fold constants / eliminate dead nodes when loading");
  sub.add_flag("--no-int8", flags.no_int8,
               "Run QDQ (deploy) models with float kernels instead of fusing them into int8 layers");
}

Result<std::pair<std::string, Shape>> ParseInputShape(const std::string& spec) {
  size_t colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size()) {
    return InvalidArgument("--input-shape '" + spec + "': expected NAME:DIMS, e.g. input:1,3,224,224");
  }
  std::string name = spec.substr(0, colon);
  Shape shape;
  size_t pos = colon + 1;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    std::string item = spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    char* end = nullptr;
    long long v = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v <= 0) {
      return InvalidArgument("--input-shape '" + spec + "': dim '" + item + "' is not a positive integer");
    }
    shape.push_back(v);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return std::make_pair(name, shape);
}

Result<Graph> LoadModelFromFlags(const ModelFlags& flags) {
  LoadOptions opts;
  for (const auto& spec : flags.input_shapes) {
    QCAL_ASSIGN_OR_RETURN(auto parsed, ParseInputShape(spec));
    if (opts.input_shapes.count(parsed.first)) {
      return InvalidArgument("--input-shape given twice for '" + parsed.first + "'");
    }
    opts.input_shapes[parsed.first] = parsed.second;
  }
  opts.fold_constants = !flags.no_fold;
  opts.eliminate_dead_code = !flags.no_fold;
  opts.fuse_quantized_ops = !flags.no_int8;
  return LoadModel({flags.model, flags.weights}, opts);
}

int ReportError(const Status& status) {
  std::fprintf(stderr, "[qcal] error: %s\n", status.message().c_str());
  return 1;
}

std::string SanitizeFileName(const std::string& name) {
  std::string s = name;
  for (char& c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    if (!ok) c = '_';
  }
  if (s.empty() || s.front() == '.') s.insert(0, 1, '_');
  return s;
}

}  // namespace qcal::cli
