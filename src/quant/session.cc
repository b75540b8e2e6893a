#include "quant/session.h"


#include <algorithm>
#include <cctype>

#include "base/file.h"
#include "base/log.h"
#include "quant/weight_quant.h"

namespace qcal {

Result<SaveType> SaveTypeFromName(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "fakequant" || n == "fake_quant") return SaveType::kFakeQuant;
  if (n == "deploy") return SaveType::kDeploy;
  if (n == "both") return SaveType::kBoth;
  return InvalidArgument("save type '" + name + "' is not one of: fakequant, deploy, both");
}

QuantSession::QuantSession(QuantConfig config, Graph graph, std::string record_path, SessionOptions options)
    : config_(std::move(config)),
      original_(std::move(graph)),
      record_path_(std::move(record_path)),
      options_(std::move(options)) {}

QuantSession::~QuantSession() {
  Status st = FlushRecord();
  if (!st.ok())
    LogWarning("could not write the calibration progress to " + record_path_ + ": " + st.message());
}

Result<std::unique_ptr<QuantSession>> QuantSession::Init(const QuantConfig& config, Graph graph,
                                                         const std::string& record_path, SessionOptions options) {
  QCAL_RETURN_IF_ERROR(ValidateQuantConfig(config, graph));
  if (record_path.empty()) return InvalidArgument("no record file path given");
  if (options.algorithm_summary.empty()) options.algorithm_summary = ActivationAlgorithmSummary(config);
  QCAL_RETURN_IF_ERROR(CreateParentDirectories(record_path));
  std::unique_ptr<QuantSession> s(new QuantSession(config, std::move(graph), record_path, std::move(options)));
  QCAL_RETURN_IF_ERROR(s->WriteRecord());  // created or emptied, as AMCT's init does
  return s;
}

Status QuantSession::QuantizeModel() {
  if (quantized_) return FailedPrecondition("QuantizeModel was already called for this session");
  folded_ = original_;
  if (config_.do_fusion) {
    FoldOptions fo;
    fo.skip_layers.insert(config_.skip_fusion_layers.begin(), config_.skip_fusion_layers.end());
    QCAL_ASSIGN_OR_RETURN(fusions_, FoldBatchNorm(folded_, fo));
    for (const auto& f : fusions_) {
      std::string list;
      for (const auto& n : f.folded) list += (list.empty() ? "" : ", ") + n;
      LogInfo("Fused " + list + " into layer \"" + f.layer + "\"");
    }
  }
  for (auto& l : ScanQuantizableLayers(folded_).layers) {
    auto it = config_.layers.find(l.name);
    if (it != config_.layers.end() && it->second.quant_enable) layers_.push_back(std::move(l));
  }
  if (layers_.empty()) {
    return FailedPrecondition("no layer is enabled for quantization in the config (every quant_enable is false "
                              "or the model has no quantizable layer)");
  }
  QCAL_RETURN_IF_ERROR(QuantizeWeights());
  QCAL_RETURN_IF_ERROR(AttachObservers());
  quantized_ = true;
  return WriteRecord();
}

Status QuantSession::QuantizeWeights() {
  // The calibration graph runs with fake-quantized weights, as AMCT's modified model does.
  Graph calib = folded_;
  for (const auto& l : layers_) {
    LayerPlan plan;
    plan.layer = l;
    if (!l.weight_value.empty()) {
      const LayerQuantConfig& lc = config_.layers.at(l.name);
      const Tensor& w = folded_.initializers.at(l.weight_value);
      QCAL_ASSIGN_OR_RETURN(WeightQuantResult q,
                            ArqQuantizeWeight(w, l, lc.wts.channel_wise, lc.wts.num_bits));
      plan.scale_w = q.scale_w;
      plan.weight_q = q.weight_q;
      calib.initializers[l.weight_value] = q.fake_quant;
    }
    plans_[l.name] = std::move(plan);
  }
  ExecutorOptions eo;
  eo.threads = options_.threads;
  // Conv + Add + activation chains run fused; the values observers read (the
  // inputs of the quantized layers) stay real outputs of the fused nodes.
  for (const auto& l : layers_) eo.observed_values.push_back(l.act_value);
  eo.observer_order_free = true;  // ActivationObserver: min/max, histograms, raw values to sort
  std::map<std::string, Shape> shapes;  // the calibration batch shape, when known
  for (const auto& in : calib.inputs) {
    if (options_.batch_size > 0 && in.shape && !in.shape->empty()) {
      shapes[in.name] = *in.shape;
      shapes[in.name][0] = options_.batch_size;
    }
  }
  auto executor = Executor::Create(calib, shapes, eo);
  // A model whose batch is fixed (PrepareObservers then runs it sample by
  // sample) or with other unknown dims: prepare at the default shapes.
  if (!executor.ok() && !shapes.empty()) executor = Executor::Create(calib, {}, eo);
  QCAL_ASSIGN_OR_RETURN(executor_, std::move(executor));
  return Status::Ok();
}

Status QuantSession::AttachObservers() {
  for (const auto& l : layers_) {
    const ActivationQuantParams& a = config_.layers.at(l.name).act;
    ObservedLayer ol;
    ol.name = l.name;
    ol.algo = quant::FindActivationAlgorithm(a.act_algo);
    if (!ol.algo) return InvalidArgument("layer '" + l.name + "': unknown act_algo '" + a.act_algo + "'");
    ol.params = ToActivationParams(a, config_.Asymmetric(l.name));
    QCAL_RETURN_IF_ERROR(ol.algo->validate(ol.params).WithContext("layer '" + l.name + "'"));
    auto& obs = observers_[l.act_value];
    if (!obs) obs = std::make_unique<ActivationObserver>(l.act_value, config_.batch_num);
    obs->AddLayer(std::move(ol));
    layer_done_[l.name] = false;
  }
  // The runtime hook: stream every observed node output into its observer.
  executor_->SetObserver([this](const Node& node, const std::vector<const Tensor*>& outputs) -> Status {
    size_t k = 0;
    for (const auto& name : node.outputs) {
      if (name.empty()) continue;
      auto it = observers_.find(name);
      if (it != observers_.end()) QCAL_RETURN_IF_ERROR(ObserveOne(*it->second, *outputs[k]));
      ++k;
    }
    return Status::Ok();
  });
  return Status::Ok();
}

std::map<std::string, int> QuantSession::LayerBatchCounts() const {
  std::map<std::string, int> counts;
  for (const auto& [tensor, obs] : observers_) {
    for (const auto& l : obs->layers()) counts[l.name] = obs->batches();
  }
  return counts;
}

}  // namespace qcal
