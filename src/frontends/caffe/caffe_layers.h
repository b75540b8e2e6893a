// Internal to the Caffe frontend: one converter per Caffe layer type, found
// through a table by type name.
#pragma once

#include <string_view>

#include "frontends/caffe/caffe_builder.h"

namespace qcal::caffe_import {

using ConvertFn = Status (*)(LayerContext& ctx);

struct LayerConverter {
  std::string_view type;  // Caffe layer type string
  ConvertFn convert;
  int min_bottoms;
  int max_bottoms;  // -1: any number
  int min_tops;
  int max_tops;  // -1: any number
};

// nullptr for a type qcal does not convert.
const LayerConverter* FindLayerConverter(std::string_view type);

// Caffe's pooled output size along one axis (PoolingLayer::Reshape):
// ceil (or floor) ((in + 2*pad - kernel) / stride) + 1, minus one when the
// last window would start inside the padding (checked when any axis is padded).
int64_t CaffePooledSize(int64_t in, int64_t kernel, int64_t pad, int64_t stride, bool ceil_mode,
                        bool any_pad);

// Converters, grouped by file.
// caffe_conv_layers.cc
Status ConvertConvolution(LayerContext& ctx);
Status ConvertDeconvolution(LayerContext& ctx);
Status ConvertInnerProduct(LayerContext& ctx);
Status ConvertPooling(LayerContext& ctx);
// caffe_norm_layers.cc
Status ConvertBatchNorm(LayerContext& ctx);
Status ConvertScale(LayerContext& ctx);
Status ConvertBias(LayerContext& ctx);
Status ConvertPReLU(LayerContext& ctx);
// caffe_layers.cc
Status ConvertReLU(LayerContext& ctx);
Status ConvertElementwiseUnary(LayerContext& ctx);
Status ConvertELU(LayerContext& ctx);
Status ConvertIdentity(LayerContext& ctx);
Status ConvertSplit(LayerContext& ctx);
Status ConvertSilence(LayerContext& ctx);
Status ConvertEltwise(LayerContext& ctx);
Status ConvertConcat(LayerContext& ctx);
Status ConvertSlice(LayerContext& ctx);
Status ConvertSoftmax(LayerContext& ctx);
Status ConvertFlatten(LayerContext& ctx);
Status ConvertReshape(LayerContext& ctx);
Status ConvertPermute(LayerContext& ctx);

}  // namespace qcal::caffe_import
