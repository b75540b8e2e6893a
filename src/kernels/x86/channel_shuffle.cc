// ChannelShuffle (provider "x86"; op and reference kernel in
// kernels/ref/channel_shuffle.h). Moves exactly the reference's elements:
//   - all NCHW: the reference kernel (one memcpy per image and channel plane);
//   - float32 values may also be in the machine's blocked layout (nChw16c with
//     AVX-512, nChw8c with AVX2; FloatBlockedLayout) or NHWC, and uint8 / int8
//     values NHWC, so the convolutions around a ShuffleNet unit need no reorder.
//     ShuffleNet's case (two inputs of equal channels, group 2, every output
//     starting on an even shuffled channel) interleaves the two inputs with
//     permutes: blocked, a block's worth of consecutive channels of each input
//     at a pixel (two blocks combined when the run straddles a block) gives two
//     output blocks; NHWC, two contiguous channel runs per pixel. Other cases
//     copy element by element; TiesAllLayouts keeps the planner from mixing
//     layouts. Padding lanes of blocked outputs are zeroed.
#include "kernels/ref/channel_shuffle.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels/ref/common.h"
#include "kernels/x86/x86_common.h"

namespace qcal::x86 {
namespace {

// A 4-D value seen per channel: NCHW, NHWC or (float32) blocked (8 / 16).
template <typename T>
struct ViewOf {
  const T* data;
  Layout layout;
  int64_t c, hw;
  int64_t block() const { return LayoutBlock(layout); }  // 0: not blocked
  int64_t Blocks() const { return (c + block() - 1) / block(); }
  int64_t ImageStride() const { return (block() ? Blocks() * block() : c) * hw; }
  // Offset of (image n, channel ch, pixel 0) and the step between pixels.
  int64_t At(int64_t n, int64_t ch) const {
    const int64_t b = block();
    if (b) return n * ImageStride() + ch / b * hw * b + ch % b;
    return n * ImageStride() + (layout == Layout::kNhwc ? ch : ch * hw);
  }
  int64_t Step() const { return block() ? block() : layout == Layout::kNhwc ? c : 1; }
};
using View = ViewOf<float>;

// Channels [s, s + 16) of an nChw16c image at pixel p, zeros past the padded
// channels; idx = {s % 16, ..., s % 16 + 15}.
__attribute__((target("avx512f"))) inline __m512 Load16(const float* img, int64_t blocks, int64_t hw,
                                                        int64_t s, int64_t p, __m512i idx) {
  const int64_t q = s / 16, r = s % 16;
  const __m512 v = q < blocks ? _mm512_loadu_ps(img + (q * hw + p) * 16) : _mm512_setzero_ps();
  if (r == 0) return v;
  const __m512 w = q + 1 < blocks ? _mm512_loadu_ps(img + ((q + 1) * hw + p) * 16) : _mm512_setzero_ps();
  return _mm512_permutex2var_ps(v, idx, w);
}

// Below this many floats moved per output a shuffle stays on the calling thread.
constexpr int64_t kParallelElements = int64_t{1} << 14;

// Lanes [0, left) set, as a 16-bit mask (left may be <= 0 or >= 16).
inline uint32_t LaneMask(int64_t left, int lanes) {
  return left >= lanes ? (1u << lanes) - 1 : left <= 0 ? 0u : (1u << left) - 1;
}

// The ShuffleNet case on nChw16c: output o of a group-2 shuffle of two
// equal-channel inputs, its first shuffled channel j0 even, so output channel
// 2k + e (e = 0, 1) is input e's channel j0 / 2 + k. Output blocks ob, ob + 1
// (ob even) of image n interleave channels [s, s + 16) of both inputs.
__attribute__((target("avx512f"))) void ShufflePair16(const View& a, const View& b, const View& y, int64_t n,
                                                      int64_t j0, int64_t ob) {
  const int64_t hw = y.hw, in_blocks = a.Blocks(), out_blocks = y.Blocks();
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const float* ia = a.data + n * a.ImageStride();
  const float* ib = b.data + n * b.ImageStride();
  float* iy = const_cast<float*>(y.data) + n * y.ImageStride();
  const int64_t s = j0 / 2 + ob * 8;
  const __m512i idx =
      _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(s % 16)),
                       _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  // Lanes past the output's channels are padding: zero.
  const auto m0 = static_cast<__mmask16>(LaneMask(y.c - ob * 16, 16));
  const auto m1 = static_cast<__mmask16>(LaneMask(y.c - ob * 16 - 16, 16));
  const bool second = ob + 1 < out_blocks;
  float* d0 = iy + ob * hw * 16;
  for (int64_t p = 0; p < hw; ++p) {
    const __m512 va = Load16(ia, in_blocks, hw, s, p, idx);
    const __m512 vb = Load16(ib, in_blocks, hw, s, p, idx);
    _mm512_storeu_ps(d0 + p * 16, _mm512_maskz_mov_ps(m0, _mm512_permutex2var_ps(va, lo, vb)));
    if (second) {
      _mm512_storeu_ps(d0 + (hw + p) * 16, _mm512_maskz_mov_ps(m1, _mm512_permutex2var_ps(va, hi, vb)));
    }
  }
}

// Channels [s, s + 8) of an nChw8c image at pixel p (AVX2): two blocks
// rotated by s % 8 and blended.
__attribute__((target("avx2"))) inline __m256 Load8(const float* img, int64_t blocks, int64_t hw, int64_t s,
                                                    int64_t p, __m256i rot, __m256 from_next) {
  const int64_t q = s / 8;
  const __m256 v = q < blocks ? _mm256_loadu_ps(img + (q * hw + p) * 8) : _mm256_setzero_ps();
  if (s % 8 == 0) return v;
  const __m256 w = q + 1 < blocks ? _mm256_loadu_ps(img + ((q + 1) * hw + p) * 8) : _mm256_setzero_ps();
  return _mm256_blendv_ps(_mm256_permutevar8x32_ps(v, rot), _mm256_permutevar8x32_ps(w, rot), from_next);
}

// ShufflePair16 on nChw8c with AVX2.
__attribute__((target("avx2"))) void ShufflePair8(const View& a, const View& b, const View& y, int64_t n,
                                                  int64_t j0, int64_t ob) {
  const int64_t hw = y.hw, in_blocks = a.Blocks(), out_blocks = y.Blocks();
  const float* ia = a.data + n * a.ImageStride();
  const float* ib = b.data + n * b.ImageStride();
  float* iy = const_cast<float*>(y.data) + n * y.ImageStride();
  const int64_t s = j0 / 2 + ob * 4;
  const int r = static_cast<int>(s % 8);
  alignas(32) int32_t rot[8], next[8], keep0[8], keep1[8];
  for (int t = 0; t < 8; ++t) {
    rot[t] = (r + t) % 8;
    next[t] = r + t >= 8 ? -1 : 0;
    keep0[t] = t < y.c - ob * 8 ? -1 : 0;
    keep1[t] = t < y.c - ob * 8 - 8 ? -1 : 0;
  }
  const __m256i vrot = _mm256_load_si256(reinterpret_cast<const __m256i*>(rot));
  const __m256 vnext = _mm256_castsi256_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(next)));
  const __m256 k0 = _mm256_castsi256_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(keep0)));
  const __m256 k1 = _mm256_castsi256_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(keep1)));
  const bool second = ob + 1 < out_blocks;
  float* d0 = iy + ob * hw * 8;
  for (int64_t p = 0; p < hw; ++p) {
    const __m256 va = Load8(ia, in_blocks, hw, s, p, vrot, vnext);
    const __m256 vb = Load8(ib, in_blocks, hw, s, p, vrot, vnext);
    const __m256 lo = _mm256_unpacklo_ps(va, vb), hi = _mm256_unpackhi_ps(va, vb);  // per 128-bit half
    _mm256_storeu_ps(d0 + p * 8, _mm256_and_ps(k0, _mm256_permute2f128_ps(lo, hi, 0x20)));
    if (second) _mm256_storeu_ps(d0 + (hw + p) * 8, _mm256_and_ps(k1, _mm256_permute2f128_ps(lo, hi, 0x31)));
  }
}

// The ShuffleNet case on NHWC: at every pixel, output channels 2k and 2k + 1
// are channel j0 / 2 + k of inputs a and b. Interleave(a, b, pairs, y) writes
// y[2k] = a[k], y[2k + 1] = b[k] for the first pairs it returns (the caller
// does the rest one by one); AVX-512 does all, the last step masked.

// Pairs [0, r) of a 16-pair step (r <= 16): masked loads and stores.
__attribute__((target("avx512f"))) inline void Interleave16(const float* a, const float* b, float* y,
                                                            int64_t r) {
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const auto m = static_cast<__mmask16>(LaneMask(r, 16));
  const __m512 va = _mm512_maskz_loadu_ps(m, a), vb = _mm512_maskz_loadu_ps(m, b);
  _mm512_mask_storeu_ps(y, static_cast<__mmask16>(LaneMask(2 * r, 16)), _mm512_permutex2var_ps(va, lo, vb));
  _mm512_mask_storeu_ps(y + 16, static_cast<__mmask16>(LaneMask(2 * r - 16, 16)),
                        _mm512_permutex2var_ps(va, hi, vb));
}

__attribute__((target("avx512f"))) int64_t InterleaveAvx512(const float* a, const float* b, int64_t pairs,
                                                            float* y) {
  for (int64_t k = 0; k < pairs; k += 16)
    Interleave16(a + k, b + k, y + 2 * k, std::min<int64_t>(16, pairs - k));
  return pairs;
}

// Bytes with SSE2 (every x86-64 CPU): 16 pairs per step; the caller does the rest.
int64_t InterleaveBytes(const uint8_t* a, const uint8_t* b, int64_t pairs, uint8_t* y) {
  int64_t k = 0;
  for (; k + 16 <= pairs; k += 16) {
    const __m128i va = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + k));
    const __m128i vb = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + k));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + 2 * k), _mm_unpacklo_epi8(va, vb));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + 2 * k + 16), _mm_unpackhi_epi8(va, vb));
  }
  return k;
}

int64_t InterleaveVector(const float* a, const float* b, int64_t pairs, float* y, bool simd) {
  return simd ? InterleaveAvx512(a, b, pairs, y) : 0;
}
int64_t InterleaveVector(const uint8_t* a, const uint8_t* b, int64_t pairs, uint8_t* y, bool /*simd*/) {
  return InterleaveBytes(a, b, pairs, y);
}

// simd: the CPU has AVX-512 (float; bytes need only SSE2).
template <typename T>
void ShufflePixelsNhwc(const ViewOf<T>& a, const ViewOf<T>& b, const ViewOf<T>& y, int64_t n, int64_t j0,
                       bool simd) {
  const int64_t pairs = y.c / 2;
  const T* a0 = a.data + a.At(n, j0 / 2);
  const T* b0 = b.data + b.At(n, j0 / 2);
  T* y0 = const_cast<T*>(y.data) + y.At(n, 0);
  for (int64_t p = 0; p < y.hw; ++p) {
    const T* pa = a0 + p * a.c;
    const T* pb = b0 + p * b.c;
    T* py = y0 + p * y.c;
    int64_t k = InterleaveVector(pa, pb, pairs, py, simd);
    for (; k < pairs; ++k) {
      py[2 * k] = pa[k];
      py[2 * k + 1] = pb[k];
    }
    if (y.c % 2) py[y.c - 1] = pa[pairs];
  }
}

// Element-by-element copy of output o (any mix of NCHW, NHWC and the blocked layout).
template <typename T>
void CopyGeneric(const ref::ShufflePlan& plan, const std::vector<ViewOf<T>>& in, const ViewOf<T>& y, size_t o,
                 int64_t n) {
  T* dst = const_cast<T*>(y.data);
  const int64_t y_step = y.Step();
  for (int64_t c = 0; c < y.c; ++c) {
    const ref::ShufflePlan::Source src = plan.SourceOf(o, c);
    const ViewOf<T>& x = in[src.input];
    const T* from = x.data + x.At(n, src.channel);
    T* to = dst + y.At(n, c);
    const int64_t x_step = x.Step();
    for (int64_t p = 0; p < y.hw; ++p) to[p * y_step] = from[p * x_step];
  }
  const int64_t b = y.block();
  if (!b) return;
  for (int64_t c = y.c; c % b != 0; ++c) {
    T* to = dst + y.At(n, c);
    for (int64_t p = 0; p < y.hw; ++p) to[p * b] = T{0};
  }
}

bool IsByte(DataType t) { return t == DataType::kUint8 || t == DataType::kInt8; }

class ChannelShuffleKernel : public Kernel {
 public:
  ChannelShuffleKernel(const OpContext& ctx, std::unique_ptr<Kernel> reference)
      : reference_(std::move(reference)) {
    in_layouts_.assign(ctx.num_inputs(), Layout::kPlain);
    std::vector<int64_t> channels;
    dtype_ = ctx.inputs.empty() ? DataType::kUndefined : ctx.inputs[0].dtype;
    for (const TensorType& t : ctx.inputs) {
      if (t.dtype != dtype_ || t.shape.size() != 4 || !ShapeIsStatic(t.shape)) return;
      planned_.push_back(t.shape);
      channels.push_back(t.shape[1]);
    }
    auto plan = ref::MakeShufflePlan(ctx.node, channels, ctx.node.outputs.size());
    if (!plan.ok() || (dtype_ != DataType::kFloat32 && !IsByte(dtype_))) return;
    plan_ = std::move(*plan);
    if (dtype_ == DataType::kFloat32) {
      block_ = LayoutBlock(FloatBlockedLayout());
      blocked_ = block_ == 16 ? HasAvx512F() : HasAvx2();
      simd_ = HasAvx512F();
    }
    nhwc_ = true;
    pairs_ = plan_.group == 2 && channels.size() == 2 && channels[0] == channels[1];
    for (int64_t j0 : plan_.out_offsets) pairs_ = pairs_ && j0 % 2 == 0;
  }

  bool WritesAllOutputs() const override { return true; }
  // The type's own non-plain layout: blocked for float32, NHWC for 8-bit types.
  bool AcceptsBlocked(size_t) const override { return IsByte(dtype_) ? nhwc_ : blocked_; }
  bool ProducesBlocked(size_t) const override { return IsByte(dtype_) ? nhwc_ : blocked_; }
  bool AcceptsFloatNhwc(size_t) const override { return dtype_ == DataType::kFloat32 && nhwc_; }
  bool ProducesFloatNhwc(size_t) const override { return dtype_ == DataType::kFloat32 && nhwc_; }
  // Mixed layouts take the element-by-element path (several times slower than
  // plane copies or the blocked / NHWC paths): all values in one layout.
  bool TiesAllLayouts() const override { return true; }
  Status SetLayouts(const std::vector<Layout>& in, const std::vector<Layout>& out) override {
    non_plain_ = false;
    bool ok = true;
    for (const auto* ls : {&in, &out}) {
      for (Layout l : *ls) {
        non_plain_ = non_plain_ || l != Layout::kPlain;
        ok = ok && (l == Layout::kPlain || (l == Layout::kNhwc && nhwc_) ||
                    (IsBlockedFloat(l) && blocked_ && LayoutBlock(l) == block_));
      }
    }
    if (!ok) return Internal("this ChannelShuffle cannot take part in the planned layouts");
    in_layouts_ = in;
    out_layouts_ = out;
    return reference_->SetLayouts(std::vector<Layout>(in.size(), Layout::kPlain),
                                  std::vector<Layout>(out.size(), Layout::kPlain));
  }

  // All NCHW: the reference kernel (one memcpy per plane; it checks the shapes).
  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    if (!non_plain_) return reference_->Run(in, out);
    return dtype_ == DataType::kFloat32 ? RunLayouts<float>(in, out) : RunLayouts<uint8_t>(in, out);
  }

 private:
  template <typename T>
  Status RunLayouts(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
    const Shape& s = planned_[0];
    const int64_t hw = s[2] * s[3];
    std::vector<ViewOf<T>> views;
    for (size_t i = 0; i < in.size(); ++i) {
      const Shape want = PhysicalShape(planned_[i], in_layouts_[i]);
      if (!in[i] || in[i]->dtype() != dtype_ || in[i]->shape() != want) {
        return InvalidArgument("input " + std::to_string(i) + " does not have the prepared shape " +
                               ShapeToString(want));
      }
      views.push_back({static_cast<const T*>(in[i]->raw()), in_layouts_[i], planned_[i][1], hw});
    }
    for (size_t o = 0; o < out.size(); ++o) {
      const Layout l = out_layouts_[o];
      const Shape shape{s[0], plan_.out_channels[o], s[2], s[3]};
      Tensor& y = ref::PrepareOutput(out, o, dtype_, PhysicalShape(shape, l));
      const ViewOf<T> yv{static_cast<const T*>(y.raw()), l, shape[1], hw};
      const bool same = pairs_ && views[0].layout == l && views[1].layout == l;
      const int64_t j0 = plan_.out_offsets[o];
      for (int64_t n = 0; n < s[0]; ++n) {
        if (same && l == Layout::kNhwc) {
          ShufflePixelsNhwc(views[0], views[1], yv, n, j0, simd_);
        } else if constexpr (std::is_same_v<T, float>) {
          if (same && IsBlockedFloat(l)) {
            ShufflePairs(views[0], views[1], yv, n, j0);
          } else {
            CopyGeneric(plan_, views, yv, o, n);
          }
        } else {
          CopyGeneric(plan_, views, yv, o, n);
        }
      }
    }
    return Status::Ok();
  }

  // Every output block pair of image n, split over the threads when the copy
  // is large enough (ShuffleNet's 28x28 stage: 2 x 50 Ki floats per shuffle).
  void ShufflePairs(const View& a, const View& b, const View& y, int64_t n, int64_t j0) const {
    const int64_t pairs = (y.Blocks() + 1) / 2;
    const auto pair = block_ == 16 ? ShufflePair16 : ShufflePair8;
    const int threads = pairs > 1 && pairs * y.hw * 2 * block_ >= kParallelElements ? OmpThreads() : 1;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (int64_t i = 0; i < pairs; ++i) pair(a, b, y, n, j0, i * 2);
  }

  std::unique_ptr<Kernel> reference_;
  ref::ShufflePlan plan_;
  DataType dtype_ = DataType::kUndefined;
  std::vector<Shape> planned_;  // logical input shapes (4-D static inputs of one dtype only)
  int64_t block_ = 0;           // float32: the machine's blocked layout's channels per block
  bool blocked_ = false;        // float32 values may be blocked
  bool nhwc_ = false;           // values may be NHWC (float32 and 8-bit types)
  bool simd_ = false;           // float32: AVX-512 for the NHWC interleave
  bool pairs_ = false, non_plain_ = false;
  std::vector<Layout> in_layouts_, out_layouts_;
};

Result<std::unique_ptr<Kernel>> CreateChannelShuffle(const OpContext& ctx) {
  QCAL_ASSIGN_OR_RETURN(auto reference, KernelRegistry::Global().CreateKernelFromProvider(ctx, "ref"));
  return std::unique_ptr<Kernel>(std::make_unique<ChannelShuffleKernel>(ctx, std::move(reference)));
}

}  // namespace

QCAL_REGISTER_KERNEL("ChannelShuffle", kProvider, kPriority, nullptr, CreateChannelShuffle);

}  // namespace qcal::x86
