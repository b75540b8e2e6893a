// Float32 elementwise loops for the x86 kernels (include from kernel sources
// only: uses OpenMP through parallel_rows.h). Each loop applies the same IEEE
// operation as the reference kernel, eight lanes at a time with AVX2 and one at
// a time otherwise, so results are bit-identical.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/simd_lanes.h"
#include "kernels/x86/parallel_rows.h"

namespace qcal::x86 {

// y[i] = a[i] + b[i] (kernels/ref/add.cc).
__attribute__((target("avx2"))) inline void AddAvx2(const float* a, const float* b, float* y, int64_t begin,
                                                    int64_t end) {
  int64_t i = begin;
  for (; i + 8 <= end; i += 8)
    _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  for (; i < end; ++i) y[i] = a[i] + b[i];
}

// y[i] = x[i] > 0 ? x[i] : 0 (kernels/ref/relu.cc: NaN and -0 give +0).
__attribute__((target("avx2"))) inline void ReluAvx2(const float* x, float* y, int64_t begin, int64_t end) {
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) _mm256_storeu_ps(y + i, simd::ReluLanes(_mm256_loadu_ps(x + i)));
  for (; i < end; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

// The scalar paths (CPUs without AVX2).
inline void AddScalar(const float* a, const float* b, float* y, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) y[i] = a[i] + b[i];
}
inline void ReluScalar(const float* x, float* y, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

inline void AddRange(const float* a, const float* b, float* y, int64_t begin, int64_t end) {
  if (HasAvx2()) return AddAvx2(a, b, y, begin, end);
  AddScalar(a, b, y, begin, end);
}

inline void ReluRange(const float* x, float* y, int64_t begin, int64_t end) {
  if (HasAvx2()) return ReluAvx2(x, y, begin, end);
  ReluScalar(x, y, begin, end);
}

}  // namespace qcal::x86
