#include "frontends/caffe/caffe_importer.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "base/file.h"
#include "base/limits.h"
#include "base/log.h"
#include "frontends/caffe/caffe_layers.h"
#include "frontends/caffe/caffe_proto_io.h"

namespace qcal {
namespace caffe_import {
namespace {

// Caffe's Net::StateMeetsRule for the inference state (phase TEST, level 0).
bool StateMeetsRule(const caffe::NetState& state, const caffe::NetStateRule& rule) {
  if (rule.has_phase() && rule.phase() != state.phase()) return false;
  if (rule.has_min_level() && state.level() < rule.min_level()) return false;
  if (rule.has_max_level() && state.level() > rule.max_level()) return false;
  auto has_stage = [&](const std::string& s) {
    return std::find(state.stage().begin(), state.stage().end(), s) != state.stage().end();
  };
  for (const auto& s : rule.stage())
    if (!has_stage(s)) return false;
  for (const auto& s : rule.not_stage())
    if (has_stage(s)) return false;
  return true;
}

bool LayerIncluded(const caffe::NetState& state, const caffe::LayerParameter& layer) {
  bool included = layer.include_size() == 0;
  for (const auto& rule : layer.exclude())
    if (StateMeetsRule(state, rule)) included = false;
  for (const auto& rule : layer.include())
    if (StateMeetsRule(state, rule)) included = true;
  return included;
}

std::string SupportedTypes() {
  static const char* kTypes[] = {"Input",     "Convolution", "Deconvolution", "InnerProduct", "Pooling",
                                 "BatchNorm", "Scale",       "Bias",          "ReLU",         "PReLU",
                                 "ELU",       "Sigmoid",     "TanH",          "AbsVal",       "Dropout",
                                 "Split",     "Silence",     "Eltwise",       "Concat",       "Slice",
                                 "Softmax",   "Flatten",     "Reshape",       "Permute"};
  std::string s;
  for (const char* t : kTypes) s += (s.empty() ? "" : ", ") + std::string(t);
  return s;
}

class NetImporter {
 public:
  NetImporter(const caffe::NetParameter& def, const caffe::NetParameter& weights, std::string def_origin,
              std::string weights_origin)
      : def_(def),
        weights_(weights),
        def_origin_(std::move(def_origin)),
        weights_origin_(std::move(weights_origin)) {}

  Result<Graph> Run();

 private:
  void SelectLayers();
  void IndexWeights();
  void ReserveBlobNames();
  Status AddNetInputs();
  Status AddInputLayer(const caffe::LayerParameter& layer);
  Status AddGraphInput(const std::string& blob, const std::string& writer, const std::string& where, Shape shape);
  Status ConvertLayer(size_t index, size_t* consumed);
  Result<std::vector<std::string>> ResolveBottoms(const caffe::LayerParameter& layer);
  std::string NewVersion(const std::string& blob, const std::string& writer);
  bool CanFoldScale(size_t bn_index) const;
  BlobList BlobsFor(const caffe::LayerParameter& layer) const;
  void AddOutputs();
  std::string Where(const caffe::LayerParameter& layer) const {
    return def_origin_ + ": " + layer.type() + " layer '" + layer.name() + "'";
  }

  const caffe::NetParameter& def_;
  const caffe::NetParameter& weights_;
  std::string def_origin_, weights_origin_;
  std::vector<const caffe::LayerParameter*> layers_;  // included in the TEST phase
  std::unordered_map<std::string, const caffe::LayerParameter*> weight_layers_;
  std::unordered_set<std::string> net_inputs_;
  std::unordered_map<std::string, int> writes_total_, writes_seen_;
  std::unordered_map<std::string, std::string> current_;  // blob -> latest SSA value
  std::unordered_map<std::string, std::string> blob_of_;  // SSA value -> blob
  std::vector<std::string> produced_;                     // SSA values in creation order
  std::unordered_set<std::string> consumed_;
  NetBuilder net_;
};

void NetImporter::SelectLayers() {
  caffe::NetState state = def_.state();
  state.set_phase(caffe::TEST);
  for (const auto& layer : def_.layer()) {
    if (LayerIncluded(state, layer)) {
      layers_.push_back(&layer);
    } else {
      LogDebug("Caffe: skipping layer '" + layer.name() + "' (not in the TEST phase)");
    }
  }
}

void NetImporter::IndexWeights() {
  if (weights_.layer_size() == 0) LogWarning("Caffe: " + weights_origin_ + " holds no layers");
  for (const auto& layer : weights_.layer()) {
    if (layer.blobs_size() > 0) weight_layers_[layer.name()] = &layer;
  }
}

// Counts the writes of every blob so the last version can keep the blob's name.
void NetImporter::ReserveBlobNames() {
  for (const auto& name : def_.input()) {
    net_inputs_.insert(name);
    ++writes_total_[name];
    net_.ReserveName(name);
  }
  for (const auto* layer : layers_) {
    for (const auto& top : layer->top()) {
      if (layer->type() == "Input") net_inputs_.insert(top);
      ++writes_total_[top];
      net_.ReserveName(top);
    }
    for (const auto& bottom : layer->bottom()) net_.ReserveName(bottom);
  }
}

// Version names: a net input keeps its name; otherwise the last write of a
// blob takes the blob's name and earlier writes are "<blob>/<writer>".
std::string NetImporter::NewVersion(const std::string& blob, const std::string& writer) {
  const int k = ++writes_seen_[blob];
  const bool named_like_blob = net_inputs_.count(blob) ? k == 1 : k == writes_total_[blob];
  std::string value;
  if (named_like_blob) {
    value = blob;
    net_.ClaimValueName(value);
  } else {
    value = net_.UniqueValueName(blob + "/" + writer);
  }
  current_[blob] = value;
  blob_of_[value] = blob;
  produced_.push_back(value);
  return value;
}

// Adds a net input after checking its declared shape (positive dims, size limit).
Status NetImporter::AddGraphInput(const std::string& blob, const std::string& writer, const std::string& where,
                                  Shape shape) {
  for (int64_t d : shape) {
    if (d > 0) continue;
    std::string dims;
    for (int64_t e : shape) dims += (dims.empty() ? "" : ",") + std::to_string(e);
    return InvalidArgument(where + ": input shape [" + dims + "] is not positive");
  }
  QCAL_RETURN_IF_ERROR(CheckTensorAllocation(DataType::kFloat32, shape, where + ": input '" + blob + "'"));
  std::string value = NewVersion(blob, writer);
  net_.SetShape(value, shape);
  net_.graph().inputs.push_back({value, DataType::kFloat32, std::move(shape)});
  return Status::Ok();
}

// Inputs declared at net level: `input` with `input_shape`, or 4 `input_dim` each.
Status NetImporter::AddNetInputs() {
  const int n = def_.input_size();
  if (n == 0) return Status::Ok();
  if (def_.input_shape_size() == n) {
    for (int i = 0; i < n; ++i) {
      const auto& dims = def_.input_shape(i).dim();
      QCAL_RETURN_IF_ERROR(AddGraphInput(def_.input(i), "input", def_origin_, Shape(dims.begin(), dims.end())));
    }
    return Status::Ok();
  }
  if (def_.input_shape_size() == 0 && def_.input_dim_size() == 4 * n) {
    for (int i = 0; i < n; ++i) {
      Shape s(def_.input_dim().begin() + 4 * i, def_.input_dim().begin() + 4 * i + 4);
      QCAL_RETURN_IF_ERROR(AddGraphInput(def_.input(i), "input", def_origin_, s));
    }
    return Status::Ok();
  }
  return InvalidArgument(def_origin_ + ": " + std::to_string(n) +
                         " net input(s) need one input_shape each or 4 " + "input_dim values each (found " +
                         std::to_string(def_.input_shape_size()) + " input_shape, " +
                         std::to_string(def_.input_dim_size()) + " input_dim)");
}

Status NetImporter::AddInputLayer(const caffe::LayerParameter& layer) {
  const auto& shapes = layer.input_param().shape();
  if (layer.top_size() == 0) return InvalidArgument(Where(layer) + ": has no top");
  if (shapes.size() != 1 && shapes.size() != layer.top_size()) {
    return InvalidArgument(Where(layer) + ": needs one input_param shape, or one per top (" +
                           std::to_string(layer.top_size()) + "), found " + std::to_string(shapes.size()));
  }
  for (int i = 0; i < layer.top_size(); ++i) {
    const auto& dims = shapes[shapes.size() == 1 ? 0 : i].dim();
    QCAL_RETURN_IF_ERROR(AddGraphInput(layer.top(i), layer.name(), Where(layer), Shape(dims.begin(), dims.end())));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> NetImporter::ResolveBottoms(const caffe::LayerParameter& layer) {
  std::vector<std::string> values;
  for (const auto& bottom : layer.bottom()) {
    auto it = current_.find(bottom);
    if (it == current_.end()) {
      return NotFound(Where(layer) + ": bottom '" + bottom +
                      "' is not produced by any earlier layer or net input");
    }
    values.push_back(it->second);
  }
  return values;
}

BlobList NetImporter::BlobsFor(const caffe::LayerParameter& layer) const {
  BlobList blobs;
  auto it = weight_layers_.find(layer.name());
  const caffe::LayerParameter* source = it != weight_layers_.end() ? it->second : &layer;
  for (const auto& b : source->blobs()) blobs.push_back(&b);
  return blobs;
}

// A BatchNorm immediately followed by a one-bottom Scale on its output (the
// usual Caffe BN + Scale pair) becomes one BatchNormalization, provided no
// later layer reads the BatchNorm output.
bool NetImporter::CanFoldScale(size_t bn_index) const {
  if (bn_index + 1 >= layers_.size()) return false;
  const auto& bn = *layers_[bn_index];
  const auto& scale = *layers_[bn_index + 1];
  if (scale.type() != "Scale" || scale.bottom_size() != 1 || scale.top_size() != 1 || bn.top_size() != 1) {
    return false;
  }
  const std::string& bn_top = bn.top(0);
  if (scale.bottom(0) != bn_top) return false;
  const auto& p = scale.scale_param();
  auto bottom = current_.find(bn.bottom(0));
  const Shape* x = bottom == current_.end() ? nullptr : net_.FindShape(bottom->second);
  if (x == nullptr || p.num_axes() != 1) return false;
  const int64_t rank = static_cast<int64_t>(x->size());
  if ((p.axis() < 0 ? p.axis() + rank : p.axis()) != 1) return false;
  if (scale.top(0) == bn_top) return true;
  for (size_t i = bn_index + 2; i < layers_.size(); ++i) {
    const auto& l = *layers_[i];
    if (std::find(l.bottom().begin(), l.bottom().end(), bn_top) != l.bottom().end()) return false;
    if (std::find(l.top().begin(), l.top().end(), bn_top) != l.top().end()) return true;
  }
  return true;
}

Status NetImporter::ConvertLayer(size_t index, size_t* consumed) {
  const auto& layer = *layers_[index];
  *consumed = 1;
  if (layer.type() == "Input") return AddInputLayer(layer);
  const LayerConverter* conv = FindLayerConverter(layer.type());
  if (conv == nullptr) {
    return Unsupported(Where(layer) + ": layer type '" + layer.type() +
                       "' is not supported (supported: " + SupportedTypes() + ")");
  }
  auto count_ok = [](int n, int lo, int hi) { return n >= lo && (hi < 0 || n <= hi); };
  if (!count_ok(layer.bottom_size(), conv->min_bottoms, conv->max_bottoms) ||
      !count_ok(layer.top_size(), conv->min_tops, conv->max_tops)) {
    return InvalidArgument(Where(layer) + ": has " + std::to_string(layer.bottom_size()) + " bottom(s) and " +
                           std::to_string(layer.top_size()) +
                           " top(s), which this layer type does not allow");
  }
  QCAL_ASSIGN_OR_RETURN(std::vector<std::string> bottoms, ResolveBottoms(layer));
  const caffe::LayerParameter* fused = nullptr;
  if (layer.type() == "BatchNorm" && CanFoldScale(index)) {
    fused = layers_[index + 1];
    *consumed = 2;
  }
  std::vector<std::string> tops;
  for (const auto& top : layer.top()) tops.push_back(NewVersion(top, layer.name()));
  if (fused) {
    tops = {NewVersion(fused->top(0), fused->name())};
    LogDebug("Caffe: folding Scale layer '" + fused->name() + "' into BatchNorm '" + layer.name() + "'");
  }
  LayerContext ctx(net_, layer, bottoms, tops, BlobsFor(layer));
  if (fused) ctx.SetFusedScale(fused, BlobsFor(*fused));
  for (size_t i = 0; i < bottoms.size(); ++i) {
    if (net_.FindShape(bottoms[i]) == nullptr) {
      return Internal(Where(layer) + ": no shape known for bottom '" + layer.bottom(static_cast<int>(i)) +
                      "'");
    }
  }
  Status st = conv->convert(ctx);
  if (!st.ok()) return st.WithContext(def_origin_);
  for (const auto& b : bottoms) consumed_.insert(b);
  return Status::Ok();
}

// Net outputs as in Caffe: the latest version of every blob no layer consumed.
void NetImporter::AddOutputs() {
  for (const auto& value : produced_) {
    if (consumed_.count(value) || current_.at(blob_of_.at(value)) != value) continue;
    if (net_inputs_.count(value)) continue;
    const Shape* s = net_.FindShape(value);
    net_.graph().outputs.push_back({value, DataType::kFloat32, s ? std::optional<Shape>(*s) : std::nullopt});
  }
}

Result<Graph> NetImporter::Run() {
  QCAL_RETURN_IF_ERROR(CheckNodeCount(def_origin_ + ": the net's layers", def_.layer_size()));
  SelectLayers();
  IndexWeights();
  ReserveBlobNames();
  QCAL_RETURN_IF_ERROR(AddNetInputs());
  for (size_t i = 0; i < layers_.size();) {
    size_t consumed = 1;
    QCAL_RETURN_IF_ERROR(ConvertLayer(i, &consumed));
    i += consumed;
  }
  AddOutputs();
  Graph& g = net_.graph();
  if (g.inputs.empty()) {
    return InvalidArgument(def_origin_ +
                           ": the net declares no inputs (use an Input layer or input/input_shape)");
  }
  if (g.outputs.empty()) return InvalidArgument(def_origin_ + ": the net has no outputs");
  g.name = def_.name();
  g.opset = 13;
  Status st = VerifyGraph(g);
  if (!st.ok())
    return Internal("Caffe import of " + def_origin_ + " built an invalid graph: " + st.message());
  return std::move(g);
}

}  // namespace
}  // namespace caffe_import

Result<Graph> ImportCaffeBuffers(std::string_view prototxt, const std::string& prototxt_origin,
                                 std::string_view caffemodel, const std::string& caffemodel_origin) {
  using namespace caffe_import;
  QCAL_ASSIGN_OR_RETURN(caffe::NetParameter def, ParseNetText(prototxt, prototxt_origin));
  QCAL_RETURN_IF_ERROR(UpgradeV1Layers(&def, prototxt_origin, /*require_types=*/true));
  NameUnnamedLayers(&def);
  QCAL_ASSIGN_OR_RETURN(caffe::NetParameter weights, ParseNetBinary(caffemodel, caffemodel_origin));
  QCAL_RETURN_IF_ERROR(UpgradeV1Layers(&weights, caffemodel_origin, /*require_types=*/false));
  NetImporter importer(def, weights, prototxt_origin, caffemodel_origin);
  return importer.Run();
}

Result<Graph> ImportCaffeFiles(const std::string& prototxt_path, const std::string& caffemodel_path) {
  QCAL_ASSIGN_OR_RETURN(std::string text, ReadFile(prototxt_path));
  QCAL_ASSIGN_OR_RETURN(std::string bytes, ReadFile(caffemodel_path));
  return ImportCaffeBuffers(text, prototxt_path, bytes, caffemodel_path);
}

}  // namespace qcal
