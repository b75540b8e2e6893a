// The int8 output stage (kernels/ref/quant_output.h) on eight int32 lanes with
// AVX2: shared by the row loop of int8_common.cc (ApplyOutputStageRows) and the
// kernels that apply the stage to accumulators still in registers (the x86
// depthwise convolution). The same IEEE operations as the scalar formulas
// (int -> float conversion, one multiply, round half to even, + zero point,
// clamp), so results are bit-identical to the reference.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "kernels/ref/quant_output.h"

namespace qcal::dnnl_kernels {

// The stage's per-tensor constants broadcast to eight lanes (a local copy stays in registers).
struct StageVectors {
  __m256 zero_point, lo, hi;
  bool quantized = false;
};
__attribute__((target("avx2"))) inline StageVectors MakeStageVectors(const ref::OutputStage& s) {
  return {_mm256_set1_ps(s.zero_point), _mm256_set1_ps(s.lo), _mm256_set1_ps(s.hi), s.quantized()};
}

// Eight stage values of the accumulators a (correction already added, wrapping) with multipliers mult.
__attribute__((target("avx2"))) inline __m256 StageLanes(const StageVectors& k, __m256i a, __m256 mult) {
  __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(a), mult);
  if (k.quantized) {
    v = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    v = _mm256_add_ps(v, k.zero_point);
  }
  // std::max(v, lo) is (lo > v ? lo : v), i.e. max_ps(lo, v); likewise min (same NaN / signed-zero picks).
  return _mm256_min_ps(k.hi, _mm256_max_ps(k.lo, v));
}

__attribute__((target("avx2"))) inline void StoreLanes(__m256 v, float* y) { _mm256_storeu_ps(y, v); }

// Values are integral and within the 8-bit range: exact conversion, then packing.
template <typename T>
__attribute__((target("avx2"))) inline void StoreLanes(__m256 v, T* y) {
  static_assert(std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t>);
  const __m256i i32 = _mm256_cvtps_epi32(v);
  const __m128i i16 = _mm_packs_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
  const __m128i i8 = std::is_same_v<T, int8_t> ? _mm_packs_epi16(i16, i16) : _mm_packus_epi16(i16, i16);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(y), i8);
}

// Sixteen stage values (v0: lanes 0-7, v1: 8-15) into y.
__attribute__((target("avx2"))) inline void StoreLanes16(__m256 v0, __m256 v1, float* y) {
  _mm256_storeu_ps(y, v0);
  _mm256_storeu_ps(y + 8, v1);
}
template <typename T>
__attribute__((target("avx2"))) inline void StoreLanes16(__m256 v0, __m256 v1, T* y) {
  static_assert(std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t>);
  const __m256i i0 = _mm256_cvtps_epi32(v0), i1 = _mm256_cvtps_epi32(v1);
  const __m128i h0 = _mm_packs_epi32(_mm256_castsi256_si128(i0), _mm256_extracti128_si256(i0, 1));
  const __m128i h1 = _mm_packs_epi32(_mm256_castsi256_si128(i1), _mm256_extracti128_si256(i1, 1));
  const __m128i b = std::is_same_v<T, int8_t> ? _mm_packs_epi16(h0, h1) : _mm_packus_epi16(h0, h1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(y), b);
}

}  // namespace qcal::dnnl_kernels
