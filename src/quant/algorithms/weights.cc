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

}  // namespace

Result<std::vector<QuantParams>> ArqCalibrate(std::span<const float> weights, int64_t out_channels,
                                              bool channel_wise) {
  QCAL_RETURN_IF_ERROR(CheckLayout(weights.size(), out_channels));
  const size_t k = weights.size() / out_channels;
  std::vector<double> amax(out_channels, 0.0);
  for (int64_t c = 0; c < out_channels; ++c) {
    auto row = weights.subspan(c * k, k);
    QCAL_RETURN_IF_ERROR(CheckFinite(row, "weights of output channel " + std::to_string(c)));
    for (float w : row) amax[c] = std::max(amax[c], static_cast<double>(std::fabs(w)));
  }
  if (!channel_wise) amax = {*std::max_element(amax.begin(), amax.end())};
  std::vector<QuantParams> out;
  out.reserve(amax.size());
  for (size_t c = 0; c < amax.size(); ++c) {
    Result<QuantParams> p = ProcessScale(amax[c] / kInt8Max, 0, false);
    if (!p.ok()) return p.status().WithContext("weights of output channel " + std::to_string(c));
    out.push_back(*p);
  }
  return out;
}

Result<std::vector<int8_t>> QuantizeWeights(std::span<const float> weights, int64_t out_channels,
                                            std::span<const QuantParams> params) {
  QCAL_RETURN_IF_ERROR(CheckLayout(weights.size(), out_channels));
  if (params.size() != 1 && params.size() != static_cast<size_t>(out_channels)) {
    return InvalidArgument("weight quantization needs 1 or " + std::to_string(out_channels) +
                           " scales, got " + std::to_string(params.size()));
  }
  const size_t k = weights.size() / out_channels;
  std::vector<int8_t> q(weights.size());
  for (size_t i = 0; i < weights.size(); ++i) {
    const QuantParams& p = params.size() == 1 ? params[0] : params[i / k];
    q[i] = static_cast<int8_t>(QuantizeValue(weights[i], p));
  }
  return q;
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
