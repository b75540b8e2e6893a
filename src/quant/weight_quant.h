// Weight quantization of one layer: ARQ on the layer's weight viewed as
// [output channels, rest], whatever axis the op keeps output channels on.
#pragma once

#include <vector>

#include "ir/tensor.h"
#include "quant/rules.h"

namespace qcal {

struct WeightQuantResult {
  std::vector<float> scale_w;  // 1 or layer.channels values
  Tensor weight_q;             // int8 holding num_bits-bit values, the weight's own shape and layout
  Tensor fake_quant;           // float32: weight_q * scale_w
};

// ARQ: computes scale_w = max|w| / qmax(num_bits) (per channel when
// `channel_wise`) and quantizes (quant/algorithms/weights.h). Errors name the layer.
Result<WeightQuantResult> ArqQuantizeWeight(const Tensor& w, const QuantizableLayer& layer, bool channel_wise,
                                            int num_bits);

// Quantizes with given scales (from a record). scale_w must have 1 or
// layer.channels values and fit num_bits (quant::CheckWeightScales: a record
// of an 8-bit run with a 7-bit config, or the reverse, is an error naming the layer).
Result<WeightQuantResult> QuantizeWeightWithScales(const Tensor& w, const QuantizableLayer& layer,
                                                   const std::vector<float>& scale_w, int num_bits);

}  // namespace qcal
