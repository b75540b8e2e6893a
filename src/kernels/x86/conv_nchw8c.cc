#include "kernels/x86/conv_nchw8c.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "kernels/x86/register_tiles.h"

namespace qcal::x86 {
namespace {

constexpr int64_t kB = 8;  // channels per block (one AVX2 register)
// Output channel blocks per register tile and pixels per tile for each of
// them (register_tiles.h).
constexpr int kMaxOcBlocks = kMaxTileBlocks;
constexpr int PixelsPerTile(int oc_blocks) { return TileWidth(oc_blocks); }
// Weight bytes of one pass over a row (a part of L1D, which also holds the input rows).
constexpr int64_t kL1WeightBytes = 16 * 1024;
// Partial-sum bytes of one work item's rows (kept in cache across the passes).
constexpr int64_t kPartialSumBytes = 16 * 1024;

// What one tile call needs besides its position.
struct TileArgs {
  const ConvNchw8cShape* s;
  const float* x;      // the image's input
  const float* w;      // packed weights of the tile's first output block
  const float* bias;   // bias of the tile's first output channel, or null
  const float* z;      // sum input of the image, or null
  float* y;            // the image's output
  int64_t ocb;         // first output block
  int64_t oh;          // output row
  int64_t icb0, icb1;  // input channel blocks of this pass over the row
  bool first, last;    // first pass: start from bias + Z; last: clamp
  float lo, hi;
};

// Computes output pixels [ow0, ow0 + P) of row a.oh for output blocks
// [a.ocb, a.ocb + OCB) (input without pads: every window lies inside it).
template <int OCB, int P>
void Tile(const TileArgs& a, int64_t ow0) {
  const ConvNchw8cShape& s = *a.s;
  const int64_t w_block_stride = (s.ic / kB) * s.kh * s.kw * kB * kB;  // between output blocks
  const int64_t x_step = s.stride_w * kB;                              // between tile pixels
  const int64_t y0 = ((a.ocb * s.oh + a.oh) * s.ow + ow0) * kB;
  const int64_t y_block_stride = s.oh * s.ow * kB;
  __m256 acc[OCB][P];
  // The first pass starts from bias + Z (so Y may share Z's buffer: each Z
  // element is read before its Y element is first written), later ones from Y.
  Unroll<OCB>([&](auto j) {
    const __m256 b = a.bias ? _mm256_loadu_ps(a.bias + j * kB) : _mm256_setzero_ps();
    const float* y = a.y + y0 + j * y_block_stride;
    const float* z = a.z ? a.z + y0 + j * y_block_stride : nullptr;
    Unroll<P>([&](auto p) {
      if (!a.first) {
        acc[j][p] = _mm256_loadu_ps(y + p * kB);
      } else {
        acc[j][p] = z ? _mm256_add_ps(b, _mm256_loadu_ps(z + p * kB)) : b;
      }
    });
  });
  const int64_t col0 = ow0 * s.stride_w;
  for (int64_t icb = a.icb0; icb < a.icb1; ++icb) {
    for (int64_t kh = 0; kh < s.kh; ++kh) {
      const int64_t ih = a.oh * s.stride_h + kh;
      const int64_t x_row = ((icb * s.ih + ih) * s.iw + col0) * kB;
      const float* wr = a.w + (icb * s.kh + kh) * s.kw * kB * kB;
      for (int64_t kw = 0; kw < s.kw; ++kw) {
        const float* xp = a.x + (x_row + kw * kB);
        const float* wp = wr + kw * kB * kB;
        for (int i = 0; i < kB; ++i) {
          __m256 wv[OCB];
          Unroll<OCB>([&](auto j) { wv[j] = _mm256_loadu_ps(wp + j * w_block_stride + i * kB); });
          Unroll<P>([&](auto p) {
            const __m256 xv = _mm256_broadcast_ss(xp + p * x_step + i);
            Unroll<OCB>([&](auto j) { acc[j][p] = _mm256_fmadd_ps(wv[j], xv, acc[j][p]); });
          });
        }
      }
    }
  }
  const __m256 lo = _mm256_set1_ps(a.lo), hi = _mm256_set1_ps(a.hi);
  Unroll<OCB>([&](auto j) {
    float* y = a.y + y0 + j * y_block_stride;
    Unroll<P>([&](auto p) {
      const __m256 v = acc[j][p];
      _mm256_storeu_ps(y + p * kB, a.last ? _mm256_min_ps(_mm256_max_ps(v, lo), hi) : v);
    });
  });
}

using TileFn = void (*)(const TileArgs&, int64_t);

struct TileKernel {
  template <int OCB, int P>
  static void Run(const TileArgs& a, int64_t ow0) {
    Tile<OCB, P>(a, ow0);
  }
};
// kTiles[OCB - 1][P - 1] = Tile<OCB, P> for P <= PixelsPerTile(OCB).
constexpr auto kTiles = TileTable<TileFn, TileKernel>();

// One pass over an output row of one group of output blocks: full tiles and
// one shorter tile (the input is padded, every window lies inside it).
void RowPass(const TileArgs& a, int ocb_count) {
  const auto& tiles = kTiles[ocb_count - 1];
  const int64_t per_tile = PixelsPerTile(ocb_count), ow_end = a.s->ow;
  int64_t ow = 0;
  for (; ow + per_tile <= ow_end; ow += per_tile) tiles[per_tile - 1](a, ow);
  if (ow < ow_end) tiles[ow_end - ow - 1](a, ow);
}

// Output rows [row0, row1) of one group of output blocks, in passes over
// chunks of input channel blocks: a chunk's weights stay in L1 while the tiles
// sweep all the rows (partial sums go through Y between passes), so the
// weights are read from memory once per row range, not once per row.
void Rows(TileArgs a, int ocb_count, int64_t row0, int64_t row1) {
  const int64_t icb_count = a.s->ic / kB;
  const int64_t w_bytes_per_icb = ocb_count * a.s->kh * a.s->kw * kB * kB * int64_t{sizeof(float)};
  const int64_t chunk = std::max<int64_t>(1, kL1WeightBytes / w_bytes_per_icb);
  for (int64_t icb = 0; icb < icb_count; icb += chunk) {
    a.icb0 = icb;
    a.icb1 = std::min(icb_count, icb + chunk);
    a.first = icb == 0;
    a.last = a.icb1 == icb_count;
    for (a.oh = row0; a.oh < row1; ++a.oh) RowPass(a, ocb_count);
  }
}

// When some window reaches outside the input, copies X into a zero-padded
// buffer (per calling thread, reused) and rewrites `s` for it (no pads), so
// every tile runs the full kernel; returns the input to read.
const float* PadInput(ConvNchw8cShape& s, int64_t batch, const float* x, int threads) {
  const int64_t ih = std::max(s.ih + s.pad_t, (s.oh - 1) * s.stride_h + s.kh);
  const int64_t iw = std::max(s.iw + s.pad_l, (s.ow - 1) * s.stride_w + s.kw);
  if (s.pad_t == 0 && s.pad_l == 0 && ih == s.ih && iw == s.iw) return x;
  thread_local std::vector<float> padded;
  const int64_t planes = batch * (s.ic / kB);
  padded.assign(static_cast<size_t>(planes * ih * iw * kB), 0.0f);
  float* dst = padded.data();
  const ConvNchw8cShape& c = s;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && planes > 1)
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t r = 0; r < c.ih; ++r) {
      std::copy_n(x + (p * c.ih + r) * c.iw * kB, c.iw * kB,
                  dst + ((p * ih + r + c.pad_t) * iw + c.pad_l) * kB);
    }
  }
  s.ih = ih;
  s.iw = iw;
  s.pad_t = s.pad_l = 0;
  return dst;
}

}  // namespace

bool ConvNchw8cSupports(const ConvNchw8cShape& s) {
  return s.ic > 0 && s.oc > 0 && s.ic % kB == 0 && s.oc % kB == 0 && s.ih > 0 && s.iw > 0 && s.oh > 0 &&
         s.ow > 0 && s.kh > 0 && s.kw > 0 && s.stride_h > 0 && s.stride_w > 0 && s.pad_t >= 0 && s.pad_l >= 0;
}

void PackConvWeightsNchw8c(const float* oihw, const ConvNchw8cShape& s, float* packed) {
  const int64_t icb_count = s.ic / kB, taps = s.kh * s.kw;
  for (int64_t o = 0; o < s.oc; ++o) {
    for (int64_t c = 0; c < s.ic; ++c) {
      for (int64_t r = 0; r < taps; ++r) {
        const int64_t to = ((((o / kB) * icb_count + c / kB) * taps + r) * kB + c % kB) * kB + o % kB;
        packed[to] = oihw[(o * s.ic + c) * taps + r];
      }
    }
  }
}

void ConvNchw8c(const ConvNchw8cShape& shape, int64_t batch, const float* x, const float* packed_w,
                const float* bias, const ConvNchw8cPost& post, float* y, int threads) {
  ConvNchw8cShape s = shape;
  x = PadInput(s, batch, x, threads);
  const int64_t ocb_total = s.oc / kB;
  const int64_t groups = (ocb_total + kMaxOcBlocks - 1) / kMaxOcBlocks;
  // Rows per work item: the partial sums of a group's rows stay in L1 / L2.
  const int64_t row_bytes = kMaxOcBlocks * kB * s.ow * int64_t{sizeof(float)};
  const int64_t rows_per_item = std::clamp<int64_t>(kPartialSumBytes / row_bytes, 1, s.oh);
  const int64_t ranges = (s.oh + rows_per_item - 1) / rows_per_item;
  const int64_t items = batch * groups * ranges;
  const int64_t x_image = s.ic * s.ih * s.iw, y_image = s.oc * s.oh * s.ow;
  const int64_t w_block = (s.ic / kB) * s.kh * s.kw * kB * kB;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && items > 1)
  for (int64_t it = 0; it < items; ++it) {
    const int64_t n = it / (groups * ranges);
    const int64_t g = (it / ranges) % groups;
    const int64_t row0 = (it % ranges) * rows_per_item;
    TileArgs a;
    a.s = &s;
    a.x = x + n * x_image;
    a.y = y + n * y_image;
    a.z = post.z ? post.z + n * y_image : nullptr;
    a.ocb = g * kMaxOcBlocks;
    a.w = packed_w + a.ocb * w_block;
    a.bias = bias ? bias + a.ocb * kB : nullptr;
    a.lo = post.lo;
    a.hi = post.hi;
    Rows(a, static_cast<int>(std::min<int64_t>(kMaxOcBlocks, ocb_total - a.ocb)), row0,
         std::min(s.oh, row0 + rows_per_item));
  }
}

}  // namespace qcal::x86
