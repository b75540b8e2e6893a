// Model import entry point: picks a frontend by file type (table-driven) and
// returns qcal IR. Frontends never see runtime types.
#pragma once

#include <string>

#include "ir/graph.h"

namespace qcal {

struct ModelFiles {
  std::string model;    // .onnx, or Caffe .prototxt
  std::string weights;  // Caffe .caffemodel; empty for ONNX
};

// Imports the model. Errors name the file and what is wrong.
Result<Graph> ImportModel(const ModelFiles& files);

}  // namespace qcal
