// Eight-lane AVX2 forms of the elementwise rules that several kernel families
// share (x86 elementwise loops, the int8 residual epilogue). Each lane rule is
// the reference kernel's scalar rule, so results are bit-identical to it.
// Call only from functions compiled with target("avx2").
#pragma once

#include <immintrin.h>

namespace qcal::simd {

// v > 0 ? v : 0 per lane (kernels/ref/relu.cc: NaN and -0 give +0).
__attribute__((target("avx2"))) inline __m256 ReluLanes(__m256 v) {
  return _mm256_and_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ), v);
}

}  // namespace qcal::simd
