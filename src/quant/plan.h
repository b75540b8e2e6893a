// QuantPlan: what the quantizer decided (the "marks"), before any graph rewrite.
// One entry per quantized layer: the activation tensor and its factors, the
// quantized weight and bias. The materializer (materialize.h) turns a plan
// into a fake-quant or deploy graph; nothing else rewrites the graph.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "quant/rules.h"

namespace qcal {

struct ActivationFactors {
  float scale = 1.f;   // scale_d
  int32_t offset = 0;  // offset_d = int8 zero point, in [-128, 127]
};

struct LayerPlan {
  QuantizableLayer layer;
  ActivationFactors act;
  std::vector<float> scale_w;  // 1 or `layer.channels` values; empty for AveragePool
  Tensor weight_q;             // int8, same shape as the float weight (empty for AveragePool)
  Tensor bias_q;               // int32 [channels] (empty if the layer has no bias)
};

struct QuantPlan {
  std::vector<LayerPlan> layers;  // graph order
};

}  // namespace qcal
