// MaxPool (provider "x86"): float32 2-D max pooling on NCHW or nChw8c
// (pool_window.h), bit-identical to the reference kernel; int8 / uint8 and other
// ranks stay on oneDNN / the reference kernel.
#include <limits>

#include "kernels/x86/pool_window.h"

namespace qcal::x86 {
namespace {

// best = std::max(best, x) per lane, from the lowest float (the reference's loop).
struct Max8 {
  __m256 best = _mm256_set1_ps(std::numeric_limits<float>::lowest());
  void Add(const float* p) { best = _mm256_max_ps(_mm256_loadu_ps(p), best); }
  __m256 Result(int64_t) const { return best; }
};

Result<std::unique_ptr<Kernel>> CreateMaxPool(const OpContext& ctx) {
  return MakeWindowPool<Max8>(ctx, /*include_pad=*/false);
}

}  // namespace

QCAL_REGISTER_KERNEL("MaxPool", kProvider, kPoolPriority, SupportsWindowPool, CreateMaxPool);

}  // namespace qcal::x86
