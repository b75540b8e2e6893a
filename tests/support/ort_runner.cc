#include "support/ort_runner.h"

#ifdef QCAL_HAVE_ORT
#include <onnxruntime_cxx_api.h>
#endif

#include <vector>

namespace qcal::testing {

#ifdef QCAL_HAVE_ORT

bool OrtAvailable() { return true; }

namespace {
Ort::Env& Env() {
  static Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "qcal_tests");
  return env;
}
}  // namespace

Result<std::map<std::string, Tensor>> RunInOrt(const std::string& model_path,
                                               const std::map<std::string, Tensor>& inputs, int threads,
                                               bool optimize) {
  try {
    Ort::SessionOptions so;
    if (!optimize) so.SetGraphOptimizationLevel(ORT_DISABLE_ALL);
    so.SetIntraOpNumThreads(threads);
    so.SetInterOpNumThreads(1);
    Ort::Session session(Env(), model_path.c_str(), so);
    Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    std::vector<std::string> in_names;
    std::vector<Ort::Value> in_values;
    for (const auto& [name, t] : inputs) {
      if (t.dtype() != DataType::kFloat32) return Unsupported("RunInOrt: only float32 inputs");
      in_names.push_back(name);
      in_values.push_back(Ort::Value::CreateTensor<float>(mem, const_cast<float*>(t.data<float>()),
                                                          static_cast<size_t>(t.numel()), t.shape().data(),
                                                          t.shape().size()));
    }
    Ort::AllocatorWithDefaultOptions alloc;
    std::vector<std::string> out_names;
    for (size_t i = 0; i < session.GetOutputCount(); ++i) {
      out_names.push_back(session.GetOutputNameAllocated(i, alloc).get());
    }
    std::vector<const char*> in_c, out_c;
    for (const auto& n : in_names) in_c.push_back(n.c_str());
    for (const auto& n : out_names) out_c.push_back(n.c_str());
    auto outs = session.Run(Ort::RunOptions{nullptr}, in_c.data(), in_values.data(), in_values.size(), out_c.data(),
                            out_c.size());
    std::map<std::string, Tensor> result;
    for (size_t i = 0; i < outs.size(); ++i) {
      auto info = outs[i].GetTensorTypeAndShapeInfo();
      if (info.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
        return Unsupported("RunInOrt: output '" + out_names[i] + "' is not float32");
      }
      Tensor t(DataType::kFloat32, info.GetShape());
      const float* src = outs[i].GetTensorData<float>();
      std::copy(src, src + t.numel(), t.data<float>());
      result[out_names[i]] = t;
    }
    return result;
  } catch (const Ort::Exception& e) {
    return Internal("ONNX Runtime failed on '" + model_path + "': " + e.what());
  }
}

#else

bool OrtAvailable() { return false; }

Result<std::map<std::string, Tensor>> RunInOrt(const std::string& model_path, const std::map<std::string, Tensor>&,
                                               int, bool) {
  return Unsupported("built without ONNX Runtime; run scripts/install-deps.sh");
}

#endif

}  // namespace qcal::testing
