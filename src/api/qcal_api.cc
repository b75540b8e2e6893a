// The public API (include/qcal/qcal.h): thin handles over the internal model
// loader, config, data sources, QuantSession and save_model.
#include "qcal/qcal.h"

#include "data/data_source.h"
#include "exporters/save_model.h"
#include "quant/calibrate_source.h"
#include "quant/config/quant_config.h"
#include "quant/config/simple_cfg.h"
#include "quant/rules.h"
#include "quant/session.h"
#include "runtime/model_loader.h"

namespace qcal::api {

struct Tensor::Impl {
  ::qcal::Tensor t;
  std::vector<int64_t> shape;
};

struct Model::Impl {
  ::qcal::Graph graph;
  std::vector<Model::InputInfo> inputs;
};

struct Config::Impl {
  ::qcal::QuantConfig config;
};

struct DataSource::Impl {
  std::unique_ptr<data::DataSource> source;
};

struct QuantSession::Impl {
  std::unique_ptr<::qcal::QuantSession> session;
  std::vector<std::string> input_names;
};

struct Access {
  template <typename Handle, typename Impl>
  static Handle Make(Impl impl) {
    return Handle(std::make_shared<const Impl>(std::move(impl)));
  }
  template <typename Handle>
  static const auto& Get(const Handle& h) {
    return *h.impl_;
  }
  static Tensor Wrap(::qcal::Tensor t) { return Make<Tensor>(Tensor::Impl{t, t.shape()}); }
  static std::unique_ptr<QuantSession> MakeSession(QuantSession::Impl impl) {
    return std::unique_ptr<QuantSession>(new QuantSession(std::make_unique<QuantSession::Impl>(std::move(impl))));
  }
  static Status CalibrateSession(QuantSession::Impl& s, const DataSource& data, int64_t batch_size) {
    if (s.input_names.size() != 1) {
      return Unsupported("calibration from a data source feeds one model input; this model has " +
                         std::to_string(s.input_names.size()));
    }
    return CalibrateFromSource(*s.session, *Get(data).source, s.input_names[0], batch_size).status();
  }
};

namespace {

::qcal::SaveType ToInternal(SaveType t) {
  switch (t) {
    case SaveType::kFakeQuant:
      return ::qcal::SaveType::kFakeQuant;
    case SaveType::kDeploy:
      return ::qcal::SaveType::kDeploy;
    case SaveType::kBoth:
      break;
  }
  return ::qcal::SaveType::kBoth;
}

SavedFiles FromInternal(const ::qcal::SavedFiles& f) { return {f.fake_quant_model, f.deploy_model, f.quant_json}; }

}  // namespace

// ------------------------------------------------------------------- Tensor

Tensor::Tensor() : Tensor(std::make_shared<const Impl>(Impl{::qcal::Tensor(DataType::kFloat32, {0}), {0}})) {}
Tensor::Tensor(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Result<Tensor> Tensor::FromFloats(const std::vector<int64_t>& shape, const std::vector<float>& values) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return InvalidArgument("tensor shape has a negative dim " + std::to_string(d));
    n *= d;
  }
  if (n != static_cast<int64_t>(values.size())) {
    return InvalidArgument("tensor shape holds " + std::to_string(n) + " values, got " +
                           std::to_string(values.size()));
  }
  return Access::Wrap(::qcal::Tensor::FromVector<float>(values, shape));
}

const std::vector<int64_t>& Tensor::shape() const { return impl_->shape; }
std::string Tensor::dtype() const { return std::string(DataTypeName(impl_->t.dtype())); }
std::vector<float> Tensor::ToFloats() const { return impl_->t.ToFloatVector(); }

// -------------------------------------------------------------------- Model

Model::Model(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

const std::vector<Model::InputInfo>& Model::inputs() const { return impl_->inputs; }

std::vector<std::string> Model::QuantizableLayers() const {
  std::vector<std::string> names;
  for (const auto& l : ScanQuantizableLayers(impl_->graph).layers) names.push_back(l.name);
  return names;
}

Result<Model> LoadModel(const std::string& model_file, const std::string& weights_file,
                        const std::map<std::string, std::vector<int64_t>>& input_shapes) {
  LoadOptions opts;
  for (const auto& [name, shape] : input_shapes) opts.input_shapes[name] = shape;
  QCAL_ASSIGN_OR_RETURN(Graph g, ::qcal::LoadModel({model_file, weights_file}, opts));
  Model::Impl impl;
  for (const auto& in : g.inputs) {
    impl.inputs.push_back({in.name, std::string(DataTypeName(in.dtype)), in.shape.value_or(std::vector<int64_t>{})});
  }
  impl.graph = std::move(g);
  return Access::Make<Model>(std::move(impl));
}

// ------------------------------------------------------------------- Config

Config::Config(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

int Config::batch_num() const { return impl_->config.batch_num; }
std::vector<std::string> Config::layers() const { return impl_->config.layer_order; }

bool Config::quant_enabled(const std::string& layer) const {
  auto it = impl_->config.layers.find(layer);
  return it != impl_->config.layers.end() && it->second.quant_enable;
}

std::string Config::activation_algorithm(const std::string& layer) const {
  auto it = impl_->config.layers.find(layer);
  return it == impl_->config.layers.end() ? "" : it->second.act.act_algo;
}

std::string Config::ToJson() const { return QuantConfigToJson(impl_->config); }
Status Config::Save(const std::string& json_path) const { return SaveQuantConfig(impl_->config, json_path); }

Result<Config> CreateQuantConfig(const Model& model, const ConfigOptions& o) {
  QCAL_ASSIGN_OR_RETURN(QuantConfig c, ::qcal::CreateQuantConfig(
                                           Access::Get(model).graph,
                                           {o.skip_layers, o.batch_num, o.activation_offset, o.weight_bits}));
  if (!o.act_algo.empty()) QCAL_RETURN_IF_ERROR(SetActivationAlgorithm(&c, o.act_algo));
  return Access::Make<Config>(Config::Impl{std::move(c)});
}

Result<Config> CreateQuantConfigFromCfg(const Model& model, const std::string& cfg_path) {
  QCAL_ASSIGN_OR_RETURN(QuantConfig c, LoadSimpleCfg(cfg_path, Access::Get(model).graph));
  return Access::Make<Config>(Config::Impl{std::move(c)});
}

Result<Config> LoadQuantConfig(const std::string& json_path) {
  QCAL_ASSIGN_OR_RETURN(QuantConfig c, ::qcal::LoadQuantConfig(json_path));
  return Access::Make<Config>(Config::Impl{std::move(c)});
}

// --------------------------------------------------------------- DataSource

DataSource::DataSource(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

int64_t DataSource::size() const { return impl_->source->size(); }
int64_t DataSource::NumBatches(int64_t batch_size) const {
  return batch_size > 0 ? data::Batcher(*impl_->source, batch_size).num_batches() : 0;
}
std::string DataSource::Describe() const { return impl_->source->Describe(); }

Result<Tensor> DataSource::GetBatch(int64_t index, int64_t batch_size) const {
  if (batch_size <= 0) return InvalidArgument("batch size must be > 0, got " + std::to_string(batch_size));
  data::Batcher batcher(*impl_->source, batch_size);
  if (index < 0 || index >= batcher.num_batches()) {
    return OutOfRange("batch " + std::to_string(index) + " of " + std::to_string(batcher.num_batches()) +
                      " (batch size " + std::to_string(batch_size) + ")");
  }
  QCAL_ASSIGN_OR_RETURN(data::Batch b, batcher.GetBatch(index));
  return Access::Wrap(b.data);
}

Result<DataSource> OpenDataSource(const Model& model, const DataOptions& options) {
  const Graph& g = Access::Get(model).graph;
  if (g.inputs.size() != 1) {
    return Unsupported("a data source feeds one model input; this model has " + std::to_string(g.inputs.size()));
  }
  data::DataOptions opts;
  opts.path = options.path;
  QCAL_ASSIGN_OR_RETURN(opts.bin_dtype, DataTypeFromName(options.bin_dtype));
  QCAL_ASSIGN_OR_RETURN(opts.preprocess, data::ParsePreprocessSpec(options.preprocess));
  data::FitToModelInput(g.inputs[0], &opts);
  QCAL_ASSIGN_OR_RETURN(auto source, data::OpenDataSource(opts));
  return Access::Make<DataSource>(DataSource::Impl{std::move(source)});
}

// ------------------------------------------------------------- QuantSession

QuantSession::QuantSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
QuantSession::~QuantSession() = default;

Result<std::unique_ptr<QuantSession>> QuantSession::Init(const Config& config, const Model& model,
                                                         const std::string& record_path) {
  const Graph& g = Access::Get(model).graph;
  Impl impl;
  QCAL_ASSIGN_OR_RETURN(impl.session, ::qcal::QuantSession::Init(Access::Get(config).config, g, record_path));
  for (const auto& in : g.inputs) impl.input_names.push_back(in.name);
  return Access::MakeSession(std::move(impl));
}

Status QuantSession::QuantizeModel() { return impl_->session->QuantizeModel(); }

Status QuantSession::Calibrate(const Tensor& batch) {
  if (impl_->input_names.size() != 1) {
    return InvalidArgument("this model has " + std::to_string(impl_->input_names.size()) +
                           " inputs: pass the batch by input name");
  }
  return Calibrate(std::map<std::string, Tensor>{{impl_->input_names[0], batch}});
}

Status QuantSession::Calibrate(const std::map<std::string, Tensor>& batch) {
  TensorMap inputs;
  for (const auto& [name, t] : batch) inputs[name] = Access::Get(t).t;
  return impl_->session->Calibrate(inputs);
}

Status QuantSession::Calibrate(const DataSource& data, int64_t batch_size) {
  return Access::CalibrateSession(*impl_, data, batch_size);
}

int QuantSession::batches_seen() const { return impl_->session->batches_seen(); }
const std::string& QuantSession::record_path() const { return impl_->session->record_path(); }

// --------------------------------------------------------------------- save

Result<SavedFiles> SaveModel(const QuantSession& session, SaveType type, const std::string& prefix) {
  ::qcal::SavedFiles files;
  QCAL_RETURN_IF_ERROR(::qcal::SaveModel(*Access::Get(session).session, ToInternal(type), prefix, &files));
  return FromInternal(files);
}

Result<SavedFiles> SaveModel(const Config& config, const Model& model, const std::string& record_path,
                             SaveType type, const std::string& prefix) {
  ::qcal::SavedFiles files;
  QCAL_RETURN_IF_ERROR(SaveModelFromRecord(Access::Get(config).config, Access::Get(model).graph, record_path,
                                           ToInternal(type), prefix, &files));
  return FromInternal(files);
}

Result<SavedFiles> ConvertModel(const Config& config, const Model& model, const std::string& record_path,
                                SaveType type, const std::string& prefix) {
  ::qcal::SavedFiles files;
  QCAL_RETURN_IF_ERROR(::qcal::ConvertModel(Access::Get(config).config, Access::Get(model).graph, record_path,
                                            ToInternal(type), prefix, &files));
  return FromInternal(files);
}

}  // namespace qcal::api
