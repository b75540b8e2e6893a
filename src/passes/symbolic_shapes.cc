#include "passes/symbolic_shapes.h"

#include <algorithm>
#include <limits>
#include <string_view>

namespace qcal {

bool SymTensor::FullyKnown() const {
  return std::all_of(elems.begin(), elems.end(), [](const SymElem& e) { return e.value.has_value(); });
}

Tensor SymTensor::ToTensor() const {
  Shape shape = scalar ? Shape{} : Shape{static_cast<int64_t>(elems.size())};
  Tensor t(dtype, shape);
  for (size_t i = 0; i < elems.size(); ++i) {
    if (dtype == DataType::kInt32) {
      t.data<int32_t>()[i] = static_cast<int32_t>(*elems[i].value);
    } else {
      t.data<int64_t>()[i] = *elems[i].value;
    }
  }
  return t;
}

std::optional<SymTensor> SymFromTensor(const Tensor& t) {
  if (t.dtype() != DataType::kInt64 && t.dtype() != DataType::kInt32) return std::nullopt;
  if (t.rank() > 1 || static_cast<size_t>(t.numel()) > kMaxSymElems) return std::nullopt;
  SymTensor s;
  s.dtype = t.dtype();
  s.scalar = t.rank() == 0;
  for (int64_t i = 0; i < t.numel(); ++i) s.elems.push_back(SymElem{t.GetAsInt64(i), "", -1});
  return s;
}

namespace {

struct SymContext {
  const Graph& graph;
  const Node& node;
  const std::vector<const SymTensor*>& in;

  const SymTensor* input(size_t i) const { return i < in.size() ? in[i] : nullptr; }
  // All values of input i when they are known constants.
  std::optional<std::vector<int64_t>> known(size_t i) const {
    const SymTensor* s = input(i);
    if (!s || !s->FullyKnown()) return std::nullopt;
    std::vector<int64_t> v;
    for (const auto& e : s->elems) v.push_back(*e.value);
    return v;
  }
  std::optional<Shape> shape_of(size_t i) const {
    if (i >= node.inputs.size() || node.inputs[i].empty()) return std::nullopt;
    const std::string& name = node.inputs[i];
    if (const Tensor* t = graph.FindInitializer(name)) return t->shape();
    const ValueInfo* vi = graph.FindValueInfo(name);
    if (!vi) return std::nullopt;
    return vi->shape;
  }
};

using SymRule = std::optional<SymTensor> (*)(const SymContext& c);

int64_t ClampIndex(int64_t i, int64_t n) {
  if (i < 0) i += n;
  return std::clamp<int64_t>(i, 0, n);
}

// Shape: one element per dim of the input (opset 15 start/end supported).
std::optional<SymTensor> ShapeRule(const SymContext& c) {
  auto shape = c.shape_of(0);
  if (!shape) return std::nullopt;
  int64_t rank = static_cast<int64_t>(shape->size());
  int64_t start = ClampIndex(c.node.attrs.GetInt("start", 0), rank);
  int64_t end = c.node.attrs.Has("end") ? ClampIndex(c.node.attrs.GetInt("end", rank), rank) : rank;
  SymTensor s;
  for (int64_t d = start; d < end; ++d) {
    int64_t v = (*shape)[static_cast<size_t>(d)];
    s.elems.push_back(SymElem{v >= 0 ? std::optional<int64_t>(v) : std::nullopt, c.node.inputs[0], d});
  }
  return s;
}

std::optional<SymTensor> SizeRule(const SymContext& c) {
  auto shape = c.shape_of(0);
  if (!shape || !ShapeIsStatic(*shape)) return std::nullopt;
  SymTensor s;
  s.scalar = true;
  s.elems.push_back(SymElem{NumElements(*shape), "", -1});
  return s;
}

std::optional<SymTensor> GatherRule(const SymContext& c) {
  const SymTensor* data = c.input(0);
  const SymTensor* idx = c.input(1);
  auto indices = c.known(1);
  int64_t axis = c.node.attrs.GetInt("axis", 0);
  if (!data || data->scalar || !indices || (axis != 0 && axis != -1)) return std::nullopt;
  int64_t n = static_cast<int64_t>(data->elems.size());
  SymTensor s;
  s.dtype = data->dtype;
  s.scalar = idx->scalar;
  for (int64_t i : *indices) {
    if (i < 0) i += n;
    if (i < 0 || i >= n) return std::nullopt;
    s.elems.push_back(data->elems[static_cast<size_t>(i)]);
  }
  return s;
}

// Axes of Squeeze/Unsqueeze: input 1 (opset 13) or the `axes` attribute.
std::optional<std::vector<int64_t>> AxesOf(const SymContext& c) {
  if (c.node.inputs.size() > 1 && !c.node.inputs[1].empty()) return c.known(1);
  return c.node.attrs.GetInts("axes");
}

std::optional<SymTensor> UnsqueezeRule(const SymContext& c) {
  const SymTensor* x = c.input(0);
  auto axes = AxesOf(c);
  if (!x || !x->scalar || !axes || axes->size() != 1 || ((*axes)[0] != 0 && (*axes)[0] != -1)) {
    return std::nullopt;
  }
  SymTensor s = *x;
  s.scalar = false;
  return s;
}

std::optional<SymTensor> SqueezeRule(const SymContext& c) {
  const SymTensor* x = c.input(0);
  auto axes = AxesOf(c);
  if (!x || x->scalar || x->elems.size() != 1 || !axes) return std::nullopt;
  if (!axes->empty() && (axes->size() != 1 || ((*axes)[0] != 0 && (*axes)[0] != -1))) return std::nullopt;
  SymTensor s = *x;
  s.scalar = true;
  return s;
}

std::optional<SymTensor> ConcatRule(const SymContext& c) {
  int64_t axis = c.node.attrs.GetInt("axis", 0);
  if (axis != 0 && axis != -1) return std::nullopt;
  SymTensor s;
  for (size_t i = 0; i < c.node.inputs.size(); ++i) {
    const SymTensor* x = c.input(i);
    if (!x || x->scalar) return std::nullopt;
    if (i == 0) s.dtype = x->dtype;
    if (x->dtype != s.dtype) return std::nullopt;
    s.elems.insert(s.elems.end(), x->elems.begin(), x->elems.end());
  }
  if (s.elems.size() > kMaxSymElems) return std::nullopt;
  return s;
}

// Slice of a 1-D tensor with constant starts/ends/axes/steps (ONNX clamping rules).
std::optional<SymTensor> SliceRule(const SymContext& c) {
  const SymTensor* x = c.input(0);
  auto starts = c.known(1);
  auto ends = c.known(2);
  if (!x || x->scalar || !starts || !ends || starts->size() != 1 || ends->size() != 1) return std::nullopt;
  bool has_axes = c.node.inputs.size() > 3 && !c.node.inputs[3].empty();
  bool has_steps = c.node.inputs.size() > 4 && !c.node.inputs[4].empty();
  auto axes = has_axes ? c.known(3) : std::optional<std::vector<int64_t>>(std::vector<int64_t>{0});
  auto steps = has_steps ? c.known(4) : std::optional<std::vector<int64_t>>(std::vector<int64_t>{1});
  if (!axes || !steps || axes->size() != 1 || steps->size() != 1) return std::nullopt;
  if ((*axes)[0] != 0 && (*axes)[0] != -1) return std::nullopt;
  int64_t step = (*steps)[0];
  if (step == 0) return std::nullopt;
  int64_t n = static_cast<int64_t>(x->elems.size());
  int64_t start = (*starts)[0];
  int64_t end = (*ends)[0];
  if (start < 0) start += n;
  if (end < 0) end += n;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, n);
    end = std::clamp<int64_t>(end, 0, n);
  } else {
    start = std::clamp<int64_t>(start, 0, n - 1);
    end = std::clamp<int64_t>(end, -1, n - 1);
  }
  SymTensor s;
  s.dtype = x->dtype;
  for (int64_t i = start; step > 0 ? i < end : i > end; i += step) s.elems.push_back(x->elems[static_cast<size_t>(i)]);
  return s;
}

std::optional<SymTensor> CastRule(const SymContext& c) {
  const SymTensor* x = c.input(0);
  int64_t to = c.node.attrs.GetInt("to", 0);
  if (!x) return std::nullopt;
  SymTensor s = *x;
  if (to == static_cast<int64_t>(DataType::kInt64)) {
    s.dtype = DataType::kInt64;
  } else if (to == static_cast<int64_t>(DataType::kInt32)) {
    s.dtype = DataType::kInt32;
    for (auto& e : s.elems) {
      if (e.value && (*e.value > std::numeric_limits<int32_t>::max() ||
                      *e.value < std::numeric_limits<int32_t>::min())) {
        return std::nullopt;
      }
    }
  } else {
    return std::nullopt;
  }
  return s;
}

std::optional<SymTensor> IdentityRule(const SymContext& c) {
  if (!c.input(0)) return std::nullopt;
  return *c.input(0);
}

struct SymRuleEntry {
  std::string_view op_type;
  SymRule rule;
};

// One row per op that moves shape values around.
const SymRuleEntry kSymRules[] = {
    {"Shape", ShapeRule},     {"Size", SizeRule},   {"Gather", GatherRule}, {"Unsqueeze", UnsqueezeRule},
    {"Squeeze", SqueezeRule}, {"Concat", ConcatRule}, {"Slice", SliceRule},   {"Cast", CastRule},
    {"Identity", IdentityRule},
};

}  // namespace

std::optional<SymTensor> PropagateSym(const Graph& graph, const Node& node,
                                      const std::vector<const SymTensor*>& inputs) {
  if (!node.domain.empty() && node.domain != "ai.onnx") return std::nullopt;
  if (node.outputs.size() != 1 || node.inputs.empty()) return std::nullopt;
  for (const auto& r : kSymRules) {
    if (r.op_type == node.op_type) return r.rule(SymContext{graph, node, inputs});
  }
  return std::nullopt;
}

std::optional<Tensor> ResolveReshapeShape(const Node& reshape, const SymTensor& shape) {
  if (reshape.op_type != "Reshape" || reshape.inputs.size() < 2 || shape.scalar) return std::nullopt;
  if (reshape.attrs.GetInt("allowzero", 0) != 0) return std::nullopt;
  const std::string& data = reshape.inputs[0];
  std::vector<int64_t> dims;
  for (size_t i = 0; i < shape.elems.size(); ++i) {
    const SymElem& e = shape.elems[i];
    if (e.source == data && e.dim == static_cast<int64_t>(i)) {
      dims.push_back(0);  // copy dim i from the data input
    } else if (e.value) {
      dims.push_back(*e.value);
    } else {
      return std::nullopt;
    }
  }
  return Tensor::FromVector<int64_t>(dims, {static_cast<int64_t>(dims.size())});
}

}  // namespace qcal
