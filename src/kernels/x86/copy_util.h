// Copy helpers of the x86 data-movement kernels (provider "x86": Transpose,
// Concat, Split, Slice). They move exactly the elements the reference kernels
// move, with memcpy of contiguous runs instead of per-element index math, and
// split large copies over the kernel thread count (kernels/threads.h).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "kernels/ref/data_movement.h"

namespace qcal::x86 {

// Provider name and priority (above "ref", which stays the executable spec).
inline constexpr const char* kProvider = "x86";
inline constexpr int kPriority = 5;

// Calls fn(begin, end) over [0, n) in one contiguous chunk per thread when
// `bytes` (the data moved) is large enough to pay for waking threads, else once.
void ParallelFor(int64_t n, int64_t bytes, const std::function<void(int64_t, int64_t)>& fn);

// dst (contiguous, c.shape) = the strided elements of src (element size esize).
// Dims are coalesced first; contiguous inner runs are memcpy'd.
void CopyStrided(const void* src, const ref::StridedCopy& c, size_t esize, void* dst);

// One float32 4-D activation seen per channel: NCHW (kPlain) or nChw8c.
struct ChannelView {
  float* data;
  Layout layout;
  int64_t n, c, hw;  // logical N, C, H * W

  int64_t ImageStride() const;
  float* Plane(int64_t image, int64_t channel) const;  // element (image, channel, hw = 0)
  int64_t Step() const { return layout == Layout::kNChw8c ? kLayoutBlock : 1; }  // between hw positions
};

// A view of t (logical channel count c; a kNChw8c tensor has the blocked shape).
ChannelView ViewOf(const Tensor& t, Layout layout, int64_t c);

// dst channels [dst_c0, dst_c0 + count) = src channels [src_c0, src_c0 + count),
// every image; src and dst have the same N and H * W.
void CopyChannels(const ChannelView& src, int64_t src_c0, const ChannelView& dst, int64_t dst_c0,
                  int64_t count);
// Zeroes the padding lanes (channels c..ceil(c/8)*8) of a kNChw8c view.
void ZeroPadding(const ChannelView& v);

}  // namespace qcal::x86
