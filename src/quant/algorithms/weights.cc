#include "quant/algorithms/weights.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace qcal::quant {
namespace {

Status CheckLayout(size_t size, int64_t out_channels) {
  if (out_channels <= 0 || size % static_cast<size_t>(out_channels) != 0) {
    return InvalidArgument("weight tensor of " + std::to_string(size) + " values cannot be split into " +
                           std::to_string(out_channels) + " output channels");
  }
  return Status::Ok();
}

Status CheckBits(int num_bits) {
  if (IsSupportedWeightBits(num_bits)) return Status::Ok();
  return InvalidArgument("weight bit width " + std::to_string(num_bits) +
                         " is not supported (allowed: " + kSupportedWeightBitsText + ")");
}

Status CheckParamCount(size_t n, int64_t out_channels) {
  if (n == 1 || n == static_cast<size_t>(out_channels)) return Status::Ok();
  return InvalidArgument("weight quantization needs 1 or " + std::to_string(out_channels) + " scales, got " +
                         std::to_string(n));
}

// max|w| per output channel (weights as [out_channels, k]), or of the whole
// tensor when !channel_wise. Errors: bad layout, NaN/Inf.
Result<std::vector<double>> MaxAbs(std::span<const float> weights, int64_t out_channels, bool channel_wise) {
  QCAL_RETURN_IF_ERROR(CheckLayout(weights.size(), out_channels));
  const size_t k = weights.size() / out_channels;
  std::vector<double> amax(out_channels, 0.0);
  for (int64_t c = 0; c < out_channels; ++c) {
    auto row = weights.subspan(c * k, k);
    QCAL_RETURN_IF_ERROR(CheckFinite(row, "weights of output channel " + std::to_string(c)));
    for (float w : row) amax[c] = std::max(amax[c], static_cast<double>(std::fabs(w)));
  }
  if (!channel_wise) amax = {*std::max_element(amax.begin(), amax.end())};
  return amax;
}

std::string Channel(size_t c, size_t n) {
  return n == 1 ? "the weight tensor" : "output channel " + std::to_string(c);
}

}  // namespace

bool IsSupportedWeightBits(int num_bits) { return num_bits == 7 || num_bits == 8; }

WeightIntRange WeightRange(int num_bits) {
  if (num_bits == 8) return {kInt8Min, kInt8Max};
  const int32_t qmax = (1 << (num_bits - 1)) - 1;
  return {-qmax, qmax};
}

Result<std::vector<QuantParams>> ArqCalibrate(std::span<const float> weights, int64_t out_channels,
                                              bool channel_wise, int num_bits) {
  QCAL_RETURN_IF_ERROR(CheckBits(num_bits));
  QCAL_ASSIGN_OR_RETURN(std::vector<double> amax, MaxAbs(weights, out_channels, channel_wise));
  const double qmax = WeightRange(num_bits).max;
  std::vector<QuantParams> out;
  out.reserve(amax.size());
  for (size_t c = 0; c < amax.size(); ++c) {
    Result<QuantParams> p = ProcessScale(amax[c] / qmax, 0, false);
    if (!p.ok()) return p.status().WithContext("weights of output channel " + std::to_string(c));
    out.push_back(*p);
  }
  return out;
}

Result<std::vector<int8_t>> QuantizeWeights(std::span<const float> weights, int64_t out_channels,
                                            std::span<const QuantParams> params, int num_bits) {
  QCAL_RETURN_IF_ERROR(CheckBits(num_bits));
  QCAL_RETURN_IF_ERROR(CheckLayout(weights.size(), out_channels));
  QCAL_RETURN_IF_ERROR(CheckParamCount(params.size(), out_channels));
  const WeightIntRange range = WeightRange(num_bits);
  const size_t k = weights.size() / out_channels;
  std::vector<int8_t> q(weights.size());
  for (size_t i = 0; i < weights.size(); ++i) {
    const QuantParams& p = params.size() == 1 ? params[0] : params[i / k];
    q[i] = static_cast<int8_t>(std::clamp(QuantizeValue(weights[i], p), range.min, range.max));
  }
  return q;
}

Status CheckWeightScales(std::span<const float> weights, int64_t out_channels,
                         std::span<const QuantParams> params, int num_bits) {
  QCAL_RETURN_IF_ERROR(CheckBits(num_bits));
  QCAL_RETURN_IF_ERROR(CheckParamCount(params.size(), out_channels));
  QCAL_ASSIGN_OR_RETURN(std::vector<double> amax, MaxAbs(weights, out_channels, params.size() != 1));
  const WeightIntRange range = WeightRange(num_bits);
  const int32_t qmax = range.max;
  const int32_t qmax7 = WeightRange(7).max;
  const std::string bits = "weight_quant_params.num_bits " + std::to_string(num_bits);
  bool all_7bit = true, any_nonzero = false;
  for (size_t c = 0; c < amax.size(); ++c) {
    const double r = amax[c] / params[c].scale;
    if (r > qmax + 1) {
      const bool from_8bit = num_bits < 8 && std::fabs(r - kInt8Max) <= 1e-4 * kInt8Max;
      return InvalidArgument(
          Channel(c, amax.size()) + ": scale_w " + FloatToString(params[c].scale) + " maps max|w| " +
          std::to_string(amax[c]) + " to " + std::to_string(r) + ", outside the " + std::to_string(num_bits) +
          "-bit weight range [" + std::to_string(range.min) + ", " + std::to_string(qmax) + "] of " + bits +
          (from_8bit ? " (the record looks like one of an 8-bit calibration run)" : "") +
          ".\nFix: save with the config the calibration used, or recalibrate with this config");
    }
    if (amax[c] > 0) {
      any_nonzero = true;
      all_7bit &= std::fabs(r - qmax7) <= 1e-4 * qmax7;
    }
  }
  if (num_bits == 8 && any_nonzero && all_7bit) {
    return InvalidArgument(
        "scale_w maps max|w| to 63 in every channel: the record is one of a 7-bit calibration "
        "run (weight_quant_params.num_bits 7) but the config has " +
        bits + ".\nFix: save with the config the calibration used, or recalibrate with this config");
  }
  return Status::Ok();
}

Result<std::vector<int32_t>> QuantizeBias(std::span<const float> bias, float scale_d,
                                          std::span<const float> scale_w, std::string_view layer) {
  const std::string where = "layer '" + std::string(layer) + "'";
  if (scale_w.size() != 1 && scale_w.size() != bias.size()) {
    return InvalidArgument(where + ": bias has " + std::to_string(bias.size()) +
                           " channels but scale_w has " + std::to_string(scale_w.size()) +
                           " values (expected 1 or " + std::to_string(bias.size()) + ")");
  }
  std::vector<int32_t> out(bias.size());
  for (size_t c = 0; c < bias.size(); ++c) {
    const double sw = scale_w.size() == 1 ? scale_w[0] : scale_w[c];
    const double deq = static_cast<double>(scale_d) * sw;
    const std::string ch = where + ", bias channel " + std::to_string(c);
    if (!(deq > 0) || !std::isfinite(deq)) {
      return InvalidArgument(ch + ": scale_d * scale_w = " + std::to_string(deq) +
                             " is not a positive number");
    }
    if (!std::isfinite(bias[c])) return InvalidArgument(ch + ": bias value is " + std::to_string(bias[c]));
    const double q = RoundHalfEven(bias[c] / deq);
    if (q < std::numeric_limits<int32_t>::min() || q > std::numeric_limits<int32_t>::max()) {
      return OutOfRange(ch + ": quantized bias " + std::to_string(q) + " (bias " + std::to_string(bias[c]) +
                        " / (scale_d " + std::to_string(scale_d) + " * scale_w " + std::to_string(sw) +
                        ")) exceeds the int32 range; skip quantizing this layer");
    }
    out[c] = static_cast<int32_t>(q);
  }
  return out;
}

}  // namespace qcal::quant
