#include "kernels/x86/conv_winograd.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <utility>

#include "kernels/x86/register_tiles.h"

namespace qcal::x86 {
namespace {

constexpr int64_t kB = 8;                     // channels per block (one AVX2 register)
constexpr int kPoints = 16;                   // 4x4 transformed tile
constexpr int kMaxOcBlocks = kMaxTileBlocks;  // output channel blocks per register tile (and per work item)
// Tiles per register tile for each block count (register_tiles.h).
constexpr int TilesPerRegTile(int oc_blocks) { return TileWidth(oc_blocks); }
// Tiles per work item: a multiple of every TilesPerRegTile; the item's M
// (24 tiles x 3 blocks x 16 points x 8 floats = 36 KiB) stays in L1.
constexpr int64_t kItemTiles = 24;
// Transformed input bytes of one chunk of tiles (written, then read by the
// GEMMs, while in L2: 1 MiB per core here).
constexpr int64_t kChunkBytes = 512 * 1024;
constexpr int64_t kMFloats = kItemTiles * kMaxOcBlocks * kPoints * kB;  // one thread's M

// Tile geometry of a run.
struct Tiling {
  int64_t th = 0, tw = 0;  // tiles per image: ceil(oh / 2) x ceil(ow / 2)
  int64_t per_image = 0, total = 0;
  int64_t chunk = 0;     // tiles per chunk (V's row capacity)
  int64_t v_stride = 0;  // floats between V's point matrices
};

// V[xi][tile][ic] of one tile and input channel block: B^T d B of the 4x4
// input window at (2 ty - pad_t, 2 tx - pad_l), reading zeros outside X.
// B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
void InputTile(const ConvNchw8cShape& s, const float* plane, int64_t ty, int64_t tx, float* v,
               int64_t v_point_stride) {
  const int64_t y0 = 2 * ty - s.pad_t, x0 = 2 * tx - s.pad_l;
  __m256 d[4][4];
  if (y0 >= 0 && x0 >= 0 && y0 + 4 <= s.ih && x0 + 4 <= s.iw) {
    Unroll<4>([&](auto i) {
      const float* row = plane + ((y0 + i) * s.iw + x0) * kB;
      Unroll<4>([&](auto j) { d[i][j] = _mm256_loadu_ps(row + j * kB); });
    });
  } else {
    for (int i = 0; i < 4; ++i) {
      const int64_t yy = y0 + i;
      for (int j = 0; j < 4; ++j) {
        const int64_t xx = x0 + j;
        d[i][j] = yy >= 0 && yy < s.ih && xx >= 0 && xx < s.iw
                      ? _mm256_loadu_ps(plane + (yy * s.iw + xx) * kB)
                      : _mm256_setzero_ps();
      }
    }
  }
  __m256 t[4][4];  // B^T d
  Unroll<4>([&](auto j) {
    t[0][j] = _mm256_sub_ps(d[0][j], d[2][j]);
    t[1][j] = _mm256_add_ps(d[1][j], d[2][j]);
    t[2][j] = _mm256_sub_ps(d[2][j], d[1][j]);
    t[3][j] = _mm256_sub_ps(d[1][j], d[3][j]);
  });
  Unroll<4>([&](auto i) {  // (B^T d) B
    float* out = v + i * 4 * v_point_stride;
    _mm256_storeu_ps(out, _mm256_sub_ps(t[i][0], t[i][2]));
    _mm256_storeu_ps(out + v_point_stride, _mm256_add_ps(t[i][1], t[i][2]));
    _mm256_storeu_ps(out + 2 * v_point_stride, _mm256_sub_ps(t[i][2], t[i][1]));
    _mm256_storeu_ps(out + 3 * v_point_stride, _mm256_sub_ps(t[i][1], t[i][3]));
  });
}

// M[p][j] = sum_c V[p][c] U[c][j] for P tiles (rows of V, `ic` apart) and OCB
// output blocks (U blocks `ic * 8` apart) of one point; M blocks go to
// m + p * kMaxOcBlocks * kPoints * kB + j * kPoints * kB.
template <int OCB, int P>
void Gemm(const float* v, const float* u, int64_t ic, float* m) {
  __m256 acc[OCB][P];
  Unroll<OCB>([&](auto j) { Unroll<P>([&](auto p) { acc[j][p] = _mm256_setzero_ps(); }); });
  const int64_t u_stride = ic * kB;
  for (int64_t c = 0; c < ic; ++c) {
    __m256 wv[OCB];
    Unroll<OCB>([&](auto j) { wv[j] = _mm256_loadu_ps(u + j * u_stride + c * kB); });
    Unroll<P>([&](auto p) {
      const __m256 xv = _mm256_broadcast_ss(v + p * ic + c);
      Unroll<OCB>([&](auto j) { acc[j][p] = _mm256_fmadd_ps(wv[j], xv, acc[j][p]); });
    });
  }
  Unroll<OCB>([&](auto j) {
    Unroll<P>([&](auto p) { _mm256_storeu_ps(m + (p * kMaxOcBlocks + j) * kPoints * kB, acc[j][p]); });
  });
}

using GemmFn = void (*)(const float*, const float*, int64_t, float*);

struct GemmKernel {
  template <int OCB, int P>
  static void Run(const float* v, const float* u, int64_t ic, float* m) {
    Gemm<OCB, P>(v, u, ic, m);
  }
};
// kGemms[OCB - 1][P - 1] = Gemm<OCB, P> for P <= TilesPerRegTile(OCB).
constexpr auto kGemms = TileTable<GemmFn, GemmKernel>();

// What the output transform needs besides the tile.
struct OutArgs {
  const ConvNchw8cShape* s;
  const Tiling* tiling;
  const float* bias;  // of the whole conv, or null
  const float* z;     // of the whole batch, or null
  float* y;
  __m256 lo, hi;
};

// Y's 2x2 pixels of tile t (global index), output block ocb, from its 16
// points m: A^T m A + bias + Z, clamped; pixels past OH / OW are dropped.
// A^T = [1 1 1 0; 0 1 -1 -1].
void OutputTile(const OutArgs& a, int64_t t, int64_t ocb, const float* m) {
  const ConvNchw8cShape& s = *a.s;
  const int64_t n = t / a.tiling->per_image, r = t % a.tiling->per_image;
  const int64_t oy = 2 * (r / a.tiling->tw), ox = 2 * (r % a.tiling->tw);
  __m256 q[2][4];  // A^T m
  Unroll<4>([&](auto c) {
    const __m256 m0 = _mm256_loadu_ps(m + c * kB), m1 = _mm256_loadu_ps(m + (4 + c) * kB);
    const __m256 m2 = _mm256_loadu_ps(m + (8 + c) * kB), m3 = _mm256_loadu_ps(m + (12 + c) * kB);
    q[0][c] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
    q[1][c] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
  });
  const __m256 b = a.bias ? _mm256_loadu_ps(a.bias + ocb * kB) : _mm256_setzero_ps();
  const int64_t plane = (n * (s.oc / kB) + ocb) * s.oh;
  for (int i = 0; i < 2 && oy + i < s.oh; ++i) {
    const __m256 o[2] = {_mm256_add_ps(_mm256_add_ps(q[i][0], q[i][1]), q[i][2]),
                         _mm256_sub_ps(_mm256_sub_ps(q[i][1], q[i][2]), q[i][3])};
    for (int j = 0; j < 2 && ox + j < s.ow; ++j) {
      const int64_t at = ((plane + oy + i) * s.ow + ox + j) * kB;
      __m256 v = _mm256_add_ps(o[j], b);
      if (a.z) v = _mm256_add_ps(v, _mm256_loadu_ps(a.z + at));
      _mm256_storeu_ps(a.y + at, _mm256_min_ps(_mm256_max_ps(v, a.lo), a.hi));
    }
  }
}

// One work item: tiles [t0, t0 + count) of the chunk starting at tile c0,
// output blocks [ocb, ocb + ocbs): 16 GEMMs into m, then the output transform.
void Item(const OutArgs& a, const float* v, const float* u, int64_t c0, int64_t t0, int64_t count,
          int64_t ocb, int ocbs, float* m) {
  const ConvNchw8cShape& s = *a.s;
  const int64_t ocb_total = s.oc / kB;
  const auto& gemms = kGemms[ocbs - 1];
  const int64_t per = TilesPerRegTile(ocbs);
  for (int xi = 0; xi < kPoints; ++xi) {
    const float* vp = v + xi * a.tiling->v_stride + t0 * s.ic;
    const float* up = u + (xi * ocb_total + ocb) * s.ic * kB;
    float* mp = m + xi * kB;
    int64_t p = 0;
    for (; p + per <= count; p += per)
      gemms[per - 1](vp + p * s.ic, up, s.ic, mp + p * kMaxOcBlocks * kPoints * kB);
    if (p < count) gemms[count - p - 1](vp + p * s.ic, up, s.ic, mp + p * kMaxOcBlocks * kPoints * kB);
  }
  for (int64_t p = 0; p < count; ++p) {
    for (int j = 0; j < ocbs; ++j) {
      OutputTile(a, c0 + t0 + p, ocb + j, m + (p * kMaxOcBlocks + j) * kPoints * kB);
    }
  }
}

// The run's tiling: tiles per image and in all, and tiles per chunk.
Tiling MakeTiling(const ConvNchw8cShape& s, int64_t batch) {
  Tiling tl;
  tl.th = (s.oh + 1) / 2;
  tl.tw = (s.ow + 1) / 2;
  tl.per_image = tl.th * tl.tw;
  tl.total = batch * tl.per_image;
  const int64_t fit = kChunkBytes / (kPoints * s.ic * int64_t{sizeof(float)});
  tl.chunk = std::min(tl.total, std::max(kItemTiles, fit / kItemTiles * kItemTiles));
  // One cache line more than the matrix: with a power-of-two size (16 x 32 x
  // 32 / 4 tiles x 16 channels: 16 KiB) the 16 stores of an input tile would
  // all map to one L1 set and evict each other (input transform 2x slower).
  tl.v_stride = tl.chunk * s.ic + 16;
  return tl;
}

}  // namespace

bool ConvWinogradSupports(const ConvNchw8cShape& s) {
  return ConvNchw8cSupports(s) && s.kh == 3 && s.kw == 3 && s.stride_h == 1 && s.stride_w == 1;
}

int64_t WinogradPackedWeightsSize(const ConvNchw8cShape& s) { return kPoints * s.oc * s.ic; }

// U = G g G^T with G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], computed in
// double; packed as [16][OC/8][IC][8 oc].
void PackConvWeightsWinograd(const float* oihw, const ConvNchw8cShape& s, float* packed) {
  static constexpr double kG[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  const int64_t ocb_total = s.oc / kB;
  for (int64_t o = 0; o < s.oc; ++o) {
    for (int64_t c = 0; c < s.ic; ++c) {
      const float* g = oihw + (o * s.ic + c) * 9;
      double gg[4][3];  // G g
      for (int i = 0; i < 4; ++i) {
        for (int k = 0; k < 3; ++k) gg[i][k] = kG[i][0] * g[k] + kG[i][1] * g[3 + k] + kG[i][2] * g[6 + k];
      }
      for (int i = 0; i < 4; ++i) {
        for (int j = 0; j < 4; ++j) {
          const double u = gg[i][0] * kG[j][0] + gg[i][1] * kG[j][1] + gg[i][2] * kG[j][2];
          const int64_t xi = i * 4 + j;
          packed[((xi * ocb_total + o / kB) * s.ic + c) * kB + o % kB] = static_cast<float>(u);
        }
      }
    }
  }
}

size_t ConvWinogradScratchFloats(const ConvNchw8cShape& s, int64_t batch, int threads) {
  const Tiling tl = MakeTiling(s, batch);
  return static_cast<size_t>(kPoints * tl.v_stride + std::max(threads, 1) * kMFloats);
}

void ConvWinograd(const ConvNchw8cShape& s, int64_t batch, const float* x, const float* packed_u,
                  const float* bias, const ConvNchw8cPost& post, float* y, int threads,
                  WinogradScratch& scratch) {
  const Tiling tl = MakeTiling(s, batch);
  threads = std::max(threads, 1);
  const int64_t v_floats = kPoints * tl.v_stride;
  float* v = scratch.Get(ConvWinogradScratchFloats(s, batch, threads));
  float* m_all = v + v_floats;
  const int64_t icb_total = s.ic / kB, ocb_total = s.oc / kB;
  const int64_t groups = (ocb_total + kMaxOcBlocks - 1) / kMaxOcBlocks;
  OutArgs a{&s, &tl, bias, post.z, y, _mm256_set1_ps(post.lo), _mm256_set1_ps(post.hi)};
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    float* m = m_all + omp_get_thread_num() * kMFloats;
    for (int64_t c0 = 0; c0 < tl.total; c0 += tl.chunk) {
      const int64_t count = std::min(tl.chunk, tl.total - c0);
#pragma omp for schedule(static)
      for (int64_t i = 0; i < count * icb_total; ++i) {
        const int64_t t = c0 + i / icb_total, icb = i % icb_total;
        const int64_t n = t / tl.per_image, r = t % tl.per_image;
        const float* plane = x + (n * icb_total + icb) * s.ih * s.iw * kB;
        InputTile(s, plane, r / tl.tw, r % tl.tw, v + (i / icb_total) * s.ic + icb * kB, tl.v_stride);
      }
      // Tiles per item: kItemTiles, or fewer when that leaves under 4 items
      // per thread (small images: 8x8 has 16 tiles).
      int64_t item_tiles = kItemTiles;
      while (threads > 1 && item_tiles > 4 &&
             groups * ((count + item_tiles - 1) / item_tiles) < 4 * threads) {
        item_tiles -= 4;
      }
      const int64_t blocks = (count + item_tiles - 1) / item_tiles;
      // Items by output group, then tile block: a thread's consecutive items share U.
#pragma omp for schedule(static)
      for (int64_t it = 0; it < groups * blocks; ++it) {
        const int64_t g = it / blocks, t0 = (it % blocks) * item_tiles;
        // Groups of balanced sizes (4 blocks: 2 + 2, not 3 + 1).
        const int64_t ocb0 = g * ocb_total / groups, ocb1 = (g + 1) * ocb_total / groups;
        Item(a, v, packed_u, c0, t0, std::min(item_tiles, count - t0), ocb0, static_cast<int>(ocb1 - ocb0),
             m);
      }
    }
  }
}

}  // namespace qcal::x86
