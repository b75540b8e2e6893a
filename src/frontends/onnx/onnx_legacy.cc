// Old-opset node forms -> the canonical forms kernels implement (docs/ops.md).
//
// Rewrites are chosen by op type (table at the bottom) and detect the old form
// by its attributes, so they also fix models whose opset_import is off. Values
// moved from attributes to inputs become int64/float32 initializers named after
// the node. Legacy broadcasting (opset < 7, broadcast=1 + axis) needs the ranks
// of both inputs; they are propagated through the graph with a small table of
// rank rules (the graph is topologically sorted before this runs).
#include <algorithm>
#include <cctype>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "frontends/onnx/onnx_internal.h"

namespace qcal::onnx_import {
namespace {

class Rewriter {
 public:
  explicit Rewriter(Graph& graph);
  Status Run();

  Graph& graph;
  std::vector<Node> added;  // new nodes, appended after the pass

  std::optional<int64_t> Rank(const std::string& value) const;
  std::string NewValueName(const std::string& base) { return Reserve(value_names_, base); }
  std::string NewNodeName(const std::string& base) { return Reserve(node_names_, base); }
  // Adds an initializer under a fresh name derived from `base`; returns the name.
  std::string AddInitializer(const std::string& base, Tensor t);
  // `value` (an initializer) with a new shape for the node's use only: replaced
  // in place when nothing else reads it, else added under a new name.
  std::string ReshapeInitializer(const std::string& value, const Shape& shape);
  bool IsUsed(const std::string& value) const { return uses_.count(value) && uses_.at(value) > 0; }
  void SetRank(const std::string& value, int64_t rank) { ranks_[value] = rank; }

 private:
  static std::string Reserve(std::unordered_set<std::string>& used, const std::string& base);
  void InferRanks(const Node& node);

  std::unordered_set<std::string> value_names_;
  std::unordered_set<std::string> node_names_;
  std::unordered_map<std::string, int> uses_;  // node inputs and graph outputs
  std::unordered_map<std::string, int64_t> ranks_;
};

// ---- attribute helpers ----

// Removes attribute `name` and returns its value; errors if it has another kind.
template <typename T>
Result<std::optional<T>> Take(Node& node, const std::string& name) {
  const Attribute* a = node.attrs.Find(name);
  if (!a) return std::optional<T>();
  if (!std::holds_alternative<T>(*a)) {
    return InvalidArgument(node.Describe() + ": attribute '" + name + "' has an unexpected type (" +
                           AttributeToString(*a) + ")");
  }
  std::optional<T> v = std::get<T>(*a);
  node.attrs.Erase(name);
  return v;
}

// Puts `value_name` at input position `index` (padding with omitted inputs).
Status SetInput(Node& node, size_t index, const std::string& value_name, const std::string& what) {
  if (node.inputs.size() > index && !node.inputs[index].empty()) {
    return InvalidArgument(node.Describe() + " has both a '" + what + "' attribute and input");
  }
  if (node.inputs.size() <= index) node.inputs.resize(index + 1);
  node.inputs[index] = value_name;
  return Status::Ok();
}

// Moves an INTS attribute to an int64 1-D initializer input.
Status IntsAttrToInput(Rewriter& rw, Node& node, const std::string& attr, size_t index) {
  QCAL_ASSIGN_OR_RETURN(auto v, Take<std::vector<int64_t>>(node, attr));
  if (!v) return Status::Ok();
  Tensor t = Tensor::FromVector(*v, {static_cast<int64_t>(v->size())});
  return SetInput(node, index, rw.AddInitializer(node.name + "_" + attr, std::move(t)), attr);
}

// Moves a FLOAT attribute to a float32 scalar initializer input.
Status FloatAttrToInput(Rewriter& rw, Node& node, const std::string& attr, size_t index) {
  QCAL_ASSIGN_OR_RETURN(auto v, Take<float>(node, attr));
  if (!v) return Status::Ok();
  return SetInput(node, index, rw.AddInitializer(node.name + "_" + attr, Tensor::Scalar(*v)), attr);
}

// ---- rewrites, one per old form ----

Status RewriteReshape(Rewriter& rw, Node& node) { return IntsAttrToInput(rw, node, "shape", 1); }
Status RewriteAxesAttr(Rewriter& rw, Node& node) { return IntsAttrToInput(rw, node, "axes", 1); }
Status RewriteSplit(Rewriter& rw, Node& node) { return IntsAttrToInput(rw, node, "split", 1); }

// Slice-1: starts/ends/axes attributes -> inputs 1..3.
Status RewriteSlice(Rewriter& rw, Node& node) {
  if (!node.attrs.Has("starts") && !node.attrs.Has("ends")) return Status::Ok();
  if (!node.attrs.Has("starts") || !node.attrs.Has("ends")) {
    return InvalidArgument(node.Describe() + ": opset-1 Slice needs both 'starts' and 'ends'");
  }
  QCAL_RETURN_IF_ERROR(IntsAttrToInput(rw, node, "starts", 1));
  QCAL_RETURN_IF_ERROR(IntsAttrToInput(rw, node, "ends", 2));
  return IntsAttrToInput(rw, node, "axes", 3);
}

// Pad-1/2: pads (or opset-1 'paddings') and value attributes -> inputs 1, 2.
Status RewritePad(Rewriter& rw, Node& node) {
  if (auto* p = node.attrs.Find("paddings")) {
    node.attrs.Set("pads", *p);
    node.attrs.Erase("paddings");
  }
  QCAL_RETURN_IF_ERROR(IntsAttrToInput(rw, node, "pads", 1));
  return FloatAttrToInput(rw, node, "value", 2);
}

// Clip-1/6: min/max attributes -> inputs 1, 2.
Status RewriteClip(Rewriter& rw, Node& node) {
  QCAL_RETURN_IF_ERROR(FloatAttrToInput(rw, node, "min", 1));
  return FloatAttrToInput(rw, node, "max", 2);
}

Result<std::string> ResizeMode(const Node& node, std::string mode) {
  std::transform(mode.begin(), mode.end(), mode.begin(), [](unsigned char c) { return std::tolower(c); });
  if (mode == "bilinear") mode = "linear";
  if (mode != "nearest" && mode != "linear") {
    return InvalidArgument(node.Describe() + ": unknown mode '" + mode + "' (expected nearest or linear)");
  }
  return mode;
}

// Upsample/Resize-10 semantics in Resize-11 terms: out = in * scale with
// asymmetric coordinates, nearest rounding down.
void SetLegacyResizeAttrs(Node& node, const std::string& mode) {
  node.attrs.Set("mode", mode);
  node.attrs.Set("coordinate_transformation_mode", std::string("asymmetric"));
  if (mode == "nearest") node.attrs.Set("nearest_mode", std::string("floor"));
}

// Upsample-1/7/9 -> Resize(X, roi="", scales).
Status RewriteUpsample(Rewriter& rw, Node& node) {
  QCAL_ASSIGN_OR_RETURN(auto mode_attr, Take<std::string>(node, "mode"));
  std::vector<float> scales = node.attrs.GetFloats("scales");  // opset 7; opset 9 has an input
  node.attrs.Erase("scales");
  QCAL_ASSIGN_OR_RETURN(auto hs, Take<float>(node, "height_scale"));
  QCAL_ASSIGN_OR_RETURN(auto ws, Take<float>(node, "width_scale"));
  QCAL_ASSIGN_OR_RETURN(std::string mode, ResizeMode(node, mode_attr.value_or("nearest")));
  if (scales.empty() && hs && ws) scales = {1.f, 1.f, *hs, *ws};  // opset 1
  std::string scales_input;
  if (!scales.empty()) {
    scales_input = rw.AddInitializer(node.name + "_scales",
                                     Tensor::FromVector(scales, {static_cast<int64_t>(scales.size())}));
  } else if (node.inputs.size() >= 2 && !node.inputs[1].empty()) {
    scales_input = node.inputs[1];
  } else {
    return InvalidArgument(node.Describe() + " has no scales (attribute or input)");
  }
  if (node.inputs.empty()) return InvalidArgument(node.Describe() + " has no input");
  node.op_type = "Resize";
  node.inputs = {node.inputs[0], "", scales_input};
  SetLegacyResizeAttrs(node, mode);
  return Status::Ok();
}

// Resize-10 (X, scales) -> Resize-11 (X, roi="", scales).
Status RewriteResize(Rewriter& rw, Node& node) {
  if (rw.graph.opset > 10 || node.inputs.size() != 2) return Status::Ok();
  QCAL_ASSIGN_OR_RETURN(auto mode_attr, Take<std::string>(node, "mode"));
  QCAL_ASSIGN_OR_RETURN(std::string mode, ResizeMode(node, mode_attr.value_or("nearest")));
  node.inputs = {node.inputs[0], "", node.inputs[1]};
  SetLegacyResizeAttrs(node, mode);
  return Status::Ok();
}

// Opset < 7 binary ops: broadcast=1 with axis aligns B's dims at A's `axis`;
// numpy broadcasting aligns trailing dims, so B gets trailing 1s.
Status RewriteLegacyBroadcast(Rewriter& rw, Node& node) {
  QCAL_ASSIGN_OR_RETURN(auto broadcast, Take<int64_t>(node, "broadcast"));
  QCAL_ASSIGN_OR_RETURN(auto axis, Take<int64_t>(node, "axis"));
  // Without broadcast shapes are equal; without axis B is a suffix: numpy agrees.
  if (!broadcast || *broadcast == 0 || !axis || node.inputs.size() != 2) return Status::Ok();
  auto ra = rw.Rank(node.inputs[0]);
  auto rb = rw.Rank(node.inputs[1]);
  if (!ra || !rb) {
    return Unsupported(node.Describe() + ": legacy broadcast (axis=" + std::to_string(*axis) +
                       ") needs the ranks of both inputs, which could not be determined at import");
  }
  int64_t ax = *axis < 0 ? *axis + *ra : *axis;
  int64_t trailing = *ra - ax - *rb;
  if (ax < 0 || trailing < 0) {
    return InvalidArgument(node.Describe() + ": broadcast axis " + std::to_string(*axis) + " does not fit input ranks " +
                           std::to_string(*ra) + " and " + std::to_string(*rb));
  }
  if (trailing == 0) return Status::Ok();
  const std::string b = node.inputs[1];
  if (const Tensor* t = rw.graph.FindInitializer(b)) {
    Shape s = t->shape();
    s.insert(s.end(), static_cast<size_t>(trailing), 1);
    node.inputs[1] = rw.ReshapeInitializer(b, s);
    return Status::Ok();
  }
  // Reshape with 0 (= keep B's dim) for B's dims, then the trailing 1s.
  std::vector<int64_t> target(static_cast<size_t>(*rb), 0);
  target.insert(target.end(), static_cast<size_t>(trailing), 1);
  std::string shape = rw.AddInitializer(node.name + "_bcast_shape",
                                        Tensor::FromVector(target, {static_cast<int64_t>(target.size())}));
  std::string out = rw.NewValueName(b + "_bcast");
  rw.added.push_back(Node{rw.NewNodeName(node.name + "_bcast_reshape"), "Reshape", "", {b, shape}, {out}, {}});
  rw.SetRank(out, *rb + trailing);
  node.inputs[1] = out;
  return Status::Ok();
}

// BatchNormalization < 9: drop 'spatial' (1 is the only form kernels run);
// training-era extra outputs nobody reads are removed.
Status RewriteBatchNorm(Rewriter& rw, Node& node) {
  QCAL_ASSIGN_OR_RETURN(auto spatial, Take<int64_t>(node, "spatial"));
  if (spatial && *spatial == 0) {
    return Unsupported(node.Describe() + ": spatial=0 (per-activation statistics) is not supported");
  }
  for (size_t i = 1; i < node.outputs.size(); ++i) {
    if (!rw.IsUsed(node.outputs[i])) node.outputs[i].clear();
  }
  while (node.outputs.size() > 1 && node.outputs.back().empty()) node.outputs.pop_back();
  return Status::Ok();
}

// Concat < 4 defaults axis to 1; later opsets require it.
Status RewriteConcat(Rewriter& rw, Node& node) {
  if (rw.graph.opset < 4 && !node.attrs.Has("axis")) node.attrs.Set("axis", int64_t{1});
  return Status::Ok();
}

// Cast < 6 names the target type as a string.
Status RewriteCast(Rewriter& rw, Node& node) {
  static const std::pair<std::string_view, int64_t> kTypes[] = {
      {"FLOAT", 1},  {"UINT8", 2},    {"INT8", 3},    {"UINT16", 4}, {"INT16", 5},   {"INT32", 6},  {"INT64", 7},
      {"STRING", 8}, {"BOOL", 9},     {"FLOAT16", 10}, {"DOUBLE", 11}, {"UINT32", 12}, {"UINT64", 13},
  };
  const Attribute* attr = node.attrs.Find("to");
  if (!attr || !std::holds_alternative<std::string>(*attr)) return Status::Ok();  // opset 6+: an int
  QCAL_ASSIGN_OR_RETURN(auto to, Take<std::string>(node, "to"));
  std::string upper = *to;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  for (const auto& [name, code] : kTypes) {
    if (name == upper) {
      node.attrs.Set("to", code);
      return Status::Ok();
    }
  }
  return InvalidArgument(node.Describe() + ": unknown target type '" + *to + "'");
}

// Gemm < 7 has a 'broadcast' flag; C is always broadcast since.
Status RewriteGemm(Rewriter& rw, Node& node) {
  node.attrs.Erase("broadcast");
  return Status::Ok();
}

using RewriteFn = Status (*)(Rewriter&, Node&);
struct RewriteRule {
  std::string_view op_type;
  RewriteFn fn;
};
constexpr RewriteRule kRewrites[] = {
    {"Reshape", RewriteReshape},    {"Squeeze", RewriteAxesAttr},      {"Unsqueeze", RewriteAxesAttr},
    {"Slice", RewriteSlice},        {"Pad", RewritePad},               {"Clip", RewriteClip},
    {"Split", RewriteSplit},        {"Upsample", RewriteUpsample},     {"Resize", RewriteResize},
    {"Add", RewriteLegacyBroadcast}, {"Sub", RewriteLegacyBroadcast},  {"Mul", RewriteLegacyBroadcast},
    {"Div", RewriteLegacyBroadcast}, {"Pow", RewriteLegacyBroadcast},  {"And", RewriteLegacyBroadcast},
    {"Or", RewriteLegacyBroadcast}, {"Xor", RewriteLegacyBroadcast},   {"Equal", RewriteLegacyBroadcast},
    {"Greater", RewriteLegacyBroadcast}, {"Less", RewriteLegacyBroadcast},
    {"BatchNormalization", RewriteBatchNorm}, {"Concat", RewriteConcat}, {"Cast", RewriteCast},
    {"Gemm", RewriteGemm},
};

// Attributes of early opsets with no meaning for inference.
constexpr std::string_view kLegacyAttrs[] = {"consumed_inputs", "is_test"};

// ---- rank propagation (for legacy broadcasting) ----

enum class RankRule { kSameAsInput0, kMaxOfInputs, kTwo, kOne, kScalar, kReshape, kSqueeze, kUnsqueeze, kMatMul, kGather };
struct RankEntry {
  std::string_view op_type;
  RankRule rule;
};
constexpr RankEntry kRankRules[] = {
    {"Conv", RankRule::kSameAsInput0},        {"ConvTranspose", RankRule::kSameAsInput0},
    {"MaxPool", RankRule::kSameAsInput0},     {"AveragePool", RankRule::kSameAsInput0},
    {"GlobalAveragePool", RankRule::kSameAsInput0}, {"GlobalMaxPool", RankRule::kSameAsInput0},
    {"LpPool", RankRule::kSameAsInput0},      {"BatchNormalization", RankRule::kSameAsInput0},
    {"InstanceNormalization", RankRule::kSameAsInput0}, {"LRN", RankRule::kSameAsInput0},
    {"Relu", RankRule::kSameAsInput0},        {"LeakyRelu", RankRule::kSameAsInput0},
    {"PRelu", RankRule::kSameAsInput0},       {"Elu", RankRule::kSameAsInput0},
    {"Selu", RankRule::kSameAsInput0},        {"Sigmoid", RankRule::kSameAsInput0},
    {"HardSigmoid", RankRule::kSameAsInput0}, {"Tanh", RankRule::kSameAsInput0},
    {"Softmax", RankRule::kSameAsInput0},     {"LogSoftmax", RankRule::kSameAsInput0},
    {"Softplus", RankRule::kSameAsInput0},    {"Softsign", RankRule::kSameAsInput0},
    {"Dropout", RankRule::kSameAsInput0},     {"Identity", RankRule::kSameAsInput0},
    {"Clip", RankRule::kSameAsInput0},        {"Abs", RankRule::kSameAsInput0},
    {"Neg", RankRule::kSameAsInput0},         {"Exp", RankRule::kSameAsInput0},
    {"Log", RankRule::kSameAsInput0},         {"Sqrt", RankRule::kSameAsInput0},
    {"Reciprocal", RankRule::kSameAsInput0},  {"Floor", RankRule::kSameAsInput0},
    {"Ceil", RankRule::kSameAsInput0},        {"Cast", RankRule::kSameAsInput0},
    {"Pad", RankRule::kSameAsInput0},         {"Upsample", RankRule::kSameAsInput0},
    {"Resize", RankRule::kSameAsInput0},      {"Concat", RankRule::kSameAsInput0},
    {"Transpose", RankRule::kSameAsInput0},   {"Split", RankRule::kSameAsInput0},
    {"Slice", RankRule::kSameAsInput0},       {"Add", RankRule::kMaxOfInputs},
    {"Sub", RankRule::kMaxOfInputs},          {"Mul", RankRule::kMaxOfInputs},
    {"Div", RankRule::kMaxOfInputs},          {"Pow", RankRule::kMaxOfInputs},
    {"Sum", RankRule::kMaxOfInputs},          {"Max", RankRule::kMaxOfInputs},
    {"Min", RankRule::kMaxOfInputs},          {"Mean", RankRule::kMaxOfInputs},
    {"Flatten", RankRule::kTwo},              {"Gemm", RankRule::kTwo},
    {"Shape", RankRule::kOne},                {"Size", RankRule::kScalar},
    {"Reshape", RankRule::kReshape},          {"Squeeze", RankRule::kSqueeze},
    {"Unsqueeze", RankRule::kUnsqueeze},      {"MatMul", RankRule::kMatMul},
    {"Gather", RankRule::kGather},
};

Rewriter::Rewriter(Graph& g) : graph(g) {
  for (const auto& v : g.inputs) {
    value_names_.insert(v.name);
    if (v.shape) ranks_[v.name] = static_cast<int64_t>(v.shape->size());
  }
  for (const auto& [name, t] : g.initializers) value_names_.insert(name);
  for (const auto& n : g.nodes) {
    node_names_.insert(n.name);
    for (const auto& o : n.outputs) value_names_.insert(o);
    for (const auto& i : n.inputs) ++uses_[i];
  }
  for (const auto& o : g.outputs) ++uses_[o.name];
}

std::string Rewriter::Reserve(std::unordered_set<std::string>& used, const std::string& base) {
  std::string name = base;
  for (int k = 1; !used.insert(name).second; ++k) name = base + "_" + std::to_string(k);
  return name;
}

std::string Rewriter::AddInitializer(const std::string& base, Tensor t) {
  std::string name = NewValueName(base);
  graph.initializers[name] = std::move(t);
  return name;
}

std::string Rewriter::ReshapeInitializer(const std::string& value, const Shape& shape) {
  Tensor reshaped = graph.initializers.at(value).Reshaped(shape);
  if (uses_[value] == 1) {
    graph.initializers[value] = reshaped;
    return value;
  }
  --uses_[value];
  return AddInitializer(value + "_bcast", reshaped);
}

std::optional<int64_t> Rewriter::Rank(const std::string& value) const {
  if (const Tensor* t = graph.FindInitializer(value)) return t->rank();
  auto it = ranks_.find(value);
  if (it == ranks_.end()) return std::nullopt;
  return it->second;
}

void Rewriter::InferRanks(const Node& node) {
  const RankEntry* entry = nullptr;
  for (const auto& e : kRankRules) if (e.op_type == node.op_type) entry = &e;
  if (!entry || node.inputs.empty()) return;
  auto in = [&](size_t i) { return i < node.inputs.size() ? Rank(node.inputs[i]) : std::nullopt; };
  auto numel = [&](size_t i) -> std::optional<int64_t> {
    const Tensor* t = i < node.inputs.size() ? graph.FindInitializer(node.inputs[i]) : nullptr;
    return t ? std::optional<int64_t>(t->numel()) : std::nullopt;
  };
  std::optional<int64_t> r;
  switch (entry->rule) {
    case RankRule::kSameAsInput0: r = in(0); break;
    case RankRule::kMaxOfInputs:
      r = 0;
      for (size_t i = 0; i < node.inputs.size() && r; ++i) r = in(i) ? std::optional(std::max(*r, *in(i))) : std::nullopt;
      break;
    case RankRule::kTwo: r = 2; break;
    case RankRule::kOne: r = 1; break;
    case RankRule::kScalar: r = 0; break;
    case RankRule::kReshape: r = numel(1); break;
    case RankRule::kSqueeze:
      if (in(0) && numel(1)) r = *in(0) - *numel(1);
      break;
    case RankRule::kUnsqueeze:
      if (in(0) && numel(1)) r = *in(0) + *numel(1);
      break;
    case RankRule::kMatMul:
      if (in(0) && in(1)) {
        int64_t a = *in(0), b = *in(1);
        r = a == 1 && b == 1 ? 0 : a == 1 ? b - 1 : b == 1 ? a - 1 : std::max(a, b);
      }
      break;
    case RankRule::kGather:
      if (in(0) && in(1)) r = *in(0) - 1 + *in(1);
      break;
  }
  if (!r) return;
  for (const auto& o : node.outputs) if (!o.empty()) ranks_[o] = *r;
}

Status Rewriter::Run() {
  for (Node& node : graph.nodes) {
    for (auto attr : kLegacyAttrs) node.attrs.Erase(std::string(attr));
    for (const auto& rule : kRewrites) {
      if (rule.op_type == node.op_type) QCAL_RETURN_IF_ERROR(rule.fn(*this, node));
    }
    InferRanks(node);
  }
  for (Node& n : added) graph.nodes.push_back(std::move(n));
  added.clear();
  return Status::Ok();
}

}  // namespace

Status RewriteLegacyForms(Graph& graph) {
  Rewriter rw(graph);
  return rw.Run();
}

}  // namespace qcal::onnx_import
