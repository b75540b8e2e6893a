// The nChw16c (AVX-512F) entry points of conv_winograd.h; the kernel itself is
// conv_winograd_impl.h. Compiled with -mavx512f (CMakeLists.txt).
#include <immintrin.h>

#include "kernels/x86/conv_winograd.h"
#include "kernels/x86/conv_winograd_impl.h"

namespace qcal::x86 {
namespace {

struct Avx512 {
  using V = __m512;
  static constexpr int64_t kB = 16;
  static constexpr int kAcc = 24;  // 3 blocks x 8 tiles + 3 weights of 32 zmm (broadcasts are FMA operands)
  static V Load(const float* p) { return _mm512_loadu_ps(p); }
  static void Store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V Zero() { return _mm512_setzero_ps(); }
  static V Set1(float f) { return _mm512_set1_ps(f); }
  static V Broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V Add(V a, V b) { return _mm512_add_ps(a, b); }
  static V Sub(V a, V b) { return _mm512_sub_ps(a, b); }
  // The masked forms with a full mask: GCC 12's _mm512_min_ps / _mm512_max_ps
  // pass _mm512_undefined_ps() and warn -Wmaybe-uninitialized.
  static V Min(V a, V b) { return _mm512_mask_min_ps(a, 0xffff, a, b); }
  static V Max(V a, V b) { return _mm512_mask_max_ps(a, 0xffff, a, b); }
  static V Fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
};

}  // namespace

bool ConvWinograd16Supports(const ConvNchw8cShape& s) { return winograd_detail::Supports<Avx512>(s); }

void PackConvWeightsWinograd16(const float* oihw, const ConvNchw8cShape& s, float* packed) {
  winograd_detail::PackWeights<Avx512>(oihw, s, packed);
}

size_t ConvWinograd16ScratchFloats(const ConvNchw8cShape& s, int64_t batch, int threads) {
  return winograd_detail::ScratchFloats<Avx512>(s, batch, threads);
}

void ConvWinograd16(const ConvNchw8cShape& s, int64_t batch, const float* x, const float* packed_u,
                    const float* bias, const ConvNchw8cPost& post, float* y, int threads,
                    WinogradScratch& scratch) {
  winograd_detail::Conv<Avx512>(s, batch, x, packed_u, bias, post, y, threads, scratch);
}

}  // namespace qcal::x86
