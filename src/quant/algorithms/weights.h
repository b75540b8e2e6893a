// Weight (ARQ) and bias quantization.
//
// ARQ (AMCT arq_quantize): weights viewed as [C_out, K] row-major (callers move
// the output-channel axis first, e.g. for ConvTranspose). Per output channel
// (channel_wise) or per tensor: A = max|w|, scale_w = A / qmax, offset_w = 0,
// w_int = clamp(round(w / scale_w), lo, hi), stored as int8. A channel of zeros
// gets scale 1 (the FLT_EPSILON rule). The /128 variant of AMCT's PyTorch code
// is not used.
//
// Bit widths (weight_quant_params.num_bits):
//   8: qmax 127, clamp range [-128, 127] (AMCT's int8; ARQ scales never reach -128).
//   7: qmax 63, clamp range [-63, 63]. Every |w_int| <= 64 keeps the u8 x s8
//      pair sums of vpmaddubsw (AVX2 int8 dot products without VNNI) inside
//      int16, so such int8 convolutions are exact (ONNX Runtime's reduce_range).
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

// The integer range of quantized weights of one bit width.
struct WeightIntRange {
  int32_t min;
  int32_t max;  // qmax: ARQ's scale is max|w| / qmax
};

// Weight bit widths a config may ask for: 7 and 8.
bool IsSupportedWeightBits(int num_bits);
inline constexpr const char* kSupportedWeightBitsText = "7, 8";
// The range for a supported bit width (callers validate first).
WeightIntRange WeightRange(int num_bits);

// One QuantParams per output channel (channel_wise) or one for the tensor;
// scale = max|w| / qmax(num_bits).
// Errors: unsupported num_bits, size not divisible by out_channels, NaN/Inf
// (naming channel and element).
Result<std::vector<QuantParams>> ArqCalibrate(std::span<const float> weights, int64_t out_channels,
                                              bool channel_wise, int num_bits);

// Integer weights in WeightRange(num_bits), stored as int8; `params` has 1 or
// out_channels entries.
Result<std::vector<int8_t>> QuantizeWeights(std::span<const float> weights, int64_t out_channels,
                                            std::span<const QuantParams> params, int num_bits);

// Checks scales that come from outside (a record file) against the bit width
// the config asks for, per channel, r = max|w| / scale:
//   r > qmax + 1 clips the weights: an error (a 7-bit config given the record
//     of an 8-bit run gives r = 127);
//   num_bits 8 and r == 63 (to 1e-4) in every non-zero channel: the record of a
//     7-bit run, an error too (saving it would silently give 7-bit weights).
// Messages name the channel, the scale and the bit widths; callers add the layer.
Status CheckWeightScales(std::span<const float> weights, int64_t out_channels,
                         std::span<const QuantParams> params, int num_bits);

// int32 bias; scale_w has 1 or bias.size() entries. `layer` names the layer in errors.
Result<std::vector<int32_t>> QuantizeBias(std::span<const float> bias, float scale_d,
                                          std::span<const float> scale_w, std::string_view layer);

}  // namespace qcal::quant
