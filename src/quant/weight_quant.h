// Weight quantization of one layer: ARQ on the layer's weight viewed as
// [output channels, rest], whatever axis the op keeps output channels on.
#pragma once

#include <vector>

#include "ir/tensor.h"
#include "quant/rules.h"

namespace qcal {

struct WeightQuantResult {
  std::vector<float> scale_w;  // 1 or layer.channels values
  Tensor weight_q;             // int8, the weight's own shape and layout
  Tensor fake_quant;           // float32: weight_q * scale_w
};

// ARQ: computes scale_w (per channel when `channel_wise`) and quantizes.
// Errors name the layer.
Result<WeightQuantResult> ArqQuantizeWeight(const Tensor& w, const QuantizableLayer& layer, bool channel_wise);

// Quantizes with given scales (from a record). scale_w must have 1 or
// layer.channels values.
Result<WeightQuantResult> QuantizeWeightWithScales(const Tensor& w, const QuantizableLayer& layer,
                                                   const std::vector<float>& scale_w);

}  // namespace qcal
