// qcal's own x86 conv kernels inside the dnnl Conv / FusedConv kernel
// (conv.cc): when X, Y (and Z) are in the machine's blocked layout, some convs
// run faster on them than on oneDNN 2.6's convolutions (docs/performance.md):
//  - Winograd F(2x2, 3x3) (x86/conv_winograd.h) for 3x3 stride-1 convs with
//    input and output channels in the measured range (conv_x86.cc): on nChw8c
//    machines (AVX2 + FMA, against jit:avx2) and on nChw16c ones (AVX-512F,
//    against jit:avx512_core);
//  - on nChw8c machines only, the direct kernel (x86/conv_nchw8c.h) for other
//    non-1x1 convs with large weights (kMinDirectWeightBytes): oneDNN streams
//    the weights from memory once per output row, the direct kernel once per
//    range of rows.
// Both need constant float weights, group 1, no dilation, channels multiples of
// the block (8 / 16) and an activation that is a clamp (Relu, Clip). An exact sum (calibration) keeps
// the roundings of Conv, Add and Relu as separate ops: Winograd adds Z as a separate Add would
// (AddsZLikeAnAdd); with the direct kernel the Conv runs alone and DnnlConv adds Z (and the Relu)
// afterwards. QCAL_DIRECT_CONV=0 / QCAL_WINOGRAD=0 in the environment turn a kernel off (A/B
// runs); QCAL_WINOGRAD=1 uses Winograd for every conv it can run (tests, per-layer measurements).
#pragma once

#include <memory>

#include "kernels/fused_activation.h"
#include "kernels/ref/conv_geometry.h"
#include "kernels/registry.h"
#include "kernels/x86/conv_nchw8c.h"
#include "kernels/x86/conv_winograd.h"

namespace qcal::dnnl_kernels {

// The post-ops of a FusedConv (empty for Conv).
struct ConvPostOps {
  bool sum = false;        // Z input
  bool exact_sum = false;  // Z (then the activation, a Relu or none) applied after the primitive
  FusedActivation activation;
};

class X86Conv {
 public:
  enum class Algorithm { kOneDnn, kDirect, kWinograd };

  // The kernels of one blocked layout (conv_x86.cc's table).
  struct KernelSet {
    Layout layout;  // of X, Y and Z
    bool has_direct;
    bool (*winograd_supports)(const x86::ConvNchw8cShape&);
    void (*winograd_pack)(const float*, const x86::ConvNchw8cShape&, float*);
    size_t (*winograd_scratch_floats)(const x86::ConvNchw8cShape&, int64_t, int);
    void (*winograd)(const x86::ConvNchw8cShape&, int64_t, const float*, const float*, const float*,
                     const x86::ConvNchw8cPost&, float*, int, x86::WinogradScratch&);
    int64_t winograd_min_channels, winograd_max_channels;  // measured faster than oneDNN in between
  };

  // Null when no input shape could run on an x86 kernel (see above).
  static std::unique_ptr<X86Conv> Make(const Tensor* w, int64_t group, const ref::WindowParams& p,
                                       const ConvPostOps& post);

  // Chooses the kernel for logical NCHW input x (cached for the last input
  // shape) and packs its weights on first use.
  Status SetInput(const Shape& x, const ref::WindowParams& params);
  Algorithm algorithm() const { return algorithm_; }
  // Whether the chosen kernel adds Z to conv + bias in a rounding of its own, as
  // a separate Add would (Winograd's output transform; its clamp max(v, 0) then
  // gives what the Relu gives, +0 for v <= 0), so an exact sum may pass Z in;
  // the direct kernel starts its sums from bias + Z.
  bool AddsZLikeAnAdd() const { return algorithm_ == Algorithm::kWinograd; }
  Layout layout() const { return set_->layout; }  // of X, Y and Z
  const Shape& y_physical() const { return y_physical_; }

  // Y = clamp(conv(X) + bias + Z) with the chosen kernel (not kOneDnn); X, Z
  // and Y are in layout(), z and bias may be null. clamp = false: no activation.
  void Run(int64_t batch, const float* x, const float* bias, const float* z, float* y, int threads,
           bool clamp = true);

 private:
  Algorithm Choose(const x86::ConvNchw8cShape& s) const;

  const KernelSet* set_ = nullptr;
  Tensor w_;  // ONNX weights (shares the constant's buffer)
  bool direct_on_ = true;
  int winograd_mode_ = -1;  // QCAL_WINOGRAD: 0 off, 1 always when it can, -1 by the measured channel range
  float lo_, hi_;
  Tensor direct_w_, winograd_u_;  // packed on first use
  x86::WinogradScratch scratch_;
  Shape x_shape_;  // logical NCHW input the fields below are for
  x86::ConvNchw8cShape shape_;
  Shape y_physical_;
  Algorithm algorithm_ = Algorithm::kOneDnn;
};

}  // namespace qcal::dnnl_kernels
