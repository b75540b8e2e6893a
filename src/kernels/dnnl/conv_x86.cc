#include "kernels/dnnl/conv_x86.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

#include "kernels/registry.h"
#include "kernels/x86/x86_common.h"

namespace qcal::dnnl_kernels {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// FusedConv activations the x86 kernels apply as a clamp [lo, hi].
struct ClampActivation {
  std::string_view name;
  float (*lo)(const std::vector<float>& params);
  float (*hi)(const std::vector<float>& params);
};
const ClampActivation kClampActivations[] = {
    {"Relu", [](const std::vector<float>&) { return 0.0f; }, [](const std::vector<float>&) { return kInf; }},
    {"Clip", [](const std::vector<float>& p) { return p.size() > 0 ? p[0] : -kInf; },
     [](const std::vector<float>& p) { return p.size() > 1 ? p[1] : kInf; }},
};

// Below this oneDNN's kernel is as fast as the direct one or faster (measured:
// 512-channel 3x3 convs, 9 MiB: 0.8x oneDNN's time; 256-channel ones, 2.3 MiB:
// 1.0-1.14x).
constexpr int64_t kMinDirectWeightBytes = int64_t{4} << 20;

// Winograd F(2x2, 3x3) runs the 3x3 stride-1 convs whose input and output
// channel counts both lie in the measured range below, at every thread count
// (so outputs do not depend on it: ThreadsFlagTest). Measured per layer
// (QCAL_PROFILE=nodes, batch 1, docs/performance.md, 2026-11-26), Winograd /
// oneDNN (the direct kernel for 512 channels), 1 thread | 2 threads:
//   ResNet-50 stack, 64 / 128 / 256 / 512 channels on 56 / 28 / 14 / 7:
//     0.55 / 0.55 / 0.68 / 0.90 | 0.58 / 0.55 / 0.68 / 0.87;
//   CIFAR ResNet-56, 16 / 32 / 64 channels on 32 / 16 / 8:
//     0.58 / 0.66 / 0.65 | 0.66 / 0.75 / 0.72.
// Other channel counts (8; over 512) were not measured and stay on oneDNN.
constexpr int64_t kWinogradMinChannels = 16, kWinogradMaxChannels = 512;
// nChw16c (AVX-512F, conv_winograd16.cc) against oneDNN's jit:avx512_core on
// nChw16c, measured as above (2026-11-27), 1 thread | 2 threads:
//   ResNet-50 stack, 64 / 128 / 256 / 512 channels:
//     0.56-0.61 / 0.57-0.58 / 0.57-0.63 / 0.63-0.66 | 0.71 / 0.64 / 0.72-0.77 / 0.74-0.75;
//   CIFAR ResNet-56, 16 / 32 / 64 channels: 1.13-1.25 / 0.79-0.95 / 0.74-1.09 | 1.26 / 0.85 / 0.96.
// 16 channels (one block: 16-step GEMMs, the transforms dominate) stay on oneDNN.
constexpr int64_t kWinograd16MinChannels = 32, kWinograd16MaxChannels = 512;

// The x86 conv kernels of one blocked layout (the first whose layout is the
// machine's and whose ISA the CPU has runs: MachineKernels). The direct kernel
// exists for nChw8c only.
struct KernelSetEntry {
  X86Conv::KernelSet set;
  bool (*cpu_has_isa)();
};
const KernelSetEntry kKernelSets[] = {
    {{Layout::kNChw8c, true, x86::ConvWinogradSupports, x86::PackConvWeightsWinograd,
      x86::ConvWinogradScratchFloats, x86::ConvWinograd, kWinogradMinChannels, kWinogradMaxChannels},
     x86::HasAvx2Fma},
    {{Layout::kNChw16c, false, x86::ConvWinograd16Supports, x86::PackConvWeightsWinograd16,
      x86::ConvWinograd16ScratchFloats, x86::ConvWinograd16, kWinograd16MinChannels, kWinograd16MaxChannels},
     x86::HasAvx512F},
};

const X86Conv::KernelSet* MachineKernels() {
  for (const auto& e : kKernelSets) {
    if (e.set.layout == FloatBlockedLayout() && e.cpu_has_isa()) return &e.set;
  }
  return nullptr;
}

// -1 when the variable is unset (or neither "0" nor "1").
int EnvSwitch(const char* name) {
  const char* v = std::getenv(name);
  if (!v) return -1;
  const std::string s(v);
  return s == "0" ? 0 : s == "1" ? 1 : -1;
}

}  // namespace

std::unique_ptr<X86Conv> X86Conv::Make(const Tensor* w, int64_t group, const ref::WindowParams& p,
                                       const ConvPostOps& post) {
  // The kernels run on the machine's blocked layout when their ISA is there.
  // An exact sum (calibration) keeps the roundings of Conv, Add, Relu as
  // separate ops: see AddsZLikeAnAdd and DnnlConv::RunX86.
  const KernelSet* set = MachineKernels();
  if (!w || group != 1 || w->rank() != 4 || !set) return nullptr;
  for (int64_t d : p.dilations) {
    if (d != 1) return nullptr;
  }
  // 1x1 convs stay on oneDNN's jit_1x1 kernel (twice as fast as the direct one on them).
  const int64_t block = LayoutBlock(set->layout);
  if (w->dim(0) % block != 0 || w->dim(1) % block != 0 || w->dim(2) * w->dim(3) == 1) return nullptr;
  auto k = std::unique_ptr<X86Conv>(new X86Conv());
  k->set_ = set;
  k->direct_on_ = set->has_direct && EnvSwitch("QCAL_DIRECT_CONV") != 0 &&
                  w->nbytes() >= static_cast<size_t>(kMinDirectWeightBytes);
  k->winograd_mode_ = EnvSwitch("QCAL_WINOGRAD");
  bool stride1 = true;
  for (int64_t s : p.strides) stride1 = stride1 && s == 1;
  if (!stride1 || w->dim(2) != 3 || w->dim(3) != 3) k->winograd_mode_ = 0;
  if (!k->direct_on_ && k->winograd_mode_ == 0) return nullptr;
  k->lo_ = -kInf;
  k->hi_ = kInf;
  if (post.activation.def) {
    const ClampActivation* c = nullptr;
    for (const auto& a : kClampActivations) {
      if (a.name == post.activation.def->name) c = &a;
    }
    if (!c) return nullptr;
    k->lo_ = c->lo(post.activation.params);
    k->hi_ = c->hi(post.activation.params);
  }
  k->w_ = *w;
  k->shape_.oc = w->dim(0);
  k->shape_.ic = w->dim(1);
  k->shape_.kh = w->dim(2);
  k->shape_.kw = w->dim(3);
  return k;
}

X86Conv::Algorithm X86Conv::Choose(const x86::ConvNchw8cShape& s) const {
  if (winograd_mode_ != 0 && set_->winograd_supports(s) &&
      (winograd_mode_ == 1 || (std::min(s.ic, s.oc) >= set_->winograd_min_channels &&
                               std::max(s.ic, s.oc) <= set_->winograd_max_channels))) {
    return Algorithm::kWinograd;
  }
  return direct_on_ ? Algorithm::kDirect : Algorithm::kOneDnn;
}

Status X86Conv::SetInput(const Shape& x, const ref::WindowParams& params) {
  if (x == x_shape_) return Status::Ok();
  QCAL_ASSIGN_OR_RETURN(ref::WindowGeometry g, ref::ComputeWindowGeometry(ref::SpatialDims(x), params));
  x86::ConvNchw8cShape s = shape_;
  s.ih = x[2], s.iw = x[3], s.oh = g.out[0], s.ow = g.out[1];
  s.stride_h = g.strides[0], s.stride_w = g.strides[1];
  s.pad_t = g.pad_begin[0], s.pad_l = g.pad_begin[1];
  if (x[1] != s.ic || !x86::ConvNchw8cSupports(s) || s.ic % LayoutBlock(set_->layout) != 0) {
    return InvalidArgument("input " + ShapeToString(x) + " does not fit the convolution's weights");
  }
  const Algorithm a = Choose(s);
  if (a == Algorithm::kDirect && direct_w_.numel() == 0) {
    direct_w_ = Tensor(DataType::kFloat32, w_.shape());
    x86::PackConvWeightsNchw8c(w_.data<float>(), s, direct_w_.data<float>());
  }
  if (a == Algorithm::kWinograd) {
    if (winograd_u_.numel() == 0) {
      winograd_u_ = Tensor(DataType::kFloat32, {x86::WinogradPackedWeightsSize(s)});
      set_->winograd_pack(w_.data<float>(), s, winograd_u_.data<float>());
    }
    scratch_.Get(set_->winograd_scratch_floats(s, x[0], x86::OmpThreads()));  // not in the first run
  }
  shape_ = s;
  x_shape_ = x;
  algorithm_ = a;
  y_physical_ = PhysicalShape({x[0], s.oc, s.oh, s.ow}, set_->layout);
  return Status::Ok();
}

void X86Conv::Run(int64_t batch, const float* x, const float* bias, const float* z, float* y, int threads,
                  bool clamp) {
  const x86::ConvNchw8cPost post{z, clamp ? lo_ : -kInf, clamp ? hi_ : kInf};
  if (algorithm_ == Algorithm::kWinograd) {
    set_->winograd(shape_, batch, x, winograd_u_.data<float>(), bias, post, y, threads, scratch_);
  } else {
    x86::ConvNchw8c(shape_, batch, x, direct_w_.data<float>(), bias, post, y, threads);
  }
}

}  // namespace qcal::dnnl_kernels
