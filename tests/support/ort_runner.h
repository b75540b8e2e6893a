// Runs an ONNX model in ONNX Runtime (the reference peer) from tests. Only
// float32 inputs/outputs are needed for the models qcal exports.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "ir/tensor.h"

namespace qcal::testing {

// True when the test binary was built against ONNX Runtime (.deps/ort, installed
// by scripts/install-deps.sh). CI always has it.
bool OrtAvailable();

// One ORT session kept open for many runs (loading a model once per batch is slow).
class OrtModel {
 public:
  static Result<std::unique_ptr<OrtModel>> Load(const std::string& model_path, int threads = 1,
                                                bool optimize = true);
  ~OrtModel();
  // Runs with the given named inputs; returns every graph output. Errors carry ORT's message.
  Result<std::map<std::string, Tensor>> Run(const std::map<std::string, Tensor>& inputs);

 private:
  struct Impl;
  explicit OrtModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Loads `model_path` and runs it once (OrtModel::Load + Run).
Result<std::map<std::string, Tensor>> RunInOrt(const std::string& model_path,
                                               const std::map<std::string, Tensor>& inputs, int threads = 1,
                                               bool optimize = true);

}  // namespace qcal::testing
