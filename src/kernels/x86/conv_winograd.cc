// The nChw8c (AVX2 + FMA) and shared entry points of conv_winograd.h; the
// kernel itself is conv_winograd_impl.h.
#include "kernels/x86/conv_winograd.h"

#include <immintrin.h>

#include "kernels/x86/conv_winograd_impl.h"

namespace qcal::x86 {
namespace {

struct Avx2 {
  using V = __m256;
  static constexpr int64_t kB = 8;
  static constexpr int kAcc = kAvx2Accumulators;
  static V Load(const float* p) { return _mm256_loadu_ps(p); }
  static void Store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V Zero() { return _mm256_setzero_ps(); }
  static V Set1(float f) { return _mm256_set1_ps(f); }
  static V Broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V Add(V a, V b) { return _mm256_add_ps(a, b); }
  static V Sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V Min(V a, V b) { return _mm256_min_ps(a, b); }
  static V Max(V a, V b) { return _mm256_max_ps(a, b); }
  static V Fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
};

}  // namespace

bool ConvWinogradSupports(const ConvNchw8cShape& s) { return winograd_detail::Supports<Avx2>(s); }

int64_t WinogradPackedWeightsSize(const ConvNchw8cShape& s) { return winograd_detail::kPoints * s.oc * s.ic; }

void PackConvWeightsWinograd(const float* oihw, const ConvNchw8cShape& s, float* packed) {
  winograd_detail::PackWeights<Avx2>(oihw, s, packed);
}

size_t ConvWinogradScratchFloats(const ConvNchw8cShape& s, int64_t batch, int threads) {
  return winograd_detail::ScratchFloats<Avx2>(s, batch, threads);
}

void ConvWinograd(const ConvNchw8cShape& s, int64_t batch, const float* x, const float* packed_u,
                  const float* bias, const ConvNchw8cPost& post, float* y, int threads,
                  WinogradScratch& scratch) {
  winograd_detail::Conv<Avx2>(s, batch, x, packed_u, bias, post, y, threads, scratch);
}

}  // namespace qcal::x86
