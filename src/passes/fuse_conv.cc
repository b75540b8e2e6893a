#include "passes/fuse_conv.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "kernels/fused_activation.h"

namespace qcal {
namespace {

using ParamReader = std::optional<std::vector<float>> (*)(const Graph& g, const Node& n);

// ONNX activation op -> FusedConv activation and how to read its parameters
// (nullopt: parameters not constant, the node is not fused).
struct ActivationPattern {
  std::string_view op_type;
  std::string_view activation;  // a kernels/fused_activation.h name
  ParamReader params;
};

std::optional<std::vector<float>> NoParams(const Graph&, const Node&) { return std::vector<float>{}; }

std::optional<std::vector<float>> LeakyReluParams(const Graph&, const Node& n) {
  return std::vector<float>{n.attrs.GetFloat("alpha", 0.01f)};
}

// Clip bounds: attributes before opset 11, optional constant scalar inputs after.
std::optional<std::vector<float>> ClipParams(const Graph& g, const Node& n) {
  std::vector<float> p = {std::numeric_limits<float>::lowest(), std::numeric_limits<float>::max()};
  if (g.opset < 11) {
    p[0] = n.attrs.GetFloat("min", p[0]);
    p[1] = n.attrs.GetFloat("max", p[1]);
    return p;
  }
  for (size_t i = 1; i < n.inputs.size() && i < 3; ++i) {
    if (n.inputs[i].empty()) continue;
    const Tensor* t = g.FindInitializer(n.inputs[i]);
    if (!t || t->dtype() != DataType::kFloat32 || t->numel() != 1) return std::nullopt;
    p[i - 1] = t->data<float>()[0];
  }
  return p;
}

const ActivationPattern kActivationPatterns[] = {
    {"Relu", "Relu", NoParams},   {"LeakyRelu", "LeakyRelu", LeakyReluParams},
    {"Clip", "Clip", ClipParams}, {"Sigmoid", "Sigmoid", NoParams},
    {"Tanh", "Tanh", NoParams},
};

const ActivationPattern* FindPattern(std::string_view op_type) {
  for (const auto& p : kActivationPatterns) {
    if (p.op_type == op_type) return &p;
  }
  return nullptr;
}

bool IsOnnxDomain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

bool IsFloat(const Graph& g, const std::string& value) {
  if (const Tensor* t = g.FindInitializer(value)) return t->dtype() == DataType::kFloat32;
  const ValueInfo* vi = g.FindValueInfo(value);
  return vi && vi->dtype == DataType::kFloat32;
}

// A float Conv whose inputs do not come from DequantizeLinear (those belong to
// the int8 fusions).
bool IsFusableConv(const Graph& g, const Node& n, const std::unordered_map<std::string, size_t>& producers) {
  if (n.op_type != "Conv" || !IsOnnxDomain(n) || n.inputs.size() < 2 || n.outputs.size() != 1) return false;
  for (const auto& in : n.inputs) {
    if (in.empty()) continue;
    if (!IsFloat(g, in)) return false;
    auto it = producers.find(in);
    if (it != producers.end() && g.nodes[it->second].op_type == "DequantizeLinear") return false;
  }
  return true;
}

// Static shapes equal (a symbolic batch dim 0 on both sides counts as equal).
bool SameShape(const Graph& g, const std::string& a, const std::string& b) {
  const ValueInfo* va = g.FindValueInfo(a);
  const ValueInfo* vb = g.FindValueInfo(b);
  if (!va || !vb || !va->shape || !vb->shape || va->shape->size() != vb->shape->size()) return false;
  for (size_t d = 0; d < va->shape->size(); ++d) {
    const int64_t x = (*va->shape)[d], y = (*vb->shape)[d];
    if (x != y || (x < 0 && d != 0)) return false;
  }
  return true;
}

class ConvFuser {
 public:
  ConvFuser(Graph& g, const ConvFusionOptions& options)
      : g_(g),
        options_(options),
        consumers_(g.ConsumerIndex()),
        producers_(g.ProducerIndex()),
        removed_(g.nodes.size(), false) {}

  void Run(ConvFusionStats& stats) {
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      if (!removed_[i] && IsFusableConv(g_, g_.nodes[i], producers_)) FuseFrom(i, stats);
    }
    std::vector<Node> kept;
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      if (!removed_[i]) kept.push_back(std::move(g_.nodes[i]));
    }
    g_.nodes = std::move(kept);
  }

 private:
  // The single live consumer of `value`, if the value may disappear.
  std::optional<size_t> SoleConsumer(const std::string& value) const {
    if (options_.keep_values.count(value)) return std::nullopt;
    for (const auto& o : g_.outputs) {
      if (o.name == value) return std::nullopt;
    }
    auto it = consumers_.find(value);
    if (it == consumers_.end() || it->second.size() != 1 || removed_[it->second[0]]) return std::nullopt;
    return it->second[0];
  }

  void FuseFrom(size_t conv, ConvFusionStats& stats) {
    Node fused = g_.nodes[conv];
    std::string out = fused.outputs[0];
    std::vector<size_t> chain = {conv};  // node indices, increasing (topological order)
    std::string z;
    std::vector<std::string> gone;  // intermediate values that disappear
    if (auto j = SoleConsumer(out); j && options_.fuse_add && g_.nodes[*j].op_type == "Add" &&
                                    IsOnnxDomain(g_.nodes[*j]) && g_.nodes[*j].inputs.size() == 2) {
      const Node& add = g_.nodes[*j];
      const std::string& other = add.inputs[0] == out ? add.inputs[1] : add.inputs[0];
      if (other != out && IsFloat(g_, other) && SameShape(g_, out, other)) {
        z = other;
        gone.push_back(out);
        out = add.outputs[0];
        chain.push_back(*j);
        ++stats.fused_adds;
      }
    }
    const bool exact = options_.exact_add && !z.empty();
    if (auto k = SoleConsumer(out); k && g_.nodes[*k].inputs[0] == out) {
      const Node& act = g_.nodes[*k];
      const ActivationPattern* p =
          IsOnnxDomain(act) && (!exact || act.op_type == "Relu") ? FindPattern(act.op_type) : nullptr;
      std::optional<std::vector<float>> params = p ? p->params(g_, act) : std::nullopt;
      if (params) {
        fused.attrs.Set("activation", Attribute(std::string(p->activation)));
        if (!params->empty()) fused.attrs.Set("activation_params", Attribute(*params));
        gone.push_back(out);
        out = act.outputs[0];
        chain.push_back(*k);
        ++stats.fused_activations;
      }
    }
    if (chain.size() == 1) return;
    fused.op_type = "FusedConv";
    fused.domain = "com.microsoft";
    fused.inputs.resize(z.empty() ? std::min<size_t>(fused.inputs.size(), 3) : 4);
    if (!z.empty()) fused.inputs[3] = z;
    if (exact) fused.attrs.Set(kExactSumAttr, int64_t{1});
    fused.outputs = {out};
    // The fused node takes the last node's place, where Z is already computed.
    for (size_t c : chain) removed_[c] = c != chain.back();
    g_.nodes[chain.back()] = std::move(fused);
    for (const auto& v : gone) g_.value_info.erase(v);
  }

  Graph& g_;
  const ConvFusionOptions& options_;
  std::unordered_map<std::string, std::vector<size_t>> consumers_;
  std::unordered_map<std::string, size_t> producers_;
  std::vector<bool> removed_;
};

}  // namespace

Status FuseConvForInference(Graph& graph, const ConvFusionOptions& options, ConvFusionStats* stats) {
  ConvFusionStats local;
  ConvFuser(graph, options).Run(stats ? *stats : local);
  return VerifyGraph(graph);
}

}  // namespace qcal
