#include "kernels/x86/pool_common.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "kernels/x86/pool_window.h"
#include "kernels/x86/transpose8x8.h"

namespace qcal::x86 {

bool PoolKernelsEnabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("QCAL_X86_POOL");
    return HasAvx2() && !(env && std::strcmp(env, "0") == 0);
  }();
  return enabled && BlockedIs8c();
}

bool IsFloat4d(const OpContext& ctx) {
  return ctx.has_input(0) && ctx.inputs[0].dtype == DataType::kFloat32 && ctx.inputs[0].shape.size() == 4;
}

__m256 LastBlockMask(int64_t c) {
  const int64_t valid = c % kLayoutBlock == 0 ? kLayoutBlock : c % kLayoutBlock;
  alignas(32) int32_t lanes[kLayoutBlock];
  for (int64_t l = 0; l < kLayoutBlock; ++l) lanes[l] = l < valid ? -1 : 0;
  return _mm256_castsi256_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(lanes)));
}

Result<ref::WindowParams> WindowPoolParams(const Node& node) {
  if (!node.attrs.Has("kernel_shape")) return InvalidArgument("kernel_shape is required");
  return ref::ReadWindowParams(node, 2, node.attrs.GetInts("kernel_shape"), /*allow_ceil_mode=*/true);
}

Result<Shape> LogicalPoolInput(const Tensor& x, Layout layout, int64_t channels) {
  const bool blocked = layout == Layout::kNChw8c;
  if (x.dtype() != DataType::kFloat32 || x.rank() != (blocked ? 5 : 4)) {
    return InvalidArgument("X must be 4-D, got " + ShapeToString(x.shape()));
  }
  if (!blocked) return x.shape();
  const Shape logical = {x.dim(0), channels, x.dim(2), x.dim(3)};
  if (x.shape() != BlockedShape(logical)) {
    return InvalidArgument("input does not have the prepared shape " + ShapeToString(BlockedShape(logical)));
  }
  return logical;
}

Status GlobalMeanKernel::SetLayouts(const std::vector<Layout>& in, const std::vector<Layout>& out) {
  layout_ = in.empty() ? Layout::kPlain : in[0];
  const bool plain_y = out.empty() || out[0] == Layout::kPlain;
  if (layout_ == Layout::kNhwc || !plain_y) return Internal("this pooling has no blocked-layout primitive");
  return Status::Ok();
}

Status GlobalMeanKernel::Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const bool blocked = layout_ == Layout::kNChw8c;
  QCAL_ASSIGN_OR_RETURN(const Shape logical, LogicalPoolInput(x, layout_, planned_x_[1]));
  const int64_t n = logical[0], c = logical[1], hw = logical[2] * logical[3];
  Tensor& y = ref::PrepareOutput(out, 0, DataType::kFloat32, squeeze_ ? Shape{n, c} : Shape{n, c, 1, 1});
  const float* px = x.data<float>();
  float* py = y.data<float>();
  if (!blocked) {
    ParallelItems(n * c, x.numel(), [&](int64_t p) {
      Sum1 acc;
      for (const float* v = px + p * hw; v < px + (p + 1) * hw; ++v) acc.Add(v);
      py[p] = acc.Result(hw);
    });
    return Status::Ok();
  }
  const int64_t blocks = x.dim(1);
  ParallelItems(n * blocks, x.numel(), [&](int64_t p) {
    Sum8 acc;
    const float* plane = px + p * hw * kLayoutBlock;
    for (int64_t i = 0; i < hw; ++i) acc.Add(plane + i * kLayoutBlock);
    alignas(32) float mean[kLayoutBlock];
    _mm256_store_ps(mean, acc.Result(hw));
    const int64_t c0 = (p % blocks) * kLayoutBlock, lanes = std::min<int64_t>(kLayoutBlock, c - c0);
    std::copy(mean, mean + lanes, py + (p / blocks) * c + c0);
  });
  return Status::Ok();
}

ColumnPlan PlanColumns(const Window2d& g) {
  ColumnPlan plan;
  plan.taps.resize(static_cast<size_t>(g.out_w));
  for (int64_t ow = 0; ow < g.out_w; ++ow) {
    TapRange& r = plan.taps[static_cast<size_t>(ow)];
    ref::ValidRange(ow * g.strides[1] - g.pad_begin[1], g.dilations[1], g.in_w, g.kernel[1], &r.lo, &r.hi);
  }
  // Taps start at 0 from some column on and end at the kernel width up to some column.
  auto full = [&](const TapRange& r) { return r.lo == 0 && r.hi == g.kernel[1]; };
  while (plan.full_lo < g.out_w && !full(plan.taps[static_cast<size_t>(plan.full_lo)])) ++plan.full_lo;
  plan.full_hi = plan.full_lo;
  while (plan.full_hi < g.out_w && full(plan.taps[static_cast<size_t>(plan.full_hi)])) ++plan.full_hi;
  return plan;
}

void GatherRows(const Window2d& g, const PoolIo& io, int64_t image, int64_t c0, int64_t ih0, int64_t dh,
                int64_t count, float* buf) {
  constexpr int64_t L = kLayoutBlock;
  const int64_t lanes = std::min(L, io.c - c0), plane = g.in_h * g.in_w, vec_w = g.in_w / L * L;
  const float* src = io.x + (image * io.c + c0) * plane + ih0 * g.in_w;
  for (int64_t r = 0; r < count; ++r, src += dh * g.in_w, buf += g.in_w * L) {
    for (int64_t w = 0; w < vec_w; w += L) {  // 8 channels x 8 columns at a time
      __m256 m[L];
      for (int64_t l = 0; l < L; ++l)
        m[l] = l < lanes ? _mm256_loadu_ps(src + l * plane + w) : _mm256_setzero_ps();
      Transpose8x8(m);
      for (int64_t j = 0; j < L; ++j) _mm256_storeu_ps(buf + (w + j) * L, m[j]);
    }
    for (int64_t w = vec_w; w < g.in_w; ++w) {
      for (int64_t l = 0; l < L; ++l) buf[w * L + l] = l < lanes ? src[l * plane + w] : 0.0f;
    }
  }
}

void ScatterRow(const Window2d& g, const PoolIo& io, int64_t image, int64_t c0, int64_t oh,
                const float* row) {
  constexpr int64_t L = kLayoutBlock;
  const int64_t lanes = std::min(L, io.c - c0), plane = g.out_h * g.out_w, vec_w = g.out_w / L * L;
  float* dst = io.y + (image * io.c + c0) * plane + oh * g.out_w;
  for (int64_t w = 0; w < vec_w; w += L) {
    __m256 m[L];
    for (int64_t j = 0; j < L; ++j) m[j] = _mm256_loadu_ps(row + (w + j) * L);
    Transpose8x8(m);
    for (int64_t l = 0; l < lanes; ++l) _mm256_storeu_ps(dst + l * plane + w, m[l]);
  }
  for (int64_t l = 0; l < lanes; ++l) {
    for (int64_t w = vec_w; w < g.out_w; ++w) dst[l * plane + w] = row[w * L + l];
  }
}

float* ThreadScratch(size_t slot, size_t floats) {
  thread_local std::vector<float> buffers[2];
  std::vector<float>& b = buffers[slot];
  if (b.size() < floats) b.resize(floats);
  return b.data();
}

bool SupportsWindowPool(const OpContext& ctx) {
  if (!PoolKernelsEnabled() || !IsFloat4d(ctx)) return false;
  if (ctx.node.outputs.size() > 1 && !ctx.node.outputs[1].empty()) return false;  // MaxPool Indices
  const int64_t include_pad = ctx.node.attrs.GetInt("count_include_pad", 0);
  return (include_pad == 0 || include_pad == 1) && WindowPoolParams(ctx.node).ok();
}

}  // namespace qcal::x86
