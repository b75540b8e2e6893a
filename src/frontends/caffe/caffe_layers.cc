// Layer table and the shape-only / element-wise layers.
#include "frontends/caffe/caffe_layers.h"

#include <algorithm>
#include <functional>
#include <numeric>

namespace qcal::caffe_import {
namespace {

// One row per Caffe layer type qcal converts ("Input" is handled by the importer).
constexpr LayerConverter kConverters[] = {
    {"Convolution", ConvertConvolution, 1, 1, 1, 1},
    {"Deconvolution", ConvertDeconvolution, 1, 1, 1, 1},
    {"InnerProduct", ConvertInnerProduct, 1, 1, 1, 1},
    {"Pooling", ConvertPooling, 1, 1, 1, 1},
    {"BatchNorm", ConvertBatchNorm, 1, 1, 1, 1},
    {"Scale", ConvertScale, 1, 2, 1, 1},
    {"Bias", ConvertBias, 1, 2, 1, 1},
    {"ReLU", ConvertReLU, 1, 1, 1, 1},
    {"PReLU", ConvertPReLU, 1, 1, 1, 1},
    {"ELU", ConvertELU, 1, 1, 1, 1},
    {"Sigmoid", ConvertElementwiseUnary, 1, 1, 1, 1},
    {"TanH", ConvertElementwiseUnary, 1, 1, 1, 1},
    {"AbsVal", ConvertElementwiseUnary, 1, 1, 1, 1},
    {"Dropout", ConvertIdentity, 1, 1, 1, 1},
    {"Split", ConvertSplit, 1, 1, 1, -1},
    {"Silence", ConvertSilence, 1, -1, 0, 0},
    {"Eltwise", ConvertEltwise, 2, -1, 1, 1},
    {"Concat", ConvertConcat, 1, -1, 1, 1},
    {"Slice", ConvertSlice, 1, 1, 1, -1},
    {"Softmax", ConvertSoftmax, 1, 1, 1, 1},
    {"Flatten", ConvertFlatten, 1, 1, 1, 1},
    {"Reshape", ConvertReshape, 1, 1, 1, 1},
    {"Permute", ConvertPermute, 1, 1, 1, 1},
};

struct UnaryOp {
  std::string_view caffe_type;
  const char* onnx_op;
};
constexpr UnaryOp kUnaryOps[] = {{"Sigmoid", "Sigmoid"}, {"TanH", "Tanh"}, {"AbsVal", "Abs"}};

int64_t Product(Shape::const_iterator begin, Shape::const_iterator end) {
  return std::accumulate(begin, end, int64_t{1}, std::multiplies<>());
}

// Reduces `terms` pairwise with `op`; the node producing the top keeps the layer name.
void EmitChain(LayerContext& ctx, const char* op, const std::vector<std::string>& terms) {
  const Shape& shape = ctx.bottom_shape(0);
  std::string acc = terms[0];
  for (size_t i = 1; i < terms.size(); ++i) {
    const bool last = i + 1 == terms.size();
    std::string out = last ? ctx.top(0) : ctx.NewValue("partial" + std::to_string(i), shape);
    ctx.AddNode(op, {acc, terms[i]}, {out}, last ? "" : "partial" + std::to_string(i));
    acc = out;
  }
}

}  // namespace

const LayerConverter* FindLayerConverter(std::string_view type) {
  for (const auto& c : kConverters) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

Status ConvertReLU(LayerContext& ctx) {
  const float slope = ctx.layer().relu_param().negative_slope();
  if (slope == 0.f) {
    ctx.AddNode("Relu", {ctx.bottom(0)}, {ctx.top(0)});
  } else {
    ctx.AddNode("LeakyRelu", {ctx.bottom(0)}, {ctx.top(0)}).attrs.Set("alpha", slope);
  }
  ctx.SetTopShape(0, ctx.bottom_shape(0));
  return Status::Ok();
}

Status ConvertElementwiseUnary(LayerContext& ctx) {
  for (const auto& u : kUnaryOps) {
    if (u.caffe_type == ctx.layer().type()) {
      ctx.AddNode(u.onnx_op, {ctx.bottom(0)}, {ctx.top(0)});
      ctx.SetTopShape(0, ctx.bottom_shape(0));
      return Status::Ok();
    }
  }
  return ctx.NotSupported("no element-wise mapping");
}

Status ConvertELU(LayerContext& ctx) {
  ctx.AddNode("Elu", {ctx.bottom(0)}, {ctx.top(0)}).attrs.Set("alpha", ctx.layer().elu_param().alpha());
  ctx.SetTopShape(0, ctx.bottom_shape(0));
  return Status::Ok();
}

// Dropout at inference is the identity.
Status ConvertIdentity(LayerContext& ctx) {
  ctx.AddNode("Identity", {ctx.bottom(0)}, {ctx.top(0)});
  ctx.SetTopShape(0, ctx.bottom_shape(0));
  return Status::Ok();
}

// Split: one Identity per top (the first keeps the layer name).
Status ConvertSplit(LayerContext& ctx) {
  for (size_t i = 0; i < ctx.num_tops(); ++i) {
    ctx.AddNode("Identity", {ctx.bottom(0)}, {ctx.top(i)}, i == 0 ? "" : std::to_string(i));
    ctx.SetTopShape(i, ctx.bottom_shape(0));
  }
  return Status::Ok();
}

Status ConvertSilence(LayerContext&) { return Status::Ok(); }

// Eltwise SUM (with coefficients) -> [Mul by coefficient] + Add chain; PROD ->
// Mul chain; MAX -> one variadic Max.
Status ConvertEltwise(LayerContext& ctx) {
  const auto& p = ctx.layer().eltwise_param();
  const Shape& shape = ctx.bottom_shape(0);
  for (size_t i = 1; i < ctx.num_bottoms(); ++i) {
    if (ctx.bottom_shape(i) != shape) {
      return ctx.Error("bottom " + std::to_string(i) + " has shape " + ShapeToString(ctx.bottom_shape(i)) +
                       ", bottom 0 has " + ShapeToString(shape) + " (Eltwise needs equal shapes)");
    }
  }
  std::vector<std::string> terms;
  for (size_t i = 0; i < ctx.num_bottoms(); ++i) terms.push_back(ctx.bottom(i));
  if (p.coeff_size() > 0 && p.operation() != caffe::EltwiseParameter::SUM) {
    return ctx.Error("coeff is only allowed with operation SUM");
  }
  if (p.coeff_size() > 0 && static_cast<size_t>(p.coeff_size()) != ctx.num_bottoms()) {
    return ctx.Error("has " + std::to_string(p.coeff_size()) + " coefficients for " +
                     std::to_string(ctx.num_bottoms()) + " bottoms");
  }
  ctx.SetTopShape(0, shape);
  switch (p.operation()) {
    case caffe::EltwiseParameter::SUM:
      for (int i = 0; i < p.coeff_size(); ++i) {
        if (p.coeff(i) == 1.f) continue;
        const std::string suffix = "coeff" + std::to_string(i);
        std::string scaled = ctx.NewValue(suffix, shape);
        ctx.AddNode("Mul", {terms[i], ctx.AddConstant(suffix, Tensor::Scalar<float>(p.coeff(i)))}, {scaled},
                    suffix);
        terms[i] = scaled;
      }
      EmitChain(ctx, "Add", terms);
      return Status::Ok();
    case caffe::EltwiseParameter::PROD:
      EmitChain(ctx, "Mul", terms);
      return Status::Ok();
    case caffe::EltwiseParameter::MAX:
      ctx.AddNode("Max", terms, {ctx.top(0)});
      return Status::Ok();
  }
  return ctx.NotSupported("unknown Eltwise operation " + std::to_string(static_cast<int>(p.operation())));
}

Status ConvertConcat(LayerContext& ctx) {
  const auto& p = ctx.layer().concat_param();
  const int64_t rank = ctx.bottom_rank(0);
  QCAL_ASSIGN_OR_RETURN(
      int64_t axis,
      ctx.Axis(p.has_concat_dim() ? static_cast<int64_t>(p.concat_dim()) : p.axis(), rank, "axis"));
  Shape y = ctx.bottom_shape(0);
  std::vector<std::string> inputs = {ctx.bottom(0)};
  for (size_t i = 1; i < ctx.num_bottoms(); ++i) {
    const Shape& s = ctx.bottom_shape(i);
    bool ok = static_cast<int64_t>(s.size()) == rank;
    for (int64_t d = 0; ok && d < rank; ++d) ok = d == axis || s[d] == y[d];
    if (!ok) {
      return ctx.Error("bottom " + std::to_string(i) + " has shape " + ShapeToString(s) +
                       ", which does not match " + ShapeToString(ctx.bottom_shape(0)) + " off axis " +
                       std::to_string(axis));
    }
    y[axis] += s[axis];
    inputs.push_back(ctx.bottom(i));
  }
  ctx.AddNode("Concat", inputs, {ctx.top(0)}).attrs.Set("axis", axis);
  ctx.SetTopShape(0, y);
  return Status::Ok();
}

// Slice -> Split with explicit sizes (opset-13 `split` input).
Status ConvertSlice(LayerContext& ctx) {
  const auto& p = ctx.layer().slice_param();
  const Shape& x = ctx.bottom_shape(0);
  QCAL_ASSIGN_OR_RETURN(int64_t axis,
                        ctx.Axis(p.has_slice_dim() ? static_cast<int64_t>(p.slice_dim()) : p.axis(),
                                 ctx.bottom_rank(0), "axis"));
  const int64_t n = static_cast<int64_t>(ctx.num_tops());
  std::vector<int64_t> sizes;
  if (p.slice_point_size() > 0) {
    if (p.slice_point_size() != n - 1) return ctx.Error("needs one slice_point fewer than tops");
    int64_t prev = 0;
    for (uint32_t point : p.slice_point()) {
      if (point <= prev || point >= x[axis]) return ctx.Error("slice points must increase inside the axis");
      sizes.push_back(point - prev);
      prev = point;
    }
    sizes.push_back(x[axis] - prev);
  } else {
    if (x[axis] % n != 0) return ctx.Error("axis size " + std::to_string(x[axis]) + " does not split evenly");
    sizes.assign(static_cast<size_t>(n), x[axis] / n);
  }
  std::vector<std::string> outputs;
  for (int64_t i = 0; i < n; ++i) {
    outputs.push_back(ctx.top(i));
    Shape s = x;
    s[axis] = sizes[i];
    ctx.SetTopShape(i, s);
  }
  ctx.AddNode("Split", {ctx.bottom(0), ctx.AddInt64Constant("split", sizes)}, outputs)
      .attrs.Set("axis", axis);
  return Status::Ok();
}

Status ConvertSoftmax(LayerContext& ctx) {
  QCAL_ASSIGN_OR_RETURN(int64_t axis,
                        ctx.Axis(ctx.layer().softmax_param().axis(), ctx.bottom_rank(0), "axis"));
  ctx.AddNode("Softmax", {ctx.bottom(0)}, {ctx.top(0)}).attrs.Set("axis", axis);
  ctx.SetTopShape(0, ctx.bottom_shape(0));
  return Status::Ok();
}

// Flatten of axes [axis, end_axis]: ONNX Flatten when that is the 2-D result
// (axis 1 through the last axis), else Reshape (leading axes copied with 0).
Status ConvertFlatten(LayerContext& ctx) {
  const auto& p = ctx.layer().flatten_param();
  const Shape& x = ctx.bottom_shape(0);
  const int64_t rank = static_cast<int64_t>(x.size());
  QCAL_ASSIGN_OR_RETURN(int64_t axis, ctx.Axis(p.axis(), rank, "axis"));
  QCAL_ASSIGN_OR_RETURN(int64_t end, ctx.Axis(p.end_axis(), rank, "end_axis"));
  if (end < axis) return ctx.Error("end_axis comes before axis");
  Shape y(x.begin(), x.begin() + axis);
  y.push_back(Product(x.begin() + axis, x.begin() + end + 1));
  y.insert(y.end(), x.begin() + end + 1, x.end());
  ctx.SetTopShape(0, y);
  if (axis == 1 && end == rank - 1) {
    ctx.AddNode("Flatten", {ctx.bottom(0)}, {ctx.top(0)}).attrs.Set("axis", int64_t{1});
    return Status::Ok();
  }
  std::vector<int64_t> spec(static_cast<size_t>(axis), 0);
  spec.push_back(-1);
  spec.insert(spec.end(), x.begin() + end + 1, x.end());
  ctx.AddNode("Reshape", {ctx.bottom(0), ctx.AddInt64Constant("shape", spec)}, {ctx.top(0)});
  return Status::Ok();
}

// Caffe Reshape replaces input axes [axis, axis + num_axes) by `shape` (0 copies
// the input dim, -1 is inferred). As an ONNX shape: leading axes 0 (copy),
// then the Caffe dims (0 copies the same index in ONNX too), then the kept
// trailing dims (0 when their index does not move, else their size).
Status ConvertReshape(LayerContext& ctx) {
  const auto& p = ctx.layer().reshape_param();
  const Shape& x = ctx.bottom_shape(0);
  const int64_t rank = static_cast<int64_t>(x.size());
  // axis may equal rank (insert after the last axis).
  const int64_t axis = p.axis() < 0 ? p.axis() + rank + 1 : p.axis();
  if (axis < 0 || axis > rank) return ctx.Error("axis " + std::to_string(p.axis()) + " is out of range");
  const int64_t num_axes = p.num_axes() == -1 ? rank - axis : p.num_axes();
  if (num_axes < 0 || axis + num_axes > rank)
    return ctx.Error("num_axes " + std::to_string(p.num_axes()) + " is out of range");
  const auto& dims = p.shape().dim();
  std::vector<int64_t> spec(static_cast<size_t>(axis), 0);
  Shape y(x.begin(), x.begin() + axis);
  int infer = -1;
  for (int i = 0; i < dims.size(); ++i) {
    const int64_t d = dims[i];
    if (d == 0 && axis + i >= rank)
      return ctx.Error("dim " + std::to_string(i) + " is 0 but there is no input axis to copy");
    if (d < -1) return ctx.Error("dim " + std::to_string(i) + " is " + std::to_string(d));
    if (d == -1) {
      if (infer >= 0) return ctx.Error("more than one dim is -1");
      infer = static_cast<int>(y.size());
    }
    spec.push_back(d);
    y.push_back(d == 0 ? x[axis + i] : d);
  }
  for (int64_t j = axis + num_axes; j < rank; ++j) {
    spec.push_back(static_cast<int64_t>(y.size()) == j ? 0 : x[j]);
    y.push_back(x[j]);
  }
  const int64_t total = NumElements(x);
  if (infer >= 0) {
    int64_t known = 1;
    for (size_t i = 0; i < y.size(); ++i)
      if (static_cast<int>(i) != infer) known *= y[i];
    if (known == 0 || total % known != 0) {
      return ctx.Error("cannot infer the -1 dim: " + std::to_string(total) + " elements");
    }
    y[infer] = total / known;
  }
  if (NumElements(y) != total) {
    return ctx.Error("shape " + ShapeToString(y) + " does not hold the " + std::to_string(total) +
                     " elements of " + ShapeToString(x));
  }
  ctx.AddNode("Reshape", {ctx.bottom(0), ctx.AddInt64Constant("shape", spec)}, {ctx.top(0)});
  ctx.SetTopShape(0, y);
  return Status::Ok();
}

// Permute (SSD): `order` may list only the leading axes; the rest keep their order.
Status ConvertPermute(LayerContext& ctx) {
  const Shape& x = ctx.bottom_shape(0);
  const int64_t rank = static_cast<int64_t>(x.size());
  std::vector<int64_t> perm;
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (uint32_t o : ctx.layer().permute_param().order()) {
    if (o >= rank || seen[o])
      return ctx.Error("order has a repeated or out-of-range axis " + std::to_string(o));
    seen[o] = true;
    perm.push_back(o);
  }
  for (int64_t a = 0; a < rank; ++a) {
    if (!seen[a]) perm.push_back(a);
  }
  Shape y;
  for (int64_t a : perm) y.push_back(x[a]);
  ctx.AddNode("Transpose", {ctx.bottom(0)}, {ctx.top(0)}).attrs.Set("perm", perm);
  ctx.SetTopShape(0, y);
  return Status::Ok();
}

}  // namespace qcal::caffe_import
