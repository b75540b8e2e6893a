#include "kernels/dnnl/residual_relayout.h"

#include <immintrin.h>

#include <algorithm>
#include <limits>

#include "kernels/dnnl/int8_common.h"

namespace qcal::dnnl_kernels {
namespace {

// Channels per block: 1 for kPlain (NCHW).
int64_t Block(Layout l) { return l == Layout::kPlain ? 1 : LayoutBlock(l); }
int64_t Blocks(const ResidualDims& d, int64_t b) { return (d.c + b - 1) / b; }

// Where element (i, ch, s) of the logical [n, c, hw] tensor lives in a layout
// with b channels per block (b = 1: NCHW; else [n, ceil(c / b), hw, b]).
int64_t Offset(const ResidualDims& d, int64_t b, int64_t i, int64_t ch, int64_t s) {
  if (b == 1) return (i * d.c + ch) * d.hw + s;
  return ((i * Blocks(d, b) + ch / b) * d.hw + s) * b + ch % b;
}

constexpr int kLanes = 16;  // the vector paths: AVX-512, and blocked layouts of 16 channels

#define QCAL_RESIDUAL_AVX512 __attribute__((target("avx512f")))

// v > 0 ? v : 0 per lane (ref::ResidualOutputValue's Relu: NaN and -0 give +0).
QCAL_RESIDUAL_AVX512 inline __m512 Activate(__m512 v, bool relu) {
  return relu ? _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ), v) : v;
}

// Y blocked by 16, Z NCHW: per position, the block's 16 channels of Z are
// gathered hw apart; lanes past c add 0.
QCAL_RESIDUAL_AVX512 void BlockedYPlainZ(bool relu, const float* z, float* y, const ResidualDims& d) {
  const int64_t blocks = Blocks(d, kLanes);
  const __m512i step =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(static_cast<int32_t>(d.hw)));
#pragma omp parallel for schedule(static) if (d.n * d.c * d.hw >= (1 << 14))
  for (int64_t job = 0; job < d.n * blocks; ++job) {
    const int64_t i = job / blocks, cb = job % blocks;
    const int64_t real = std::min<int64_t>(kLanes, d.c - cb * kLanes);
    const auto mask = static_cast<__mmask16>((1u << real) - 1);
    const float* zb = z + (i * d.c + cb * kLanes) * d.hw;
    float* yb = y + (i * blocks + cb) * d.hw * kLanes;
    for (int64_t s = 0; s < d.hw; ++s) {
      const __m512 zv = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, step, zb + s, 4);
      const __m512 v = _mm512_add_ps(_mm512_loadu_ps(yb + s * kLanes), zv);
      _mm512_storeu_ps(yb + s * kLanes, Activate(v, relu));
    }
  }
}

// Y NCHW, Z blocked by b: per channel row of Y, 16 positions of Z at a time, b apart.
QCAL_RESIDUAL_AVX512 void PlainYBlockedZ(bool relu, const float* z, int64_t b, float* y,
                                         const ResidualDims& d) {
  const int64_t blocks = Blocks(d, b);
  const __m512i step =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(static_cast<int32_t>(b)));
#pragma omp parallel for schedule(static) if (d.n * d.c * d.hw >= (1 << 14))
  for (int64_t row = 0; row < d.n * d.c; ++row) {
    const int64_t i = row / d.c, ch = row % d.c;
    const float* zr = z + (i * blocks + ch / b) * d.hw * b + ch % b;
    float* yr = y + row * d.hw;
    for (int64_t s = 0; s < d.hw; s += kLanes) {
      const int64_t left = std::min<int64_t>(kLanes, d.hw - s);
      const auto mask = static_cast<__mmask16>((1u << left) - 1);
      const __m512 zv = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, step, zr + s * b, 4);
      const __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, yr + s), zv);
      _mm512_mask_storeu_ps(yr + s, mask, Activate(v, relu));
    }
  }
}

bool HasAvx512() {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  return avx512;
}

bool KnownLayout(Layout l) { return l == Layout::kPlain || l == Layout::kNChw8c || l == Layout::kNChw16c; }

}  // namespace

void ApplyResidualRelayoutReference(ref::ResidualActivation act, const float* z, Layout z_layout, float* y,
                                    Layout y_layout, const ResidualDims& d) {
  const int64_t by = Block(y_layout), bz = Block(z_layout);
  const int64_t y_channels = Blocks(d, by) * by;  // with a blocked Y's padding lanes
  for (int64_t i = 0; i < d.n; ++i) {
    for (int64_t ch = 0; ch < y_channels; ++ch) {
      for (int64_t s = 0; s < d.hw; ++s) {
        float& v = y[Offset(d, by, i, ch, s)];
        // Padding lanes: Z's own when it has Y's layout, else 0 (a reordered Z's padding).
        const bool in_z = ch < d.c || bz == by;
        v = ref::ResidualOutputValue(v, in_z ? z[Offset(d, bz, i, ch, s)] : 0.0f, act);
      }
    }
  }
}

bool ResidualRelayoutIsVectorized(Layout z_layout, Layout y_layout) {
  if (!HasAvx512() || z_layout == y_layout || !KnownLayout(z_layout) || !KnownLayout(y_layout)) return false;
  return (z_layout == Layout::kPlain && Block(y_layout) == kLanes) || y_layout == Layout::kPlain;
}

void ApplyResidualRelayout(ref::ResidualActivation act, const float* z, Layout z_layout, float* y,
                           Layout y_layout, const ResidualDims& d) {
  const int64_t by = Block(y_layout);
  if (z_layout == y_layout) return dnnl_kernels::ApplyResidual(act, z, d.n * Blocks(d, by) * by * d.hw, y);
  // Gather offsets are int32: 16 rows of hw apart, or 16 positions of a block.
  if (ResidualRelayoutIsVectorized(z_layout, y_layout) &&
      d.hw * kLanes < std::numeric_limits<int32_t>::max()) {
    const bool relu = act == ref::ResidualActivation::kRelu;
    if (z_layout == Layout::kPlain) return BlockedYPlainZ(relu, z, y, d);
    return PlainYBlockedZ(relu, z, Block(z_layout), y, d);
  }
  ApplyResidualRelayoutReference(act, z, z_layout, y, y_layout, d);
}

}  // namespace qcal::dnnl_kernels
