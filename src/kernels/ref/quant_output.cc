#include "kernels/ref/quant_output.h"

#include <cmath>
#include <limits>

#include "kernels/ref/quant_common.h"

namespace qcal::ref {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Quantized clamp bounds of type Q: the type's range intersected with the quantized activation bounds.
template <typename Q>
void QuantizedBounds(const Node& node, float y_scale, int32_t zp, OutputStage& s) {
  s.lo = static_cast<float>(qmath::QMin<Q>());
  s.hi = static_cast<float>(qmath::QMax<Q>());
  if (node.attrs.Has("activation_min")) {
    s.lo = std::max(s.lo, static_cast<float>(qmath::QuantizeValue<Q>(node.attrs.GetFloat("activation_min", 0),
                                                                     y_scale, zp)));
  }
  if (node.attrs.Has("activation_max")) {
    s.hi = std::min(s.hi, static_cast<float>(qmath::QuantizeValue<Q>(node.attrs.GetFloat("activation_max", 0),
                                                                     y_scale, zp)));
  }
}

}  // namespace

Result<OutputStage> MakeOutputStage(const Node& node, float x_scale, const std::vector<float>& w_scale,
                                    const Tensor* y_scale, const Tensor* y_zero_point, int64_t channels) {
  if (w_scale.size() != 1 && static_cast<int64_t>(w_scale.size()) != channels) {
    return InvalidArgument("w_scale has " + std::to_string(w_scale.size()) + " elements, expected 1 or " +
                           std::to_string(channels));
  }
  OutputStage s;
  float ys = 1.0f;
  if (y_scale) {
    if (!y_zero_point) return InvalidArgument("y_scale without y_zero_point");
    QCAL_ASSIGN_OR_RETURN(auto yv, ReadScales(*y_scale, 1, "y_scale"));
    QCAL_ASSIGN_OR_RETURN(auto zv, ReadZeroPoints(y_zero_point, 1, "y_zero_point"));
    ys = yv[0];
    s.dtype = y_zero_point->dtype();
    s.zero_point = static_cast<float>(zv[0]);
    QCAL_RETURN_IF_ERROR(qmath::DispatchQuantType(
        s.dtype, "y_zero_point", [&]<typename Q>() { QuantizedBounds<Q>(node, ys, zv[0], s); }));
  } else {
    s.lo = node.attrs.Has("activation_min") ? node.attrs.GetFloat("activation_min", 0) : -kInf;
    s.hi = node.attrs.Has("activation_max") ? node.attrs.GetFloat("activation_max", 0) : kInf;
  }
  for (float ws : w_scale) {
    const float m = y_scale ? qmath::RequantMultiplier(x_scale, ws, ys) : x_scale * ws;
    if (!std::isfinite(m)) {
      return InvalidArgument("scales give a non-finite output multiplier (x_scale " +
                             std::to_string(x_scale) + ", w_scale " + std::to_string(ws) + ", y_scale " +
                             std::to_string(ys) + ")");
    }
    s.mult.push_back(m);
  }
  if (!(s.lo <= s.hi)) return InvalidArgument("activation_min is above activation_max");
  return s;
}

void ApplyOutputStage(const OutputStage& stage, const std::vector<int32_t>& acc, const int32_t* bias,
                      int64_t outer, int64_t channels, int64_t inner, Tensor& y) {
  auto run = [&]<typename T>() {
    T* dst = y.data<T>();
    size_t i = 0;
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t c = 0; c < channels; ++c) {
        const float mult = stage.mult_at(c);
        const int32_t b = bias ? bias[c] : 0;
        for (int64_t k = 0; k < inner; ++k, ++i) {
          const int32_t a = WrapAdd(acc[i], b);
          dst[i] = static_cast<T>(stage.quantized()
                                      ? QuantizedOutputValue(a, mult, stage.zero_point, stage.lo, stage.hi)
                                      : FloatOutputValue(a, mult, stage.lo, stage.hi));
        }
      }
    }
  };
  if (stage.dtype == DataType::kInt8) {
    run.template operator()<int8_t>();
  } else if (stage.dtype == DataType::kUint8) {
    run.template operator()<uint8_t>();
  } else {
    run.template operator()<float>();
  }
}

Result<ResidualActivation> ReadResidualActivation(const Node& node) {
  static const std::pair<const char*, ResidualActivation> kNames[] = {{"Relu", ResidualActivation::kRelu}};
  if (!node.attrs.Has("residual_activation")) return ResidualActivation::kNone;
  const std::string name = node.attrs.GetString("residual_activation", "");
  for (const auto& [n, act] : kNames) {
    if (name == n) return act;
  }
  return InvalidArgument("residual_activation '" + name + "' is not supported (supported: Relu)");
}

void ApplyResidual(ResidualActivation act, const float* z, int64_t n, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = ResidualOutputValue(y[i], z[i], act);
}

Result<DataType> InferOutputStageType(const OpContext& ctx, size_t y_scale_idx, size_t y_zp_idx) {
  const auto& a = ctx.node.attrs;
  if (a.Has("activation_min") && a.Has("activation_max") &&
      !(a.GetFloat("activation_min", 0) <= a.GetFloat("activation_max", 0))) {
    return InvalidArgument("activation_min is above activation_max");
  }
  if (ctx.has_input(y_scale_idx) != ctx.has_input(y_zp_idx)) {
    return InvalidArgument("y_scale and y_zero_point must both be given (quantized output) or both omitted");
  }
  if (!ctx.has_input(y_scale_idx)) return DataType::kFloat32;
  QCAL_RETURN_IF_ERROR(CheckPerTensorParam(ctx, y_scale_idx, "y_scale", {DataType::kFloat32}));
  QCAL_RETURN_IF_ERROR(
      CheckPerTensorParam(ctx, y_zp_idx, "y_zero_point", {DataType::kInt8, DataType::kUint8}));
  return ctx.inputs[y_zp_idx].dtype;
}

}  // namespace qcal::ref
