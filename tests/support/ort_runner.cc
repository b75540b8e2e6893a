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

struct OrtModel::Impl {
  std::string path;
  Ort::Session session{nullptr};
  std::vector<std::string> out_names;
};

OrtModel::OrtModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OrtModel::~OrtModel() = default;

Result<std::unique_ptr<OrtModel>> OrtModel::Load(const std::string& model_path, int threads, bool optimize) {
  try {
    auto impl = std::make_unique<Impl>();
    impl->path = model_path;
    Ort::SessionOptions so;
    if (!optimize) so.SetGraphOptimizationLevel(ORT_DISABLE_ALL);
    so.SetIntraOpNumThreads(threads);
    so.SetInterOpNumThreads(1);
    impl->session = Ort::Session(Env(), model_path.c_str(), so);
    Ort::AllocatorWithDefaultOptions alloc;
    for (size_t i = 0; i < impl->session.GetOutputCount(); ++i) {
      impl->out_names.push_back(impl->session.GetOutputNameAllocated(i, alloc).get());
    }
    return std::unique_ptr<OrtModel>(new OrtModel(std::move(impl)));
  } catch (const Ort::Exception& e) {
    return Internal("ONNX Runtime cannot load '" + model_path + "': " + e.what());
  }
}

Result<std::map<std::string, Tensor>> OrtModel::Run(const std::map<std::string, Tensor>& inputs) {
  try {
    Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    std::vector<std::string> in_names;
    std::vector<Ort::Value> in_values;
    for (const auto& [name, t] : inputs) {
      if (t.dtype() != DataType::kFloat32) return Unsupported("OrtModel::Run: only float32 inputs");
      in_names.push_back(name);
      in_values.push_back(Ort::Value::CreateTensor<float>(mem, const_cast<float*>(t.data<float>()),
                                                          static_cast<size_t>(t.numel()), t.shape().data(),
                                                          t.shape().size()));
    }
    std::vector<const char*> in_c, out_c;
    for (const auto& n : in_names) in_c.push_back(n.c_str());
    for (const auto& n : impl_->out_names) out_c.push_back(n.c_str());
    auto outs = impl_->session.Run(Ort::RunOptions{nullptr}, in_c.data(), in_values.data(), in_values.size(),
                                   out_c.data(), out_c.size());
    std::map<std::string, Tensor> result;
    for (size_t i = 0; i < outs.size(); ++i) {
      auto info = outs[i].GetTensorTypeAndShapeInfo();
      if (info.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
        return Unsupported("OrtModel::Run: output '" + impl_->out_names[i] + "' is not float32");
      }
      Tensor t(DataType::kFloat32, info.GetShape());
      const float* src = outs[i].GetTensorData<float>();
      std::copy(src, src + t.numel(), t.data<float>());
      result[impl_->out_names[i]] = t;
    }
    return result;
  } catch (const Ort::Exception& e) {
    return Internal("ONNX Runtime failed on '" + impl_->path + "': " + e.what());
  }
}

#else

bool OrtAvailable() { return false; }

struct OrtModel::Impl {};
OrtModel::OrtModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OrtModel::~OrtModel() = default;

Result<std::unique_ptr<OrtModel>> OrtModel::Load(const std::string&, int, bool) {
  return Unsupported("built without ONNX Runtime; run scripts/install-deps.sh");
}

Result<std::map<std::string, Tensor>> OrtModel::Run(const std::map<std::string, Tensor>&) {
  return Unsupported("built without ONNX Runtime; run scripts/install-deps.sh");
}

#endif

Result<std::map<std::string, Tensor>> RunInOrt(const std::string& model_path,
                                               const std::map<std::string, Tensor>& inputs, int threads,
                                               bool optimize) {
  QCAL_ASSIGN_OR_RETURN(auto model, OrtModel::Load(model_path, threads, optimize));
  return model->Run(inputs);
}

}  // namespace qcal::testing
