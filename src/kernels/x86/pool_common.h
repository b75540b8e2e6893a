// Shared code of the AVX2 pooling kernels (provider "x86"): MaxPool, AveragePool
// (pool_window.h, windowed pools) and GlobalAveragePool / ReduceMean over H, W
// (global_average_pool.cc, reduce_mean.cc). Float32 4-D X in NCHW or nChw8c.
//
// Every output element sees the same operations, in the same order, as in the
// reference kernels, so the results are bit-identical to them:
//   max:     best = std::max(best, x) from the type's lowest value over the taps
//            inside X, kh then kw ascending (_mm256_max_ps(x, best) is exactly
//            std::max(best, x), NaN and signed zeros included);
//   average: a double sum over those taps in the same order, divided in double
//            by the tap count and rounded to float once.
// The 8 lanes of a vector are 8 channels (nChw8c, or NCHW rows gathered into
// that form), so each lane is one reference loop. The global means of an NCHW X
// are scalar loops (one plane per work item).
//
// The files including this header are compiled with -mavx2 (CMakeLists.txt);
// the kernels are registered only when the CPU has AVX2 (PoolKernelsEnabled).
// QCAL_X86_POOL=0 in the environment disables them (A/B against oneDNN's pooling).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "kernels/ref/common.h"
#include "kernels/ref/conv_geometry.h"
#include "kernels/x86/x86_common.h"

namespace qcal::x86 {

// Above the oneDNN pooling (dnnl priority 10), which these kernels replace.
inline constexpr int kPoolPriority = kPriority + 1;

// AVX2 present and QCAL_X86_POOL is not "0" (read once), and the machine's
// blocked layout is nChw8c (with nChw16c, AVX-512, oneDNN's pooling reads and
// writes the blocked values instead).
bool PoolKernelsEnabled();

// Float32 X of rank 4 (the pools here are 2-D only).
bool IsFloat4d(const OpContext& ctx);

// The 8-lane mask of channels < c in the last block of a kNChw8c tensor with c channels
// (all ones when c is a multiple of 8).
__m256 LastBlockMask(int64_t c);

// Calls f(i) for i in [0, items), over the kernel threads when `work` (elements
// touched) is large enough to pay for waking them.
template <typename F>
void ParallelItems(int64_t items, int64_t work, F&& f) {
  const bool parallel = work >= kParallelMin && items > 1;
  const int threads = parallel ? OmpThreads() : 1;
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
  for (int64_t i = 0; i < items; ++i) f(i);
}

// One double accumulator per lane of an 8-float vector (average pools).
struct Sum8 {
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  void Add(const float* p) {
    const __m256 v = _mm256_loadu_ps(p);
    lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  // float(sum / count) per lane; 0 when count is 0 (the reference's rule).
  __m256 Result(int64_t count) const {
    if (count <= 0) return _mm256_setzero_ps();
    const __m256d n = _mm256_set1_pd(static_cast<double>(count));
    const __m128 a = _mm256_cvtpd_ps(_mm256_div_pd(lo, n)), b = _mm256_cvtpd_ps(_mm256_div_pd(hi, n));
    return _mm256_insertf128_ps(_mm256_castps128_ps256(a), b, 1);
  }
};

// The logical NCHW shape of a pool's X held in `layout` (kNChw8c: the planned
// channel count `channels`), or an error when X is not float32 4-D in that layout.
Result<Shape> LogicalPoolInput(const Tensor& x, Layout layout, int64_t channels);

// GlobalAveragePool and ReduceMean over exactly H and W: Y = [N, C, 1, 1], or
// [N, C] when `squeeze` (ReduceMean keepdims=0), always NCHW; X NCHW or nChw8c.
class GlobalMeanKernel final : public Kernel {
 public:
  GlobalMeanKernel(Shape planned_x, bool squeeze) : planned_x_(std::move(planned_x)), squeeze_(squeeze) {}
  bool WritesAllOutputs() const override { return true; }
  bool AcceptsBlocked(size_t input) const override {
    return input == 0 && ShapeIsStatic(planned_x_) && BlockedIs8c();
  }
  Status SetLayouts(const std::vector<Layout>& in, const std::vector<Layout>& out) override;
  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override;

 private:
  Shape planned_x_;
  bool squeeze_;
  Layout layout_ = Layout::kPlain;
};

// The scalar form of Sum8 (NCHW).
struct Sum1 {
  double sum = 0;
  void Add(const float* p) { sum += *p; }
  float Result(int64_t count) const {
    return count > 0 ? static_cast<float>(sum / static_cast<double>(count)) : 0.0f;
  }
};

}  // namespace qcal::x86
