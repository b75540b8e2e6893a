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
  // An exact sum (calibration) must keep oneDNN's accumulation: no x86 kernel.
  // The kernels implement nChw8c, the blocked layout of AVX2 machines (with
  // AVX-512 the values are nChw16c and oneDNN's nChw16c kernels run).
  if (!w || group != 1 || w->rank() != 4 || post.exact_sum || !x86::HasAvx2Fma() || !x86::BlockedIs8c()) {
    return nullptr;
  }
  for (int64_t d : p.dilations) {
    if (d != 1) return nullptr;
  }
  // 1x1 convs stay on oneDNN's jit_1x1 kernel (twice as fast as the direct one on them).
  if (w->dim(0) % 8 != 0 || w->dim(1) % 8 != 0 || w->dim(2) * w->dim(3) == 1) return nullptr;
  auto k = std::unique_ptr<X86Conv>(new X86Conv());
  k->direct_on_ =
      EnvSwitch("QCAL_DIRECT_CONV") != 0 && w->nbytes() >= static_cast<size_t>(kMinDirectWeightBytes);
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
  if (winograd_mode_ != 0 && x86::ConvWinogradSupports(s) &&
      (winograd_mode_ == 1 ||
       (std::min(s.ic, s.oc) >= kWinogradMinChannels && std::max(s.ic, s.oc) <= kWinogradMaxChannels))) {
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
  if (x[1] != s.ic || !x86::ConvNchw8cSupports(s)) {
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
      x86::PackConvWeightsWinograd(w_.data<float>(), s, winograd_u_.data<float>());
    }
    scratch_.Get(x86::ConvWinogradScratchFloats(s, x[0], x86::OmpThreads()));  // not in the first run
  }
  shape_ = s;
  x_shape_ = x;
  algorithm_ = a;
  y_physical_ = PhysicalShape({x[0], s.oc, s.oh, s.ow}, Layout::kNChw8c);
  return Status::Ok();
}

void X86Conv::Run(int64_t batch, const float* x, const float* bias, const float* z, float* y, int threads) {
  const x86::ConvNchw8cPost post{z, lo_, hi_};
  if (algorithm_ == Algorithm::kWinograd) {
    x86::ConvWinograd(shape_, batch, x, winograd_u_.data<float>(), bias, post, y, threads, scratch_);
  } else {
    x86::ConvNchw8c(shape_, batch, x, direct_w_.data<float>(), bias, post, y, threads);
  }
}

}  // namespace qcal::dnnl_kernels
