// qcal's public C++ API: the AMCT post-training quantization workflow.
//
//   auto model   = qcal::api::LoadModel("net.onnx");                         // or .prototxt + .caffemodel
//   auto config  = qcal::api::CreateQuantConfig(*model, {.batch_num = 4});   // or CreateQuantConfigFromCfg(*model, "quant.cfg")
//   auto session = qcal::api::QuantSession::Init(*config, *model, "out/record.txt");
//   (*session)->QuantizeModel();                                             // BN folding, ARQ weights
//   auto data    = qcal::api::OpenDataSource(*model, {.path = "images/", .preprocess = "resize 256; crop 224; scale 1/255"});
//   (*session)->Calibrate(*data, 32);                                        // batch_num batches of 32
//   auto files   = qcal::api::SaveModel(**session, qcal::api::SaveType::kBoth, "out/net");
//
// Every call returns qcal::Status / qcal::Result<T> (qcal/status.h); nothing
// throws. The types here are handles over qcal's internals (no protobuf, no
// internal headers). Files written for a prefix P: P_fake_quant_model.onnx,
// P_deploy_model.onnx, P_quant.json. docs/workflow.md describes the workflow.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "qcal/status.h"

namespace qcal::api {

struct Access;  // the implementation's door to the handles' internals

// A tensor: dtype name ("float32", "uint8", ...), shape, row-major data.
class Tensor {
 public:
  Tensor();
  // A float32 tensor; values.size() must equal the product of shape.
  static Result<Tensor> FromFloats(const std::vector<int64_t>& shape, const std::vector<float>& values);
  const std::vector<int64_t>& shape() const;
  std::string dtype() const;
  std::vector<float> ToFloats() const;  // converted from the stored dtype

  struct Impl;  // opaque: defined by the implementation

 private:
  friend struct Access;
  explicit Tensor(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// An FP32 model as loaded (imported, shapes inferred, constants folded). Cheap to copy.
class Model {
 public:
  struct InputInfo {
    std::string name;
    std::string dtype;
    std::vector<int64_t> shape;  // -1: symbolic (e.g. the batch)
  };
  const std::vector<InputInfo>& inputs() const;
  // Layers qcal can quantize (node names = AMCT layer names), graph order.
  std::vector<std::string> QuantizableLayers() const;

  struct Impl;  // opaque: defined by the implementation

 private:
  friend struct Access;
  explicit Model(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// ONNX (.onnx) or Caffe (.prototxt with `weights_file` .caffemodel). `input_shapes`
// overrides input shapes (batch / symbolic dims), e.g. {{"input", {8, 3, 32, 32}}}.
Result<Model> LoadModel(const std::string& model_file, const std::string& weights_file = "",
                        const std::map<std::string, std::vector<int64_t>>& input_shapes = {});

// The quantization config (AMCT's config.json): global settings plus one entry per quantizable layer.
class Config {
 public:
  int batch_num() const;
  // Layers in the config and whether each is quantized (quant_enable).
  std::vector<std::string> layers() const;
  bool quant_enabled(const std::string& layer) const;
  std::string activation_algorithm(const std::string& layer) const;  // "" for an unknown layer
  std::string ToJson() const;
  Status Save(const std::string& json_path) const;

  struct Impl;  // opaque: defined by the implementation

 private:
  friend struct Access;
  explicit Config(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

struct ConfigOptions {
  std::vector<std::string> skip_layers;  // quantizable layers kept in float
  int batch_num = 1;                     // calibration batches
  bool activation_offset = true;         // asymmetric activations
  std::string act_algo;                  // "" = ifmr; or hfmg, minmax, percentile, kl, mse (every layer)
  int weight_bits = 8;                   // 8, or 7: weights in [-63, 63] (exact fast int8 without VNNI)
};

// AMCT create_quant_config: every quantizable layer with AMCT defaults and `options`.
Result<Config> CreateQuantConfig(const Model& model, const ConfigOptions& options = {});
// AMCT create_quant_config with config_defination: from a simplified cfg file
// (protobuf text; docs/config_format.md section 2).
Result<Config> CreateQuantConfigFromCfg(const Model& model, const std::string& cfg_path);
// A JSON config written by Config::Save or `qcal create-config`.
Result<Config> LoadQuantConfig(const std::string& json_path);

struct DataOptions {
  // Image folder (recursive, sorted), list file, .npy file or folder, .bin file(s), or MNIST idx images.
  std::string path;
  // Image / idx preprocessing, steps applied in the fixed order resize -> crop -> rgb|bgr -> scale
  // -> mean -> std, e.g. "resize 256; crop 224; bgr; scale 1/255; mean 0.485,0.456,0.406; std 0.229,0.224,0.225".
  std::string preprocess;
  std::string bin_dtype = "float32";  // element type of .bin data
};

// Calibration data for the model's (single) input, in a fixed order.
class DataSource {
 public:
  int64_t size() const;  // samples
  int64_t NumBatches(int64_t batch_size) const;
  // Batch `index` of `batch_size` samples ([n, ...], the last one may be smaller).
  Result<Tensor> GetBatch(int64_t index, int64_t batch_size) const;
  std::string Describe() const;

  struct Impl;  // opaque: defined by the implementation

 private:
  friend struct Access;
  explicit DataSource(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

Result<DataSource> OpenDataSource(const Model& model, const DataOptions& options);

enum class SaveType { kFakeQuant, kDeploy, kBoth };

struct SavedFiles {
  std::string fake_quant_model;  // P_fake_quant_model.onnx ("" if not written)
  std::string deploy_model;      // P_deploy_model.onnx ("" if not written)
  std::string quant_json;        // P_quant.json
};

// AMCT init / quantize_model / calibration inferences.
class QuantSession {
 public:
  // The record file is created (or emptied) now.
  static Result<std::unique_ptr<QuantSession>> Init(const Config& config, const Model& model,
                                                    const std::string& record_path);
  ~QuantSession();
  QuantSession(const QuantSession&) = delete;
  QuantSession& operator=(const QuantSession&) = delete;

  // BN folding and ARQ weight quantization (scale_w into the record); observers attached.
  Status QuantizeModel();
  // One calibration batch for the model's single input, or for every input by name.
  Status Calibrate(const Tensor& batch);
  Status Calibrate(const std::map<std::string, Tensor>& batch);
  // batch_num batches of `batch_size` from `data` (fewer when the data runs out;
  // then SaveModel reports the layers without factors).
  Status Calibrate(const DataSource& data, int64_t batch_size);
  int batches_seen() const;
  const std::string& record_path() const;

  struct Impl;  // opaque: defined by the implementation

 private:
  friend struct Access;
  explicit QuantSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// AMCT save_model: checks the record (every quantized layer needs its factors;
// missing ones are listed with the batches calibration saw), then writes the models.
Result<SavedFiles> SaveModel(const QuantSession& session, SaveType type, const std::string& prefix);
// save_model for a record written elsewhere (e.g. `qcal calibrate`), with the
// config and model that calibration used.
Result<SavedFiles> SaveModel(const Config& config, const Model& model, const std::string& record_path,
                             SaveType type, const std::string& prefix);
// AMCT convert_model: quantized models from a record you supply (ARQ weights where
// the record has no scale_w).
Result<SavedFiles> ConvertModel(const Config& config, const Model& model, const std::string& record_path,
                                SaveType type, const std::string& prefix);

}  // namespace qcal::api
