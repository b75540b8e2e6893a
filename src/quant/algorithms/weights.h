// Weight (ARQ) and bias quantization.
//
// ARQ (AMCT arq_quantize): weights viewed as [C_out, K] row-major (callers move
// the output-channel axis first, e.g. for ConvTranspose). Per output channel
// (channel_wise) or per tensor: A = max|w|, scale_w = A / 127, offset_w = 0,
// w_int8 = clamp(round(w / scale_w), -128, 127). A channel of zeros gets scale 1
// (the FLT_EPSILON rule). The /128 variant of AMCT's PyTorch code is not used.
//
// Bias: b_int32 = round(b / (scale_d * scale_w[c])); values outside int32 are
// an error naming the layer and channel.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "quant/algorithms/quant_params.h"

namespace qcal::quant {

// One QuantParams per output channel (channel_wise) or one for the tensor.
// Errors: size not divisible by out_channels, NaN/Inf (naming channel and element).
Result<std::vector<QuantParams>> ArqCalibrate(std::span<const float> weights, int64_t out_channels,
                                              bool channel_wise);

// int8 weights; `params` has 1 or out_channels entries.
Result<std::vector<int8_t>> QuantizeWeights(std::span<const float> weights, int64_t out_channels,
                                            std::span<const QuantParams> params);

// int32 bias; scale_w has 1 or bias.size() entries. `layer` names the layer in errors.
Result<std::vector<int32_t>> QuantizeBias(std::span<const float> bias, float scale_d,
                                          std::span<const float> scale_w, std::string_view layer);

}  // namespace qcal::quant
