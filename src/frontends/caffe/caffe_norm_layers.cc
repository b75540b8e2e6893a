// BatchNorm (optionally with a folded Scale), Scale, Bias and PReLU layers.
#include "base/log.h"
#include "frontends/caffe/caffe_layers.h"

namespace qcal::caffe_import {
namespace {

Tensor Filled(int64_t n, float value) {
  Tensor t(DataType::kFloat32, {n});
  for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = value;
  return t;
}

// The shape a per-axis parameter covering x's axes [axis, axis + dims) must
// have to broadcast against x (numpy rules): its dims followed by ones.
Shape BroadcastableShape(const Shape& param, int64_t axis, int64_t rank) {
  Shape s = param;
  while (static_cast<int64_t>(s.size()) < rank - axis) s.push_back(1);
  return s;
}

// The parameter shape of a one-bottom Scale/Bias layer: x's dims [axis, axis + num_axes).
Result<Shape> ParamShape(const LayerContext& ctx, int64_t axis, int64_t num_axes) {
  const Shape& x = ctx.bottom_shape(0);
  const int64_t rank = static_cast<int64_t>(x.size());
  if (num_axes < -1 || (num_axes >= 0 && axis + num_axes > rank)) {
    return ctx.Error("num_axes " + std::to_string(num_axes) + " does not fit input " + ShapeToString(x) +
                     " from axis " + std::to_string(axis));
  }
  const int64_t end = num_axes == -1 ? rank : axis + num_axes;
  return Shape(x.begin() + axis, x.begin() + end);
}

// Second-bottom operand of Scale/Bias, reshaped (at run time, batch-agnostic:
// zeros copy its own dims) so it broadcasts from `axis`.
Result<std::string> BroadcastBottom(LayerContext& ctx, int64_t axis) {
  const Shape& x = ctx.bottom_shape(0);
  const Shape& s = ctx.bottom_shape(1);
  const int64_t rank = static_cast<int64_t>(x.size());
  const int64_t r1 = static_cast<int64_t>(s.size());
  if (axis + r1 > rank)
    return ctx.Error("second bottom " + ShapeToString(s) + " does not fit " + ShapeToString(x));
  for (int64_t i = 0; i < r1; ++i) {
    if (s[i] != x[axis + i]) {
      return ctx.Error("second bottom " + ShapeToString(s) + " does not match input " + ShapeToString(x) +
                       " from axis " + std::to_string(axis));
    }
  }
  if (axis + r1 == rank) return ctx.bottom(1);
  std::vector<int64_t> spec(static_cast<size_t>(r1), 0);
  spec.resize(static_cast<size_t>(rank - axis), 1);
  Shape target = BroadcastableShape(s, axis, rank);
  std::string out = ctx.NewValue("broadcast", target);
  ctx.AddNode("Reshape", {ctx.bottom(1), ctx.AddInt64Constant("broadcast_shape", spec)}, {out}, "broadcast");
  return out;
}

// Emits y = x * scale (+ bias); the Mul keeps the layer name.
void EmitScaleBias(LayerContext& ctx, const std::string& scale, const std::string& bias) {
  const Shape& x = ctx.bottom_shape(0);
  if (bias.empty()) {
    ctx.AddNode("Mul", {ctx.bottom(0), scale}, {ctx.top(0)});
  } else {
    std::string scaled = ctx.NewValue("scaled", x);
    ctx.AddNode("Mul", {ctx.bottom(0), scale}, {scaled});
    ctx.AddNode("Add", {scaled, bias}, {ctx.top(0)}, "bias");
  }
  ctx.SetTopShape(0, x);
}

}  // namespace

// Caffe BatchNorm: y = (x - mean/f) / sqrt(var/f + eps), f the stored scale
// factor (0 -> statistics 0). A folded Scale supplies gamma and beta.
Status ConvertBatchNorm(LayerContext& ctx) {
  const auto& p = ctx.layer().batch_norm_param();
  const Shape& x = ctx.bottom_shape(0);
  if (x.size() < 2) return ctx.Error("input " + ShapeToString(x) + " needs a channel axis");
  if (p.has_use_global_stats() && !p.use_global_stats()) {
    LogWarning("BatchNorm layer '" + ctx.name() +
               "' sets use_global_stats: false (batch statistics); qcal uses the stored statistics");
  }
  const int64_t c = x[1];
  QCAL_ASSIGN_OR_RETURN(Tensor mean, ctx.Blob(0, {c}, "mean"));
  QCAL_ASSIGN_OR_RETURN(Tensor var, ctx.Blob(1, {c}, "variance"));
  QCAL_ASSIGN_OR_RETURN(Tensor factor_blob, ctx.Blob(2, {1}, "scale factor"));
  const float stored = factor_blob.data<float>()[0];
  const float factor = stored == 0.f ? 0.f : 1.f / stored;
  for (int64_t i = 0; i < c; ++i) {
    mean.data<float>()[i] *= factor;
    var.data<float>()[i] *= factor;
  }
  Tensor gamma = Filled(c, 1.f), beta = Filled(c, 0.f);
  if (const caffe::LayerParameter* scale = ctx.fused_scale()) {
    QCAL_ASSIGN_OR_RETURN(gamma, ctx.FusedScaleBlob(0, {c}, "scale"));
    if (scale->scale_param().bias_term()) {
      QCAL_ASSIGN_OR_RETURN(beta, ctx.FusedScaleBlob(1, {c}, "bias"));
    }
  }
  std::vector<std::string> inputs = {
      ctx.bottom(0), ctx.AddConstant("scale", std::move(gamma)), ctx.AddConstant("bias", std::move(beta)),
      ctx.AddConstant("mean", std::move(mean)), ctx.AddConstant("var", std::move(var))};
  ctx.AddNode("BatchNormalization", inputs, {ctx.top(0)}).attrs.Set("epsilon", p.eps());
  ctx.SetTopShape(0, x);
  return Status::Ok();
}

Status ConvertScale(LayerContext& ctx) {
  const auto& p = ctx.layer().scale_param();
  const int64_t rank = ctx.bottom_rank(0);
  QCAL_ASSIGN_OR_RETURN(int64_t axis, ctx.Axis(p.axis(), rank, "axis"));
  std::string scale, bias;
  size_t bias_blob = 1;
  Shape param;
  if (ctx.num_bottoms() == 2) {
    QCAL_ASSIGN_OR_RETURN(scale, BroadcastBottom(ctx, axis));
    param = ctx.bottom_shape(1);
    bias_blob = 0;
  } else {
    QCAL_ASSIGN_OR_RETURN(param, ParamShape(ctx, axis, p.num_axes()));
    QCAL_ASSIGN_OR_RETURN(Tensor s, ctx.Blob(0, BroadcastableShape(param, axis, rank), "scale"));
    scale = ctx.AddConstant("scale", std::move(s));
  }
  if (p.bias_term()) {
    QCAL_ASSIGN_OR_RETURN(Tensor b, ctx.Blob(bias_blob, BroadcastableShape(param, axis, rank), "bias"));
    bias = ctx.AddConstant("bias", std::move(b));
  }
  EmitScaleBias(ctx, scale, bias);
  return Status::Ok();
}

Status ConvertBias(LayerContext& ctx) {
  const auto& p = ctx.layer().bias_param();
  const int64_t rank = ctx.bottom_rank(0);
  QCAL_ASSIGN_OR_RETURN(int64_t axis, ctx.Axis(p.axis(), rank, "axis"));
  std::string bias;
  if (ctx.num_bottoms() == 2) {
    QCAL_ASSIGN_OR_RETURN(bias, BroadcastBottom(ctx, axis));
  } else {
    QCAL_ASSIGN_OR_RETURN(Shape param, ParamShape(ctx, axis, p.num_axes()));
    QCAL_ASSIGN_OR_RETURN(Tensor b, ctx.Blob(0, BroadcastableShape(param, axis, rank), "bias"));
    bias = ctx.AddConstant("bias", std::move(b));
  }
  ctx.AddNode("Add", {ctx.bottom(0), bias}, {ctx.top(0)});
  ctx.SetTopShape(0, ctx.bottom_shape(0));
  return Status::Ok();
}

// PReLU: one slope per channel (axis 1), or one shared slope.
Status ConvertPReLU(LayerContext& ctx) {
  const Shape& x = ctx.bottom_shape(0);
  const int64_t rank = static_cast<int64_t>(x.size());
  if (rank < 2 && !ctx.layer().prelu_param().channel_shared()) return ctx.Error("input needs a channel axis");
  Shape slope_shape =
      ctx.layer().prelu_param().channel_shared() ? Shape{1} : BroadcastableShape({x[1]}, 1, rank);
  QCAL_ASSIGN_OR_RETURN(Tensor slope, ctx.Blob(0, slope_shape, "slope"));
  ctx.AddNode("PRelu", {ctx.bottom(0), ctx.AddConstant("slope", std::move(slope))}, {ctx.top(0)});
  ctx.SetTopShape(0, x);
  return Status::Ok();
}

}  // namespace qcal::caffe_import
