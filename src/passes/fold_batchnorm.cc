#include "passes/fold_batchnorm.h"

#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>

namespace qcal {
namespace {

// Where the per-output-channel axis lives in a layer's weight.
struct WeightLayout {
  int64_t out_channels = 0;
  // Output channel of weight element i.
  std::function<int64_t(int64_t)> channel_of;
};

Result<WeightLayout> LayoutOf(const Node& layer, const Tensor& w) {
  const Shape& s = w.shape();
  WeightLayout l;
  if (layer.op_type == "Conv") {
    int64_t per = w.numel() / s[0];
    l.out_channels = s[0];
    l.channel_of = [per](int64_t i) { return i / per; };
  } else if (layer.op_type == "ConvTranspose") {
    // W is [C_in, M/group, k...]; output channel = group_index * (M/group) + j.
    int64_t group = layer.attrs.GetInt("group", 1);
    int64_t cin = s[0], mg = s[1];
    int64_t spatial = w.numel() / (cin * mg);
    int64_t cin_per_group = cin / group;
    l.out_channels = mg * group;
    l.channel_of = [=](int64_t i) {
      int64_t c = i / (mg * spatial), j = (i / spatial) % mg;
      return (c / cin_per_group) * mg + j;
    };
  } else if (layer.op_type == "Gemm") {
    if (s.size() != 2) return InvalidArgument(layer.Describe() + ": weight is not 2-D");
    bool trans_b = layer.attrs.GetInt("transB", 0) != 0;
    int64_t n = trans_b ? s[0] : s[1], k = trans_b ? s[1] : s[0];
    l.out_channels = n;
    if (trans_b) {
      l.channel_of = [k](int64_t i) { return i / k; };
    } else {
      l.channel_of = [n](int64_t i) { return i % n; };
    }
  } else {
    return Unsupported(layer.Describe() + " cannot absorb a BatchNorm");
  }
  return l;
}

bool IsFoldableLayer(const Node& n, const Graph& g) {
  if (n.op_type != "Conv" && n.op_type != "ConvTranspose" && n.op_type != "Gemm") return false;
  if (n.inputs.size() < 2 || !g.IsInitializer(n.inputs[1])) return false;
  if (n.op_type == "Gemm") {
    if (n.attrs.GetFloat("alpha", 1.f) != 1.f || n.attrs.GetFloat("beta", 1.f) != 1.f) return false;
    if (n.attrs.GetInt("transA", 0) != 0) return false;
  }
  return n.inputs.size() < 3 || n.inputs[2].empty() || g.IsInitializer(n.inputs[2]);
}

// Per-channel values of a constant that broadcasts along channel axis 1 of a
// rank-`rank` output (shapes [C], [1,C,1,1], [C,1,1], scalars). Empty if not.
std::vector<float> PerChannel(const Tensor& t, int64_t channels, int64_t out_rank) {
  if (t.numel() == 1) return std::vector<float>(static_cast<size_t>(channels), t.ToFloatVector()[0]);
  if (t.numel() != channels) return {};
  const Shape& s = t.shape();
  // The non-1 dim must sit at axis 1 of the output after right-aligned broadcasting.
  int64_t offset = out_rank - static_cast<int64_t>(s.size());
  for (size_t d = 0; d < s.size(); ++d) {
    if (s[d] == channels && static_cast<int64_t>(d) + offset == 1) return t.ToFloatVector();
  }
  return {};
}

struct Affine {  // y = x * scale + shift, per channel
  std::vector<float> scale, shift;
};

// The per-channel affine map a consumer node applies, or nullopt if it is not foldable.
std::optional<Affine> AffineOf(const Node& c, const Graph& g, int64_t channels, int64_t out_rank) {
  auto constant = [&](size_t i) { return i < c.inputs.size() ? g.FindInitializer(c.inputs[i]) : nullptr; };
  if (c.op_type == "BatchNormalization") {
    if (c.outputs.size() != 1 || c.inputs.size() != 5) return std::nullopt;
    for (size_t i = 1; i < 5; ++i) if (!constant(i) || constant(i)->numel() != channels) return std::nullopt;
    if (c.attrs.GetInt("training_mode", 0) != 0) return std::nullopt;
    float eps = c.attrs.GetFloat("epsilon", 1e-5f);
    auto gamma = constant(1)->ToFloatVector(), beta = constant(2)->ToFloatVector();
    auto mean = constant(3)->ToFloatVector(), var = constant(4)->ToFloatVector();
    Affine a;
    for (int64_t i = 0; i < channels; ++i) {
      float s = gamma[i] / std::sqrt(var[i] + eps);
      a.scale.push_back(s);
      a.shift.push_back(beta[i] - mean[i] * s);
    }
    return a;
  }
  if (c.op_type != "Mul" && c.op_type != "Add") return std::nullopt;
  if (c.inputs.size() != 2) return std::nullopt;
  const Tensor* k = constant(1);
  if (!k || k->dtype() != DataType::kFloat32) return std::nullopt;
  std::vector<float> v = PerChannel(*k, channels, out_rank);
  if (v.empty()) return std::nullopt;
  if (c.op_type == "Mul") return Affine{v, std::vector<float>(v.size(), 0.f)};
  return Affine{std::vector<float>(v.size(), 1.f), v};
}

// Folds `a` into layer's weight and bias (creating a bias if absent).
Status ApplyAffine(Graph& g, Node& layer, const Affine& a, const WeightLayout& l) {
  Tensor w = g.initializers.at(layer.inputs[1]).Clone();
  float* wd = w.data<float>();
  for (int64_t i = 0; i < w.numel(); ++i) wd[i] *= a.scale[static_cast<size_t>(l.channel_of(i))];
  Tensor b(DataType::kFloat32, {l.out_channels});
  if (layer.inputs.size() >= 3 && !layer.inputs[2].empty()) {
    const Tensor& old = g.initializers.at(layer.inputs[2]);
    std::vector<float> ov = old.ToFloatVector();
    if (ov.size() != 1 && static_cast<int64_t>(ov.size()) != l.out_channels) {
      return InvalidArgument(layer.Describe() + ": bias size does not match the output channels");
    }
    for (int64_t c = 0; c < l.out_channels; ++c) b.data<float>()[c] = ov[ov.size() == 1 ? 0 : c];
  }
  for (int64_t c = 0; c < l.out_channels; ++c) {
    b.data<float>()[c] = b.data<float>()[c] * a.scale[c] + a.shift[c];
  }
  // Fresh initializer names: the originals may be shared with other nodes.
  std::string wname = g.UniqueValueName(layer.name + "_folded_weight");
  g.initializers[wname] = w;
  layer.inputs[1] = wname;
  std::string bname = g.UniqueValueName(layer.name + "_folded_bias");
  g.initializers[bname] = b;
  if (layer.inputs.size() < 3) layer.inputs.resize(3);
  layer.inputs[2] = bname;
  return Status::Ok();
}

void RemoveUnusedInitializers(Graph& g) {
  std::set<std::string> used;
  for (const auto& n : g.nodes) for (const auto& in : n.inputs) used.insert(in);
  for (const auto& o : g.outputs) used.insert(o.name);
  for (auto it = g.initializers.begin(); it != g.initializers.end();) {
    it = used.count(it->first) ? std::next(it) : g.initializers.erase(it);
  }
}

// Tries one fold; returns true if the graph changed.
Result<bool> FoldOnce(Graph& g, const FoldOptions& opts, std::map<std::string, std::vector<std::string>>& fused) {
  auto consumers = g.ConsumerIndex();
  std::set<std::string> graph_outputs;
  for (const auto& o : g.outputs) graph_outputs.insert(o.name);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& layer = g.nodes[i];
    if (!IsFoldableLayer(layer, g) || opts.skip_layers.count(layer.name)) continue;
    const std::string& y = layer.outputs[0];
    auto it = consumers.find(y);
    if (graph_outputs.count(y) || it == consumers.end() || it->second.size() != 1) continue;
    const Node& next = g.nodes[it->second[0]];
    if (next.inputs.empty() || next.inputs[0] != y) continue;
    const Tensor& w = g.initializers.at(layer.inputs[1]);
    if (w.dtype() != DataType::kFloat32) continue;
    QCAL_ASSIGN_OR_RETURN(WeightLayout l, LayoutOf(layer, w));
    const ValueInfo* vi = g.FindValueInfo(y);
    // Conv/ConvTranspose outputs have the weight's rank; Gemm outputs are 2-D.
    int64_t rank = layer.op_type == "Gemm" ? 2 : w.rank();
    if (vi && vi->shape) rank = static_cast<int64_t>(vi->shape->size());
    auto affine = AffineOf(next, g, l.out_channels, rank);
    if (!affine) continue;
    QCAL_RETURN_IF_ERROR(ApplyAffine(g, layer, *affine, l));
    fused[layer.name].push_back(next.name);
    layer.outputs[0] = next.outputs[0];
    g.nodes.erase(g.nodes.begin() + static_cast<std::ptrdiff_t>(it->second[0]));
    g.value_info.erase(y);
    return true;
  }
  return false;
}

}  // namespace

Result<std::vector<Fusion>> FoldBatchNorm(Graph& graph, const FoldOptions& options) {
  std::map<std::string, std::vector<std::string>> fused;
  for (;;) {
    QCAL_ASSIGN_OR_RETURN(bool changed, FoldOnce(graph, options, fused));
    if (!changed) break;
  }
  RemoveUnusedInitializers(graph);
  std::vector<Fusion> out;
  for (const auto& n : graph.nodes) {
    auto it = fused.find(n.name);
    if (it != fused.end()) out.push_back({n.name, it->second});
  }
  return out;
}

}  // namespace qcal
