// The windowed pooling kernel of provider "x86" (MaxPool, AveragePool): 2-D
// windows with strides, dilations, pads / auto_pad, ceil_mode (geometry from
// kernels/ref/conv_geometry.h), float32 X and Y each NCHW or nChw8c.
//
// A work item is one output row of one block of 8 channels of one image, computed
// 8 channels per vector (NCHW input rows are first gathered into nChw8c rows, an
// NCHW output row is scattered from one). Each output accumulates the taps inside
// X, kh then kw ascending, in an accumulator type Acc: Add(const float* p) reads 8
// lanes, Result(count) gives the 8 outputs (count = the taps inside X, or kh * kw
// with count_include_pad).
// See pool_common.h for why this is bit-identical to the reference kernels.
#pragma once

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "kernels/x86/pool_common.h"

namespace qcal::x86 {

struct Window2d {
  int64_t in_h, in_w, out_h, out_w;
  int64_t kernel[2], strides[2], dilations[2], pad_begin[2];
  bool include_pad;
};

// Window parameters of a 2-D pool node (kernel_shape required), or an error.
Result<ref::WindowParams> WindowPoolParams(const Node& node);
// MaxPool / AveragePool nodes these kernels run: float32 4-D X, no Indices
// output, count_include_pad 0 or 1, valid window attributes.
bool SupportsWindowPool(const OpContext& ctx);

// The taps [lo, hi) of the window of each output column that lie inside X.
struct TapRange {
  int64_t lo, hi;
};

// One output row's window rows (`rows` = the first one inside X at column 0, `row_step`
// floats apart, `taps_h` of them) and output columns [ow, ow + U), each with the taps
// [kw.lo, kw.hi). U accumulators side by side hide the latency of the max / add
// chains; each still sees its taps in the reference's order. Lanes outside `mask` are zeroed.
template <int U, class Acc>
inline void PoolColumns(const Window2d& g, const float* rows, int64_t row_step, int64_t taps_h, int64_t ow,
                        TapRange kw, float* y, __m256 mask) {
  constexpr int64_t L = kLayoutBlock;
  const int64_t sw = g.strides[1] * L, dw = g.dilations[1] * L;
  const float* x = rows + (ow * g.strides[1] - g.pad_begin[1]) * L;
  Acc acc[U];
  for (int64_t r = 0; r < taps_h; ++r, x += row_step) {
    for (int64_t k = kw.lo; k < kw.hi; ++k) {
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) acc[u].Add(x + u * sw + k * dw);
    }
  }
  const int64_t count = g.include_pad ? g.kernel[0] * g.kernel[1] : taps_h * (kw.hi - kw.lo);
#pragma GCC unroll 4
  for (int u = 0; u < U; ++u) _mm256_storeu_ps(y + (ow + u) * L, _mm256_and_ps(acc[u].Result(count), mask));
}

// The columns of the output rows: the taps of each inside X, and the range
// [full_lo, full_hi) of columns with all kernel taps inside X.
struct ColumnPlan {
  std::vector<TapRange> taps;
  int64_t full_lo = 0, full_hi = 0;
};
ColumnPlan PlanColumns(const Window2d& g);

// One nChw8c output row y (out_w x 8 floats) from its window rows (see PoolColumns).
template <class Acc>
void PoolRow(const Window2d& g, const ColumnPlan& cols, const float* rows, int64_t row_step, int64_t taps_h,
             float* y, __m256 mask) {
  constexpr int U = 4;
  for (int64_t ow = 0; ow < g.out_w;) {
    const TapRange kw = cols.taps[static_cast<size_t>(ow)];
    if (ow >= cols.full_lo && ow + U <= cols.full_hi) {
      PoolColumns<U, Acc>(g, rows, row_step, taps_h, ow, kw, y, mask);
      ow += U;
    } else {
      PoolColumns<1, Acc>(g, rows, row_step, taps_h, ow, kw, y, mask);
      ow += 1;
    }
  }
}

// X and Y of one run: NCHW or nChw8c each (logical n x c x H x W).
struct PoolIo {
  const float* x;
  float* y;
  bool x_blocked, y_blocked;
  int64_t n, c;
};

// NCHW rows ih_0, ih_0 + dh, ... (count of them) of channels [c0, c0 + 8) (channels >= c
// are zero) of image `image` as nChw8c rows in `buf` (count x in_w x 8 floats).
void GatherRows(const Window2d& g, const PoolIo& io, int64_t image, int64_t c0, int64_t ih0, int64_t dh,
                int64_t count, float* buf);
// The nChw8c row `row` (out_w x 8) into the NCHW rows oh of channels [c0, min(c0 + 8, c)).
void ScatterRow(const Window2d& g, const PoolIo& io, int64_t image, int64_t c0, int64_t oh, const float* row);
// A per-thread scratch buffer of at least `floats` floats (reused between calls).
float* ThreadScratch(size_t slot, size_t floats);

// Pools every output row: one work item = one output row of one block of 8 channels.
// NCHW inputs are gathered into nChw8c rows and NCHW outputs scattered from them.
template <class Acc>
void PoolAll(const Window2d& g, const PoolIo& io) {
  constexpr int64_t L = kLayoutBlock;
  const int64_t blocks = (io.c + L - 1) / L, planes = io.n * blocks;
  const ColumnPlan cols = PlanColumns(g);
  const __m256 last = LastBlockMask(io.c), all = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
  ParallelItems(planes * g.out_h, planes * g.in_h * g.in_w * L, [&](int64_t i) {
    const int64_t p = i / g.out_h, oh = i % g.out_h, image = p / blocks, c0 = (p % blocks) * L;
    const int64_t h0 = oh * g.strides[0] - g.pad_begin[0];
    int64_t kh_lo, kh_hi;
    ref::ValidRange(h0, g.dilations[0], g.in_h, g.kernel[0], &kh_lo, &kh_hi);
    const int64_t ih0 = h0 + kh_lo * g.dilations[0], taps_h = kh_hi - kh_lo;
    const float* rows = io.x + (p * g.in_h + ih0) * g.in_w * L;
    int64_t row_step = g.dilations[0] * g.in_w * L;
    if (!io.x_blocked) {
      float* buf = ThreadScratch(0, static_cast<size_t>(std::max<int64_t>(taps_h, 1) * g.in_w * L));
      GatherRows(g, io, image, c0, ih0, g.dilations[0], taps_h, buf);
      rows = buf, row_step = g.in_w * L;
    }
    const __m256 mask = p % blocks == blocks - 1 ? last : all;
    if (io.y_blocked) {
      PoolRow<Acc>(g, cols, rows, row_step, taps_h, io.y + (p * g.out_h + oh) * g.out_w * L, mask);
    } else {
      float* row = ThreadScratch(1, static_cast<size_t>(g.out_w * L));
      PoolRow<Acc>(g, cols, rows, row_step, taps_h, row, mask);
      ScatterRow(g, io, image, c0, oh, row);
    }
  });
}

template <class Acc>
class WindowPoolKernel final : public Kernel {
 public:
  WindowPoolKernel(ref::WindowParams params, bool include_pad, Shape planned_x)
      : params_(std::move(params)), include_pad_(include_pad), planned_x_(std::move(planned_x)) {}

  bool WritesAllOutputs() const override { return true; }
  bool AcceptsBlocked(size_t input) const override {
    return input == 0 && ShapeIsStatic(planned_x_) && BlockedIs8c();
  }
  bool ProducesBlocked(size_t output) const override {
    return output == 0 && ShapeIsStatic(planned_x_) && BlockedIs8c();
  }

  Status SetLayouts(const std::vector<Layout>& in, const std::vector<Layout>& out) override {
    x_layout_ = in.empty() ? Layout::kPlain : in[0];
    y_layout_ = out.empty() ? Layout::kPlain : out[0];
    if (x_layout_ == Layout::kNhwc || y_layout_ == Layout::kNhwc)
      return Internal("this pooling has no blocked-layout primitive");
    return Status::Ok();
  }

  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    const Tensor& x = *in[0];
    const bool blocked = x_layout_ == Layout::kNChw8c;
    QCAL_ASSIGN_OR_RETURN(const Shape logical, LogicalPoolInput(x, x_layout_, planned_x_[1]));
    QCAL_ASSIGN_OR_RETURN(ref::WindowGeometry geo,
                          ref::ComputeWindowGeometry(ref::SpatialDims(logical), params_));
    const Window2d g{geo.in[0],
                     geo.in[1],
                     geo.out[0],
                     geo.out[1],
                     {geo.kernel[0], geo.kernel[1]},
                     {geo.strides[0], geo.strides[1]},
                     {geo.dilations[0], geo.dilations[1]},
                     {geo.pad_begin[0], geo.pad_begin[1]},
                     include_pad_};
    const Shape y_shape = {logical[0], logical[1], g.out_h, g.out_w};
    Tensor& y = ref::PrepareOutput(out, 0, DataType::kFloat32, PhysicalShape(y_shape, y_layout_));
    PoolAll<Acc>(
        g, {x.data<float>(), y.data<float>(), blocked, y_layout_ == Layout::kNChw8c, logical[0], logical[1]});
    return Status::Ok();
  }

 private:
  ref::WindowParams params_;
  bool include_pad_;
  Shape planned_x_;  // X's shape at kernel creation (blocked only when static)
  Layout x_layout_ = Layout::kPlain, y_layout_ = Layout::kPlain;
};

template <class Acc>
Result<std::unique_ptr<Kernel>> MakeWindowPool(const OpContext& ctx, bool include_pad) {
  QCAL_ASSIGN_OR_RETURN(ref::WindowParams params, WindowPoolParams(ctx.node));
  return std::unique_ptr<Kernel>(
      std::make_unique<WindowPoolKernel<Acc>>(std::move(params), include_pad, ctx.inputs[0].shape));
}

}  // namespace qcal::x86
