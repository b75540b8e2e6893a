// Direct float32 convolution on nChw8c tensors with AVX2 + FMA: the dnnl Conv
// kernel's path for convs whose weights do not fit in L2 (deep 3x3 convs on
// small images), where oneDNN 2.6's jit:avx2 convolution re-reads the weights
// for every output row (docs/performance.md).
//
// Layouts: X [IC/8][IH][IW][8], Y and Z [OC/8][OH][OW][8] per image, packed
// weights [OC/8][IC/8][KH][KW][8 ic][8 oc] (PackConvWeightsNchw8c). A work item
// is a group of 3 output channel blocks x a range of output rows; it runs in
// passes over chunks of input channels whose weights stay in L1, each pass
// sweeping all its rows in register tiles of 3 blocks x 4 pixels. The first
// pass starts from bias + Z, the last clamps (Relu = [0, inf), Clip = [lo, hi]).
// Inputs with pads are first copied into a zero-padded buffer.
//
// This file is compiled with -mavx2 -mfma (CMakeLists.txt): call these
// functions only when x86::HasAvx2Fma() (x86_common.h).
#pragma once

#include <cstdint>
#include <limits>

namespace qcal::x86 {

struct ConvNchw8cShape {
  int64_t ic = 0, ih = 0, iw = 0;  // input channels (multiple of 8) and size
  int64_t oc = 0, oh = 0, ow = 0;  // output channels (multiple of 8) and size
  int64_t kh = 0, kw = 0;          // kernel size
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_t = 0, pad_l = 0;  // leading pads (trailing pads follow from oh / ow)
};

struct ConvNchw8cPost {
  const float* z = nullptr;  // optional sum input, same layout and size as Y (may be Y itself)
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();
};

// True when the shape is one the kernel handles: channels multiples of 8,
// positive sizes, dilation 1 assumed by the caller.
bool ConvNchw8cSupports(const ConvNchw8cShape& s);

// ONNX weights [OC][IC][KH][KW] -> the kernel's packed layout (oc * ic * kh * kw
// floats; 32-byte alignment keeps the weight loads within cache lines).
void PackConvWeightsNchw8c(const float* oihw, const ConvNchw8cShape& s, float* packed);

// Y = clamp(conv(X, W) + bias + Z) for `batch` images (each image's X / Y / Z
// follow the previous one), on `threads` OpenMP threads. bias may be null.
void ConvNchw8c(const ConvNchw8cShape& s, int64_t batch, const float* x, const float* packed_w,
                const float* bias, const ConvNchw8cPost& post, float* y, int threads);

}  // namespace qcal::x86
