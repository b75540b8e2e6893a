// Winograd F(2x2, 3x3) float32 convolution on nChw8c tensors with AVX2 + FMA:
// the dnnl Conv kernel's path for the 3x3 stride-1 convs where it measured
// faster than oneDNN 2.6's direct jit:avx2 kernel (kernels/dnnl/conv_x86.h).
//
// Each 2x2 output tile is computed from a 4x4 input tile d as
// A^T [ (G g G^T) . (B^T d B) ] A: 16 multiplies per tile and channel pair
// instead of 36. The weight transform U = G g G^T is done once
// (PackConvWeightsWinograd, layout [16][OC/8][IC][8 oc]). A run goes over the
// tiles in chunks whose transformed input fits in L2 (kChunkBytes):
//  1. input transform V = B^T d B of every tile and input channel block of the
//     chunk, stored as 16 matrices [tiles][IC] (pads and partial tiles read zeros);
//  2. per work item (a block of tiles x a group of 3 output channel blocks):
//     16 GEMMs M = V U with register tiles of 3 blocks x 4 tiles (FMA), then
//     the output transform A^T M A + bias + Z, clamped (Relu / Clip), stored
//     straight into Y (only the valid pixels of partial tiles).
// Layouts as in conv_nchw8c.h; Y may be Z's buffer. Scratch (V and the
// per-thread M blocks) lives in a WinogradScratch the caller keeps, so steady
// runs allocate nothing.
//
// This file is compiled with -mavx2 -mfma (CMakeLists.txt): call these
// functions only when x86::HasAvx2Fma() (x86_common.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/x86/conv_nchw8c.h"

namespace qcal::x86 {

// True when the shape is one the kernel handles: 3x3, stride 1, channels
// multiples of 8, positive sizes, and pads of at most 2 (dilation 1 and
// group 1 assumed by the caller).
bool ConvWinogradSupports(const ConvNchw8cShape& s);

// Floats of the packed (transformed) weights: 16 * oc * ic.
int64_t WinogradPackedWeightsSize(const ConvNchw8cShape& s);

// ONNX weights [OC][IC][3][3] -> U = G g G^T in the kernel's packed layout.
void PackConvWeightsWinograd(const float* oihw, const ConvNchw8cShape& s, float* packed);

// Scratch buffers reused across runs (grown when a run needs more).
class WinogradScratch {
 public:
  float* Get(size_t floats) {
    if (buf_.size() < floats) buf_.resize(floats);
    return buf_.data();
  }

 private:
  std::vector<float> buf_;
};

// Floats of scratch a run of `batch` images on `threads` threads uses
// (ConvWinograd grows `scratch` to it; callers may reserve it at prepare time).
size_t ConvWinogradScratchFloats(const ConvNchw8cShape& s, int64_t batch, int threads);

// Y = clamp(conv(X, W) + bias + Z) for `batch` images, as ConvNchw8c
// (conv_nchw8c.h), on `threads` OpenMP threads. bias may be null.
void ConvWinograd(const ConvNchw8cShape& s, int64_t batch, const float* x, const float* packed_u,
                  const float* bias, const ConvNchw8cPost& post, float* y, int threads,
                  WinogradScratch& scratch);

}  // namespace qcal::x86
