#include "passes/fuse_quantized_ops.h"

#include <cmath>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>

#include "passes/quant_graph_util.h"

namespace qcal {
namespace {

using Producers = std::unordered_map<std::string, size_t>;
using Consumers = std::unordered_map<std::string, std::vector<size_t>>;

// ---- the layer table ----

struct LayerPattern {
  std::string_view op_type;
  std::string_view fused_op;
  int bias_input;  // -1: the op has no bias input
  // Attribute / shape conditions; writes the fused node's attributes.
  bool (*accept)(const Node& layer, const Graph& g, Attributes& fused_attrs);
  // Axis of W that holds the output channels.
  int64_t (*weight_axis)(const Node& layer);
};

bool AcceptConv(const Node& layer, const Graph&, Attributes& attrs) {
  attrs = layer.attrs;
  return true;
}

bool AcceptGemm(const Node& layer, const Graph& g, Attributes& attrs) {
  const auto& a = layer.attrs;
  if (a.GetFloat("alpha", 1.0f) != 1.0f || a.GetFloat("beta", 1.0f) != 1.0f || a.GetInt("transA", 0) != 0) {
    return false;
  }
  if (layer.inputs.size() > 2 && !layer.inputs[2].empty()) {
    const ValueInfo* c = g.FindValueInfo(layer.inputs[2]);
    const Tensor* ct = g.FindInitializer(layer.inputs[2]);
    const bool one_d = (ct && ct->rank() == 1) || (c && c->shape && c->shape->size() == 1);
    if (!one_d) return false;
  }
  attrs.Set("trans_b", a.GetInt("transB", 0) != 0 ? int64_t{1} : int64_t{0});
  return true;
}

bool AcceptMatMul(const Node& layer, const Graph& g, Attributes&) {
  const ValueInfo* a = g.FindValueInfo(layer.inputs[0]);
  return a && a->shape && a->shape->size() >= 2;
}

int64_t AxisZero(const Node&) { return 0; }
int64_t AxisOne(const Node&) { return 1; }
int64_t GemmWeightAxis(const Node& layer) { return layer.attrs.GetInt("transB", 0) != 0 ? 0 : 1; }

const LayerPattern kLayers[] = {
    {"Conv", "QcalQConv", 2, AcceptConv, AxisZero},
    {"Gemm", "QcalQMatMul", 2, AcceptGemm, GemmWeightAxis},
    {"MatMul", "QcalQMatMul", -1, AcceptMatMul, AxisOne},
};

// ---- the activation table ----

struct Bounds {
  std::optional<float> min, max;
};

std::optional<Bounds> ReluBounds(const Node&, const Graph&) { return Bounds{0.0f, std::nullopt}; }

std::optional<float> ConstScalarFloat(const Graph& g, const std::string& value) {
  const Tensor* t = g.FindInitializer(value);
  if (!t || t->dtype() != DataType::kFloat32 || t->numel() != 1) return std::nullopt;
  return t->data<float>()[0];
}

std::optional<Bounds> ClipBounds(const Node& n, const Graph& g) {
  Bounds b;
  for (size_t i = 1; i < 3 && i < n.inputs.size(); ++i) {
    if (n.inputs[i].empty()) continue;
    auto v = ConstScalarFloat(g, n.inputs[i]);
    if (!v || std::isnan(*v)) return std::nullopt;
    (i == 1 ? b.min : b.max) = *v;
  }
  if (b.min && b.max && *b.min > *b.max) return std::nullopt;
  return b;
}

struct ActivationPattern {
  std::string_view op_type;
  std::optional<Bounds> (*bounds)(const Node& n, const Graph& g);
};

const ActivationPattern kActivations[] = {
    {"Relu", ReluBounds},
    {"Clip", ClipBounds},
};

// ---- Q / DQ parameters ----

struct LinearQuant {
  const Node* node = nullptr;
  std::string value, scale, zero_point;  // the quantized value and its parameters ("" zero point: absent)
};

// Scale / zero point of a Q or DQ node: constants; per-tensor, or (per_axis_len
// > 0) 1-D of that length on axis `axis` of a rank-`rank` tensor.
bool ConstParams(const Graph& g, const Node& n, int64_t per_axis_len, int64_t axis, int64_t rank) {
  if (n.attrs.GetInt("block_size", 0) != 0) return false;
  const Tensor* s = Init(g, n, 1);
  if (!s || s->dtype() != DataType::kFloat32) return false;
  if (HasInput(n, 2) && (!Init(g, n, 2) || Init(g, n, 2)->numel() != s->numel())) return false;
  for (int64_t i = 0; i < s->numel(); ++i) {
    if (!std::isfinite(s->data<float>()[i]) || s->data<float>()[i] <= 0) return false;
  }
  if (s->numel() == 1 && s->rank() <= 1) return true;
  int64_t a = n.attrs.GetInt("axis", 1);
  if (a < 0) a += rank;
  return per_axis_len > 0 && s->rank() == 1 && s->numel() == per_axis_len && a == axis;
}

LinearQuant FromNode(const Node& n) {
  return {&n, n.inputs[0], n.inputs[1], HasInput(n, 2) ? n.inputs[2] : ""};
}

const Node* ProducerOf(const Graph& g, const Producers& prod, const std::string& v, std::string_view op) {
  auto it = prod.find(v);
  if (it == prod.end() || g.nodes[it->second].op_type != op) return nullptr;
  return &g.nodes[it->second];
}

// x = DequantizeLinear(x_q) with per-tensor constant parameters and an int8/uint8 x_q.
std::optional<LinearQuant> ActivationDq(const Graph& g, const Producers& prod, const std::string& v) {
  const Node* dq = ProducerOf(g, prod, v, "DequantizeLinear");
  if (!dq || !IsQuant8(ValueType(g, dq->inputs[0])) || !ConstParams(g, *dq, 0, 0, 0)) return std::nullopt;
  return FromNode(*dq);
}

// W = DequantizeLinear(W_q int8 initializer), per-tensor or per output channel.
std::optional<LinearQuant> WeightDq(const Graph& g, const Producers& prod, const std::string& v,
                                    int64_t axis) {
  const Node* dq = ProducerOf(g, prod, v, "DequantizeLinear");
  if (!dq) return std::nullopt;
  const Tensor* w = g.FindInitializer(dq->inputs[0]);
  if (!w || w->dtype() != DataType::kInt8 || axis >= w->rank()) return std::nullopt;
  if (!ConstParams(g, *dq, w->dim(axis), axis, w->rank())) return std::nullopt;
  return FromNode(*dq);
}

// B = DequantizeLinear(B_q int32 [M] initializer) with zero point 0 and scale x_scale * w_scale[m].
std::optional<LinearQuant> BiasDq(const Graph& g, const Producers& prod, const std::string& v, float x_scale,
                                  const Tensor& w_scale, int64_t channels) {
  const Node* dq = ProducerOf(g, prod, v, "DequantizeLinear");
  if (!dq) return std::nullopt;
  const Tensor* b = g.FindInitializer(dq->inputs[0]);
  if (!b || b->dtype() != DataType::kInt32 || b->rank() != 1 || b->numel() != channels) return std::nullopt;
  if (!ConstParams(g, *dq, channels, 0, 1)) return std::nullopt;
  if (const Tensor* zp = Init(g, *dq, 2)) {
    for (int64_t i = 0; i < zp->numel(); ++i) {
      if (zp->GetAsInt64(i) != 0) return std::nullopt;
    }
  }
  const Tensor& s = *Init(g, *dq, 1);
  for (int64_t m = 0; m < channels; ++m) {
    const float want = x_scale * w_scale.data<float>()[w_scale.numel() == 1 ? 0 : m];
    const float got = s.data<float>()[s.numel() == 1 ? 0 : m];
    if (std::fabs(got - want) > 1e-5f * want) return std::nullopt;
  }
  return FromNode(*dq);
}

// ---- matching ----

struct Match {
  size_t layer;
  const LayerPattern* pattern;
  Node fused;
  std::vector<size_t> absorbed;
  std::optional<Tensor> new_zero_point;  // QuantizeLinear without zero point: uint8 / output_dtype 0
};

// The single consumer of v (not a graph output), if it has the given op type among `ops`.
std::optional<size_t> SoleConsumer(const Graph& g, const Consumers& cons,
                                   const std::set<std::string>& outputs, const std::string& v) {
  auto it = cons.find(v);
  if (outputs.count(v) || it == cons.end() || it->second.size() != 1) return std::nullopt;
  return it->second[0];
}

const ActivationPattern* FindActivation(std::string_view op) {
  for (const auto& a : kActivations) {
    if (a.op_type == op) return &a;
  }
  return nullptr;
}

const LayerPattern* FindLayer(std::string_view op) {
  for (const auto& l : kLayers) {
    if (l.op_type == op) return &l;
  }
  return nullptr;
}

void SetBounds(const Bounds& b, Attributes& attrs) {
  if (b.min) attrs.Set("activation_min", *b.min);
  if (b.max) attrs.Set("activation_max", *b.max);
}

// Output side: [activation] [QuantizeLinear]; fills the fused node's output,
// y_scale / y_zero_point inputs and activation attributes.
void MatchOutputChain(const Graph& g, const Consumers& cons, const std::set<std::string>& outputs, Match& m) {
  std::string out = g.nodes[m.layer].outputs[0];
  if (auto c = SoleConsumer(g, cons, outputs, out)) {
    const Node& act = g.nodes[*c];
    const ActivationPattern* ap = FindActivation(act.op_type);
    if (ap && act.outputs.size() == 1) {
      if (auto b = ap->bounds(act, g)) {
        SetBounds(*b, m.fused.attrs);
        m.absorbed.push_back(*c);
        out = act.outputs[0];
      }
    }
  }
  m.fused.outputs = {out};
  auto c = SoleConsumer(g, cons, outputs, out);
  if (!c || g.nodes[*c].op_type != "QuantizeLinear") return;
  const Node& q = g.nodes[*c];
  if (!ConstParams(g, q, 0, 0, 0) || !IsQuant8(ValueType(g, q.outputs[0]))) return;
  m.absorbed.push_back(*c);
  m.fused.outputs = {q.outputs[0]};
  m.fused.inputs[6] = q.inputs[1];
  if (HasInput(q, 2)) {
    m.fused.inputs[7] = q.inputs[2];
  } else {
    m.new_zero_point = Tensor(ValueType(g, q.outputs[0]), {});  // zeros
  }
}

std::optional<Match> MatchLayer(const Graph& g, const Producers& prod, const Consumers& cons,
                                const std::set<std::string>& outputs, size_t index) {
  const Node& layer = g.nodes[index];
  const LayerPattern* p = FindLayer(layer.op_type);
  if (!p || layer.inputs.size() < 2 || layer.outputs.size() != 1) return std::nullopt;
  Match m{index, p, Node{layer.name, std::string(p->fused_op), "", {}, {}, {}}, {}, std::nullopt};
  if (!p->accept(layer, g, m.fused.attrs)) return std::nullopt;
  auto x = ActivationDq(g, prod, layer.inputs[0]);
  auto w = WeightDq(g, prod, layer.inputs[1], p->weight_axis(layer));
  if (!x || !w) return std::nullopt;
  const Tensor& w_q = *g.FindInitializer(w->value);
  const int64_t channels = w_q.dim(p->weight_axis(layer));
  std::string bias;
  if (p->bias_input >= 0 && HasInput(layer, static_cast<size_t>(p->bias_input))) {
    auto b = BiasDq(g, prod, layer.inputs[static_cast<size_t>(p->bias_input)],
                    g.FindInitializer(x->scale)->data<float>()[0], *g.FindInitializer(w->scale), channels);
    if (!b) return std::nullopt;
    bias = b->value;
  }
  m.fused.inputs = {x->value, x->scale, x->zero_point, w->value, w->scale, w->zero_point, "", "", bias};
  MatchOutputChain(g, cons, outputs, m);
  while (!m.fused.inputs.empty() && m.fused.inputs.back().empty()) m.fused.inputs.pop_back();
  return m;
}

// Puts replace[i] in place of node i and drops the nodes in `drop`.
void Rewrite(Graph& g, std::unordered_map<size_t, Node*>& replace, const std::set<size_t>& drop) {
  std::vector<Node> nodes;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (drop.count(i)) continue;
    auto it = replace.find(i);
    nodes.push_back(it == replace.end() ? std::move(g.nodes[i]) : std::move(*it->second));
  }
  g.nodes = std::move(nodes);
}

// Replaces each matched layer by its fused node and drops the absorbed nodes.
void Apply(Graph& g, std::vector<Match>& matches) {
  std::unordered_map<size_t, Node*> replace;
  std::set<size_t> drop;
  for (Match& m : matches) {
    if (m.new_zero_point) {
      const std::string zp = g.UniqueValueName(m.fused.name + "_y_zero_point");
      g.initializers[zp] = *m.new_zero_point;
      m.fused.inputs.resize(std::max<size_t>(m.fused.inputs.size(), 8));
      m.fused.inputs[7] = zp;
    }
    replace[m.layer] = &m.fused;
    drop.insert(m.absorbed.begin(), m.absorbed.end());
  }
  Rewrite(g, replace, drop);
}

// ---- residual: float QcalQConv -> Add(Z) [-> Relu] ----

// Activations after the Add, as the fused node's residual_activation (kernels/ref/quant_output.h).
// Clip is not among them: it keeps NaN where residual_activation "Relu" gives 0.
const std::string_view kResidualActivations[] = {"Relu"};

constexpr size_t kResidualInput = 9;  // QcalQConv's input Z

bool IsResidualActivation(std::string_view op) {
  for (std::string_view a : kResidualActivations) {
    if (a == op) return true;
  }
  return false;
}

// Both values have the same rank and dims (a dim unknown in both is taken as equal;
// the executor's shape inference checks it against Y's when the shapes are known).
bool SameShape(const Graph& g, const std::string& a, const std::string& b) {
  const ValueInfo* va = g.FindValueInfo(a);
  const ValueInfo* vb = g.FindValueInfo(b);
  return va && vb && va->shape && vb->shape && *va->shape == *vb->shape;
}

struct ResidualMatch {
  size_t conv, add;
  std::optional<size_t> activation;
  Node fused;
};

std::optional<ResidualMatch> MatchResidual(const Graph& g, const Consumers& cons,
                                           const std::set<std::string>& outputs, size_t index) {
  const Node& conv = g.nodes[index];
  if (conv.op_type != "QcalQConv" || conv.outputs.size() != 1 || HasInput(conv, 6) ||
      conv.inputs.size() > kResidualInput) {
    return std::nullopt;
  }
  const std::string& y = conv.outputs[0];
  auto a = SoleConsumer(g, cons, outputs, y);
  if (!a || g.nodes[*a].op_type != "Add") return std::nullopt;
  const Node& add = g.nodes[*a];
  if (add.inputs.size() != 2 || add.outputs.size() != 1 || add.inputs[0] == add.inputs[1])
    return std::nullopt;
  const std::string& z = add.inputs[0] == y ? add.inputs[1] : add.inputs[0];
  if (ValueType(g, z) != DataType::kFloat32 || !SameShape(g, z, y) || !SameShape(g, add.outputs[0], y)) {
    return std::nullopt;
  }
  ResidualMatch m{index, *a, std::nullopt, conv};
  m.fused.inputs.resize(kResidualInput + 1);
  m.fused.inputs[kResidualInput] = z;
  m.fused.outputs = add.outputs;
  if (auto r = SoleConsumer(g, cons, outputs, add.outputs[0])) {
    const Node& act = g.nodes[*r];
    if (IsResidualActivation(act.op_type) && act.inputs.size() == 1 && act.outputs.size() == 1) {
      m.activation = *r;
      m.fused.attrs.Set("residual_activation", act.op_type);
      m.fused.outputs = act.outputs;
    }
  }
  return m;
}

// Fuses every match (an Add whose two inputs both match is taken once); the fused
// node goes where the Add was, after Z's producer. Adds the absorbed names to `report`.
void FuseResiduals(Graph& g, std::vector<QuantizedFusion>& report) {
  const Consumers cons = g.ConsumerIndex();
  std::set<std::string> outputs;
  for (const auto& o : g.outputs) outputs.insert(o.name);
  std::vector<ResidualMatch> matches;
  std::set<size_t> adds;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    auto m = MatchResidual(g, cons, outputs, i);
    if (m && adds.insert(m->add).second) matches.push_back(std::move(*m));
  }
  std::unordered_map<size_t, Node*> replace;
  std::set<size_t> drop;
  for (ResidualMatch& m : matches) {
    replace[m.add] = &m.fused;
    drop.insert(m.conv);
    if (m.activation) drop.insert(*m.activation);
    for (QuantizedFusion& f : report) {
      if (f.layer != m.fused.name) continue;
      f.residual = true;
      f.absorbed.push_back(g.nodes[m.add].name);
      if (m.activation) f.absorbed.push_back(g.nodes[*m.activation].name);
    }
  }
  Rewrite(g, replace, drop);
}

// ---- quantized copy: float QcalQConv -> QuantizeLinear ----

constexpr size_t kQScaleInput = 10;  // QcalQConv's q_scale, q_zero_point (10, 11)

// A QuantizeLinear reading conv's float output with per-tensor constant
// parameters and an int8/uint8 zero point (the first such consumer).
std::optional<size_t> QuantizeConsumer(const Graph& g, const Consumers& cons, const Node& conv) {
  if (conv.op_type != "QcalQConv" || conv.outputs.size() != 1 || HasInput(conv, 6)) return std::nullopt;
  auto it = cons.find(conv.outputs[0]);
  if (it == cons.end()) return std::nullopt;
  for (size_t c : it->second) {
    const Node& q = g.nodes[c];
    if (q.op_type == "QuantizeLinear" && q.inputs.size() == 3 && q.inputs[0] == conv.outputs[0] &&
        q.outputs.size() == 1 && ConstParams(g, q, 0, 0, 0) && Init(g, q, 2) &&
        IsQuant8(Init(g, q, 2)->dtype()) && IsQuant8(ValueType(g, q.outputs[0]))) {
      return c;
    }
  }
  return std::nullopt;
}

// Gives each float QcalQConv read by such a QuantizeLinear the Q's output as
// its second output Yq (inputs q_scale, q_zero_point) and drops the Q. A Y
// read by nothing else (not a graph output) becomes an absent output ("").
void FuseQuantizedCopies(Graph& g, std::vector<QuantizedFusion>& report) {
  const Consumers cons = g.ConsumerIndex();
  std::set<std::string> outputs;
  for (const auto& o : g.outputs) outputs.insert(o.name);
  std::set<size_t> drop;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const auto q = QuantizeConsumer(g, cons, g.nodes[i]);
    if (!q) continue;
    Node& conv = g.nodes[i];
    const Node& qn = g.nodes[*q];
    conv.inputs.resize(kQScaleInput + 2);
    conv.inputs[kQScaleInput] = qn.inputs[1];
    conv.inputs[kQScaleInput + 1] = qn.inputs[2];
    conv.outputs.push_back(qn.outputs[0]);
    if (cons.at(conv.outputs[0]).size() == 1 && !outputs.count(conv.outputs[0])) conv.outputs[0].clear();
    drop.insert(*q);
    for (QuantizedFusion& f : report) {
      if (f.layer != conv.name) continue;
      f.quantized_copy = true;
      f.absorbed.push_back(qn.name);
    }
  }
  std::unordered_map<size_t, Node*> none;
  Rewrite(g, none, drop);
}

}  // namespace

Result<std::vector<QuantizedFusion>> FuseQuantizedOps(Graph& graph, const QuantizedFusionOptions& options) {
  const Producers prod = graph.ProducerIndex();
  const Consumers cons = graph.ConsumerIndex();
  std::set<std::string> outputs;
  for (const auto& o : graph.outputs) outputs.insert(o.name);
  std::vector<Match> matches;
  std::vector<QuantizedFusion> report;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    auto m = MatchLayer(graph, prod, cons, outputs, i);
    if (!m) continue;
    const bool quantized = m->fused.inputs.size() > 6 && !m->fused.inputs[6].empty();
    QuantizedFusion f{graph.nodes[i].name, m->fused.op_type, {}, quantized};
    for (size_t a : m->absorbed) f.absorbed.push_back(graph.nodes[a].name);
    report.push_back(std::move(f));
    matches.push_back(std::move(*m));
  }
  Apply(graph, matches);
  if (options.residual) FuseResiduals(graph, report);
  if (options.quantized_copy) FuseQuantizedCopies(graph, report);
  return report;
}

}  // namespace qcal
