// The Winograd F(2x2, 3x3) kernel of conv_winograd.h, generic over the vector
// ISA: included by conv_winograd.cc (Avx2: nChw8c, __m256, compiled with
// -mavx2 -mfma) and conv_winograd16.cc (Avx512: nChw16c, __m512, compiled with
// -mavx512f). Every function is a template on the ISA traits, which each file
// defines in its unnamed namespace, so no code compiled for one ISA can be
// linked into the other's callers.
//
// Isa provides: V (the vector type), kB (channels per block = floats per V),
// kAcc (accumulators per GEMM register tile, register_tiles.h), and static
// Load, Store, Zero, Set1, Broadcast, Add, Sub, Min, Max, Fmadd (a * b + c).
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "kernels/x86/conv_nchw8c.h"
#include "kernels/x86/conv_winograd.h"
#include "kernels/x86/register_tiles.h"

namespace qcal::x86::winograd_detail {

constexpr int kPoints = 16;                   // 4x4 transformed tile
constexpr int kMaxOcBlocks = kMaxTileBlocks;  // output channel blocks per register tile (and per work item)
// Tiles per work item: a multiple of every register tile width (Acc / blocks
// for 1-3 blocks, Acc = 12 or 24); AVX2's item M (24 tiles x 3 blocks x 16
// points x 8 floats = 36 KiB) stays in L1.
constexpr int64_t kItemTiles = 24;
// Transformed input bytes of one chunk of tiles (written, then read by the
// GEMMs, while in L2: 1 MiB per core on the measured machines).
constexpr int64_t kChunkBytes = 512 * 1024;

template <class Isa>
constexpr int64_t kMFloats = kItemTiles* kMaxOcBlocks* kPoints* Isa::kB;  // one thread's M

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
template <class Isa>
void InputTile(const ConvNchw8cShape& s, const float* plane, int64_t ty, int64_t tx, float* v,
               int64_t v_point_stride) {
  using V = typename Isa::V;
  constexpr int64_t kB = Isa::kB;
  const int64_t y0 = 2 * ty - s.pad_t, x0 = 2 * tx - s.pad_l;
  V d[4][4];
  if (y0 >= 0 && x0 >= 0 && y0 + 4 <= s.ih && x0 + 4 <= s.iw) {
    Unroll<4>([&](auto i) {
      const float* row = plane + ((y0 + i) * s.iw + x0) * kB;
      Unroll<4>([&](auto j) { d[i][j] = Isa::Load(row + j * kB); });
    });
  } else {
    for (int i = 0; i < 4; ++i) {
      const int64_t yy = y0 + i;
      for (int j = 0; j < 4; ++j) {
        const int64_t xx = x0 + j;
        d[i][j] = yy >= 0 && yy < s.ih && xx >= 0 && xx < s.iw ? Isa::Load(plane + (yy * s.iw + xx) * kB)
                                                               : Isa::Zero();
      }
    }
  }
  V t[4][4];  // B^T d
  Unroll<4>([&](auto j) {
    t[0][j] = Isa::Sub(d[0][j], d[2][j]);
    t[1][j] = Isa::Add(d[1][j], d[2][j]);
    t[2][j] = Isa::Sub(d[2][j], d[1][j]);
    t[3][j] = Isa::Sub(d[1][j], d[3][j]);
  });
  Unroll<4>([&](auto i) {  // (B^T d) B
    float* out = v + i * 4 * v_point_stride;
    Isa::Store(out, Isa::Sub(t[i][0], t[i][2]));
    Isa::Store(out + v_point_stride, Isa::Add(t[i][1], t[i][2]));
    Isa::Store(out + 2 * v_point_stride, Isa::Sub(t[i][2], t[i][1]));
    Isa::Store(out + 3 * v_point_stride, Isa::Sub(t[i][1], t[i][3]));
  });
}

// M[p][j] = sum_c V[p][c] U[c][j] for P tiles (rows of V, `ic` apart) and OCB
// output blocks (U blocks `ic * kB` apart) of one point; M blocks go to
// m + p * kMaxOcBlocks * kPoints * kB + j * kPoints * kB.
template <class Isa>
struct GemmKernel {
  template <int OCB, int P>
  static void Run(const float* v, const float* u, int64_t ic, float* m) {
    using V = typename Isa::V;
    constexpr int64_t kB = Isa::kB;
    V acc[OCB][P];
    Unroll<OCB>([&](auto j) { Unroll<P>([&](auto p) { acc[j][p] = Isa::Zero(); }); });
    const int64_t u_stride = ic * kB;
    for (int64_t c = 0; c < ic; ++c) {
      V wv[OCB];
      Unroll<OCB>([&](auto j) { wv[j] = Isa::Load(u + j * u_stride + c * kB); });
      Unroll<P>([&](auto p) {
        const V xv = Isa::Broadcast(v + p * ic + c);
        Unroll<OCB>([&](auto j) { acc[j][p] = Isa::Fmadd(wv[j], xv, acc[j][p]); });
      });
    }
    Unroll<OCB>([&](auto j) {
      Unroll<P>([&](auto p) { Isa::Store(m + (p * kMaxOcBlocks + j) * kPoints * kB, acc[j][p]); });
    });
  }
};

using GemmFn = void (*)(const float*, const float*, int64_t, float*);
// Gemms<Isa>[OCB - 1][P - 1] = GemmKernel<Isa>::Run<OCB, P> for P <= TileWidth(OCB, Isa::kAcc).
template <class Isa>
constexpr auto kGemms = TileTable<GemmFn, GemmKernel<Isa>, Isa::kAcc>();

// What the output transform needs besides the tile.
template <class Isa>
struct OutArgs {
  const ConvNchw8cShape* s;
  const Tiling* tiling;
  const float* bias;  // of the whole conv, or null
  const float* z;     // of the whole batch, or null
  float* y;
  typename Isa::V lo, hi;
};

// Y's 2x2 pixels of tile t (global index), output block ocb, from its 16
// points m: A^T m A + bias + Z, clamped; pixels past OH / OW are dropped.
// A^T = [1 1 1 0; 0 1 -1 -1].
template <class Isa>
void OutputTile(const OutArgs<Isa>& a, int64_t t, int64_t ocb, const float* m) {
  using V = typename Isa::V;
  constexpr int64_t kB = Isa::kB;
  const ConvNchw8cShape& s = *a.s;
  const int64_t n = t / a.tiling->per_image, r = t % a.tiling->per_image;
  const int64_t oy = 2 * (r / a.tiling->tw), ox = 2 * (r % a.tiling->tw);
  V q[2][4];  // A^T m
  Unroll<4>([&](auto c) {
    const V m0 = Isa::Load(m + c * kB), m1 = Isa::Load(m + (4 + c) * kB);
    const V m2 = Isa::Load(m + (8 + c) * kB), m3 = Isa::Load(m + (12 + c) * kB);
    q[0][c] = Isa::Add(Isa::Add(m0, m1), m2);
    q[1][c] = Isa::Sub(Isa::Sub(m1, m2), m3);
  });
  const V b = a.bias ? Isa::Load(a.bias + ocb * kB) : Isa::Zero();
  const int64_t plane = (n * (s.oc / kB) + ocb) * s.oh;
  for (int i = 0; i < 2 && oy + i < s.oh; ++i) {
    const V o[2] = {Isa::Add(Isa::Add(q[i][0], q[i][1]), q[i][2]),
                    Isa::Sub(Isa::Sub(q[i][1], q[i][2]), q[i][3])};
    for (int j = 0; j < 2 && ox + j < s.ow; ++j) {
      const int64_t at = ((plane + oy + i) * s.ow + ox + j) * kB;
      V v = Isa::Add(o[j], b);
      if (a.z) v = Isa::Add(v, Isa::Load(a.z + at));
      Isa::Store(a.y + at, Isa::Min(Isa::Max(v, a.lo), a.hi));
    }
  }
}

// One work item: tiles [t0, t0 + count) of the chunk starting at tile c0,
// output blocks [ocb, ocb + ocbs): 16 GEMMs into m, then the output transform.
template <class Isa>
void Item(const OutArgs<Isa>& a, const float* v, const float* u, int64_t c0, int64_t t0, int64_t count,
          int64_t ocb, int ocbs, float* m) {
  constexpr int64_t kB = Isa::kB;
  const ConvNchw8cShape& s = *a.s;
  const int64_t ocb_total = s.oc / kB;
  const auto& gemms = kGemms<Isa>[ocbs - 1];
  const int64_t per = TileWidth(ocbs, Isa::kAcc);
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
template <class Isa>
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

template <class Isa>
bool Supports(const ConvNchw8cShape& s) {
  return ConvNchw8cSupports(s) && s.ic % Isa::kB == 0 && s.oc % Isa::kB == 0 && s.kh == 3 && s.kw == 3 &&
         s.stride_h == 1 && s.stride_w == 1;
}

// U = G g G^T with G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], computed in
// double; packed as [16][OC/kB][IC][kB oc].
template <class Isa>
void PackWeights(const float* oihw, const ConvNchw8cShape& s, float* packed) {
  constexpr int64_t kB = Isa::kB;
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

template <class Isa>
size_t ScratchFloats(const ConvNchw8cShape& s, int64_t batch, int threads) {
  const Tiling tl = MakeTiling<Isa>(s, batch);
  return static_cast<size_t>(kPoints * tl.v_stride + std::max(threads, 1) * kMFloats<Isa>);
}

template <class Isa>
void Conv(const ConvNchw8cShape& s, int64_t batch, const float* x, const float* packed_u, const float* bias,
          const ConvNchw8cPost& post, float* y, int threads, WinogradScratch& scratch) {
  constexpr int64_t kB = Isa::kB;
  const Tiling tl = MakeTiling<Isa>(s, batch);
  threads = std::max(threads, 1);
  const int64_t v_floats = kPoints * tl.v_stride;
  float* v = scratch.Get(ScratchFloats<Isa>(s, batch, threads));
  float* m_all = v + v_floats;
  const int64_t icb_total = s.ic / kB, ocb_total = s.oc / kB;
  const int64_t groups = (ocb_total + kMaxOcBlocks - 1) / kMaxOcBlocks;
  const OutArgs<Isa> a{&s, &tl, bias, post.z, y, Isa::Set1(post.lo), Isa::Set1(post.hi)};
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    float* m = m_all + omp_get_thread_num() * kMFloats<Isa>;
    for (int64_t c0 = 0; c0 < tl.total; c0 += tl.chunk) {
      const int64_t count = std::min(tl.chunk, tl.total - c0);
#pragma omp for schedule(static)
      for (int64_t i = 0; i < count * icb_total; ++i) {
        const int64_t t = c0 + i / icb_total, icb = i % icb_total;
        const int64_t n = t / tl.per_image, r = t % tl.per_image;
        const float* plane = x + (n * icb_total + icb) * s.ih * s.iw * kB;
        InputTile<Isa>(s, plane, r / tl.tw, r % tl.tw, v + (i / icb_total) * s.ic + icb * kB, tl.v_stride);
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
        Item<Isa>(a, v, packed_u, c0, t0, std::min(item_tiles, count - t0), ocb0,
                  static_cast<int>(ocb1 - ocb0), m);
      }
    }
  }
}

}  // namespace qcal::x86::winograd_detail
