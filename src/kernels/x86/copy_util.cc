#include "kernels/x86/copy_util.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "kernels/threads.h"
#include "kernels/x86/transpose8x8.h"

namespace qcal::x86 {
namespace {

// Below this many bytes a copy runs on the calling thread: waking OpenMP
// threads costs more than it saves (and collapses under oversubscription).
constexpr int64_t kParallelBytes = 4 << 20;

// Drops size-1 dims and merges neighbours that are contiguous in the source,
// so a transpose or slice becomes the fewest, longest runs.
ref::StridedCopy Coalesce(const ref::StridedCopy& c) {
  ref::StridedCopy out;
  out.base = c.base;
  for (size_t d = 0; d < c.shape.size(); ++d) {
    if (c.shape[d] == 1) continue;
    if (!out.shape.empty() && out.strides.back() == c.strides[d] * c.shape[d]) {
      out.shape.back() *= c.shape[d];
      out.strides.back() = c.strides[d];
    } else {
      out.shape.push_back(c.shape[d]);
      out.strides.push_back(c.strides[d]);
    }
  }
  return out;
}

template <typename T>
void GatherRow(const T* src, int64_t stride, int64_t n, T* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i * stride];
}

void GatherRowBySize(const uint8_t* src, int64_t stride, int64_t n, size_t esize, uint8_t* dst) {
  switch (esize) {
    case 1:
      return GatherRow(src, stride, n, dst);
    case 2:
      return GatherRow(reinterpret_cast<const uint16_t*>(src), stride, n, reinterpret_cast<uint16_t*>(dst));
    case 4:
      return GatherRow(reinterpret_cast<const uint32_t*>(src), stride, n, reinterpret_cast<uint32_t*>(dst));
    default:
      for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * esize, src + i * stride * esize, esize);
  }
}

}  // namespace

void ParallelFor(int64_t n, int64_t bytes, const std::function<void(int64_t, int64_t)>& fn) {
  const int want = NumThreads() > 0 ? NumThreads() : omp_get_max_threads();
  const int threads = static_cast<int>(std::min<int64_t>(want, n));
  if (threads <= 1 || bytes < kParallelBytes) {
    if (n > 0) fn(0, n);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t begin = n * t / nt, end = n * (t + 1) / nt;
    if (begin < end) fn(begin, end);
  }
}

void CopyStrided(const void* src_v, const ref::StridedCopy& copy, size_t esize, void* dst_v) {
  const auto* src = static_cast<const uint8_t*>(src_v);
  auto* dst = static_cast<uint8_t*>(dst_v);
  if (NumElements(copy.shape) == 0) return;
  const ref::StridedCopy c = Coalesce(copy);
  if (c.shape.empty()) {  // one element
    std::memcpy(dst, src + c.base * static_cast<int64_t>(esize), esize);
    return;
  }
  const size_t rank = c.shape.size();
  const int64_t inner = c.shape[rank - 1], inner_stride = c.strides[rank - 1];
  const int64_t rows = NumElements(c.shape) / inner;
  const int64_t row_bytes = inner * static_cast<int64_t>(esize);
  ParallelFor(rows, rows * row_bytes, [&](int64_t begin, int64_t end) {
    // Odometer over the outer dims, started at row `begin`.
    std::vector<int64_t> idx(rank - 1);
    int64_t off = c.base;
    for (int64_t d = static_cast<int64_t>(rank) - 2, r = begin; d >= 0; --d) {
      const size_t u = static_cast<size_t>(d);
      idx[u] = r % c.shape[u];
      r /= c.shape[u];
      off += idx[u] * c.strides[u];
    }
    for (int64_t row = begin; row < end; ++row) {
      const uint8_t* s = src + off * static_cast<int64_t>(esize);
      uint8_t* o = dst + row * row_bytes;
      if (inner_stride == 1) {
        std::memcpy(o, s, static_cast<size_t>(row_bytes));
      } else {
        GatherRowBySize(s, inner_stride, inner, esize, o);
      }
      for (int64_t d = static_cast<int64_t>(rank) - 2; d >= 0; --d) {
        const size_t u = static_cast<size_t>(d);
        off += c.strides[u];
        if (++idx[u] < c.shape[u]) break;
        off -= c.strides[u] * idx[u];
        idx[u] = 0;
      }
    }
  });
}

int64_t ChannelView::ImageStride() const {
  if (layout == Layout::kPlain) return c * hw;
  return (c + kLayoutBlock - 1) / kLayoutBlock * kLayoutBlock * hw;
}

float* ChannelView::Plane(int64_t image, int64_t channel) const {
  float* img = data + image * ImageStride();
  if (layout == Layout::kPlain) return img + channel * hw;
  return img + channel / kLayoutBlock * hw * kLayoutBlock + channel % kLayoutBlock;
}

ChannelView ViewOf(const Tensor& t, Layout layout, int64_t c) {
  // Both layouts keep N first and H, W as dims 2 and 3.
  return {const_cast<float*>(t.data<float>()), layout, t.dim(0), c, t.dim(2) * t.dim(3)};
}

namespace {

// One nChw8c block (lanes [lo, hi)) <-> one plane per lane on the other side
// (step `ps` between H*W positions). to_block: plane -> block, else block -> plane.
// The full-block, plain-side case has a fixed 8-lane inner loop the compiler unrolls.
// The full-block case of BlockLanes with contiguous planes, 8 positions x 8 lanes per
// register transpose.
__attribute__((target("avx2"))) void BlockLanesAvx2(float* block, float* const* planes, int64_t hw,
                                                    bool to_block) {
  constexpr int64_t L = kLayoutBlock;
  int64_t p = 0;
  for (; p + L <= hw; p += L) {
    __m256 m[L];
    for (int64_t i = 0; i < L; ++i)
      m[i] = to_block ? _mm256_loadu_ps(planes[i] + p) : _mm256_loadu_ps(block + (p + i) * L);
    Transpose8x8(m);
    for (int64_t i = 0; i < L; ++i) _mm256_storeu_ps(to_block ? block + (p + i) * L : planes[i] + p, m[i]);
  }
  for (; p < hw; ++p) {
    for (int64_t l = 0; l < L; ++l) {
      if (to_block) {
        block[p * L + l] = planes[l][p];
      } else {
        planes[l][p] = block[p * L + l];
      }
    }
  }
}

void BlockLanes(float* block, float* const* planes, int64_t ps, int64_t lo, int64_t hi, int64_t hw,
                bool to_block) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (lo == 0 && hi == kLayoutBlock && ps == 1 && avx2) {
    BlockLanesAvx2(block, planes, hw, to_block);
    return;
  }
  if (lo == 0 && hi == kLayoutBlock && ps == 1) {
    for (int64_t p = 0; p < hw; ++p) {
      float* b = block + p * kLayoutBlock;
      for (int64_t l = 0; l < kLayoutBlock; ++l) {
        if (to_block) {
          b[l] = planes[l][p];
        } else {
          planes[l][p] = b[l];
        }
      }
    }
    return;
  }
  for (int64_t p = 0; p < hw; ++p) {
    float* b = block + p * kLayoutBlock;
    for (int64_t l = lo; l < hi; ++l) {
      if (to_block) {
        b[l] = planes[l][p * ps];
      } else {
        planes[l][p * ps] = b[l];
      }
    }
  }
}

}  // namespace

void CopyChannels(const ChannelView& src, int64_t src_c0, const ChannelView& dst, int64_t dst_c0,
                  int64_t count) {
  const int64_t hw = src.hw;
  const int64_t bytes = src.n * count * hw * static_cast<int64_t>(sizeof(float));
  if (count <= 0) return;
  if (src.layout == Layout::kPlain && dst.layout == Layout::kPlain) {
    ParallelFor(src.n, bytes, [&](int64_t begin, int64_t end) {
      for (int64_t img = begin; img < end; ++img) {
        std::memcpy(dst.Plane(img, dst_c0), src.Plane(img, src_c0),
                    static_cast<size_t>(count * hw) * sizeof(float));
      }
    });
    return;
  }
  const bool blocked = src.layout == Layout::kNChw8c && dst.layout == Layout::kNChw8c;
  if (blocked && src_c0 % kLayoutBlock == 0 && dst_c0 % kLayoutBlock == 0 && count >= kLayoutBlock) {
    // Whole blocks are contiguous [H*W][8] runs; a partial last block goes lane by lane below.
    const int64_t blocks = count / kLayoutBlock;
    ParallelFor(src.n * blocks, bytes, [&](int64_t begin, int64_t end) {
      for (int64_t u = begin; u < end; ++u) {
        const int64_t img = u / blocks, ch = u % blocks * kLayoutBlock;
        std::memcpy(dst.Plane(img, dst_c0 + ch), src.Plane(img, src_c0 + ch),
                    static_cast<size_t>(hw * kLayoutBlock) * sizeof(float));
      }
    });
    src_c0 += blocks * kLayoutBlock, dst_c0 += blocks * kLayoutBlock, count -= blocks * kLayoutBlock;
    if (count == 0) return;
  }
  // Walk the blocks of the blocked side (dst if blocked, else src); the other side
  // gives one plane pointer per lane.
  const bool to_block = dst.layout == Layout::kNChw8c;
  const ChannelView& b = to_block ? dst : src;
  const ChannelView& o = to_block ? src : dst;
  const int64_t b_c0 = to_block ? dst_c0 : src_c0, o_c0 = to_block ? src_c0 : dst_c0;
  const int64_t first = b_c0 / kLayoutBlock, last = (b_c0 + count - 1) / kLayoutBlock;
  const int64_t blocks = last - first + 1;
  ParallelFor(src.n * blocks, bytes, [&](int64_t begin, int64_t end) {
    float* planes[kLayoutBlock] = {};
    for (int64_t u = begin; u < end; ++u) {
      const int64_t img = u / blocks, blk = first + u % blocks;
      const int64_t lo = std::max<int64_t>(b_c0 - blk * kLayoutBlock, 0);
      const int64_t hi = std::min<int64_t>(b_c0 + count - blk * kLayoutBlock, kLayoutBlock);
      for (int64_t l = lo; l < hi; ++l) planes[l] = o.Plane(img, o_c0 + blk * kLayoutBlock + l - b_c0);
      BlockLanes(b.Plane(img, blk * kLayoutBlock), planes, o.Step(), lo, hi, hw, to_block);
    }
  });
}

void ZeroPadding(const ChannelView& v) {
  if (v.layout != Layout::kNChw8c || v.c % kLayoutBlock == 0) return;
  const int64_t used = v.c % kLayoutBlock;
  for (int64_t img = 0; img < v.n; ++img) {
    float* block = v.Plane(img, v.c - used);  // lane 0 of the last block
    for (int64_t i = 0; i < v.hw; ++i) {
      std::fill(block + i * kLayoutBlock + used, block + (i + 1) * kLayoutBlock, 0.0f);
    }
  }
}

}  // namespace qcal::x86
