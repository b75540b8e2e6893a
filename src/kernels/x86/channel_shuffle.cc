// ChannelShuffle (provider "x86"; op and reference kernel in
// kernels/ref/channel_shuffle.h). Moves exactly the reference's elements:
//   - all NCHW: the reference kernel (one memcpy per image and channel plane);
//   - float32 values may also arrive and leave in the machine's blocked layout
//     (nChw16c with AVX-512, nChw8c with AVX2; FloatBlockedLayout), so the
//     convolutions around a ShuffleNet unit need no reorder. ShuffleNet's case
//     (two inputs of equal channels, group 2, every output starting on an even
//     shuffled channel) loads a block's worth of consecutive channels of each
//     input at a pixel (two blocks combined when the run straddles a block) and
//     interleaves them into two output blocks with permutes. Other blocked cases
//     copy element by element. Padding lanes of blocked outputs are zeroed.
#include "kernels/ref/channel_shuffle.h"

#include <immintrin.h>

#include <cstring>

#include "kernels/ref/common.h"
#include "kernels/x86/x86_common.h"

namespace qcal::x86 {
namespace {

// A 4-D float32 value seen per channel: NCHW (block 0) or blocked (8 / 16).
struct View {
  const float* data;
  int64_t block;  // 0: NCHW
  int64_t c, hw;
  int64_t Blocks() const { return (c + block - 1) / block; }
  int64_t ImageStride() const { return (block ? Blocks() * block : c) * hw; }
  // Offset of (image n, channel ch, pixel 0) and the step between pixels.
  int64_t At(int64_t n, int64_t ch) const {
    return n * ImageStride() + (block ? (ch / block * hw * block + ch % block) : ch * hw);
  }
  int64_t Step() const { return block ? block : 1; }
};

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

// Element-by-element copy of output o (any mix of NCHW and the blocked layout).
void CopyGeneric(const ref::ShufflePlan& plan, const std::vector<View>& in, const View& y, size_t o,
                 int64_t n) {
  float* dst = const_cast<float*>(y.data);
  for (int64_t c = 0; c < y.c; ++c) {
    const ref::ShufflePlan::Source src = plan.SourceOf(o, c);
    const View& x = in[src.input];
    const float* from = x.data + x.At(n, src.channel);
    float* to = dst + y.At(n, c);
    for (int64_t p = 0; p < y.hw; ++p) to[p * y.Step()] = from[p * x.Step()];
  }
  if (!y.block) return;
  for (int64_t c = y.c; c % y.block != 0; ++c) {
    float* to = dst + y.At(n, c);
    for (int64_t p = 0; p < y.hw; ++p) to[p * y.block] = 0.0f;
  }
}

class ChannelShuffleKernel : public Kernel {
 public:
  ChannelShuffleKernel(const OpContext& ctx, std::unique_ptr<Kernel> reference)
      : reference_(std::move(reference)) {
    in_layouts_.assign(ctx.num_inputs(), Layout::kPlain);
    std::vector<int64_t> channels;
    block_ = LayoutBlock(FloatBlockedLayout());
    bool blockable = block_ == 16 ? HasAvx512F() : HasAvx2();
    for (const TensorType& t : ctx.inputs) {
      blockable = blockable && t.dtype == DataType::kFloat32 && t.shape.size() == 4 && ShapeIsStatic(t.shape);
      if (blockable) {
        planned_.push_back(t.shape);
        channels.push_back(t.shape[1]);
      }
    }
    if (!blockable) return;
    auto plan = ref::MakeShufflePlan(ctx.node, channels, ctx.node.outputs.size());
    if (!plan.ok()) return;
    plan_ = std::move(*plan);
    blockable_ = true;
    pairs_ = plan_.group == 2 && channels.size() == 2 && channels[0] == channels[1];
    for (int64_t j0 : plan_.out_offsets) pairs_ = pairs_ && j0 % 2 == 0;
  }

  bool WritesAllOutputs() const override { return true; }
  bool AcceptsBlocked(size_t) const override { return blockable_; }
  bool ProducesBlocked(size_t) const override { return blockable_; }
  // Mixed layouts take the element-by-element path (several times slower than
  // all-NCHW plane copies): all blocked or none.
  bool TiesAllLayouts() const override { return true; }
  Status SetLayouts(const std::vector<Layout>& in, const std::vector<Layout>& out) override {
    any_blocked_ = false;
    for (Layout l : in) any_blocked_ = any_blocked_ || l != Layout::kPlain;
    for (Layout l : out) any_blocked_ = any_blocked_ || l != Layout::kPlain;
    if (any_blocked_ && !blockable_)
      return Internal("this ChannelShuffle cannot take part in the blocked layout");
    in_layouts_ = in;
    out_layouts_ = out;
    return reference_->SetLayouts(std::vector<Layout>(in.size(), Layout::kPlain),
                                  std::vector<Layout>(out.size(), Layout::kPlain));
  }

  // All NCHW: the reference kernel (one memcpy per plane; it checks the shapes).
  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    return any_blocked_ ? RunBlocked(in, out) : reference_->Run(in, out);
  }

 private:
  Status RunBlocked(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
    const Shape& s = planned_[0];
    const int64_t hw = s[2] * s[3];
    std::vector<View> views;
    for (size_t i = 0; i < in.size(); ++i) {
      const bool blocked = in_layouts_[i] != Layout::kPlain;
      const Shape want = blocked ? BlockedShape(planned_[i], block_) : planned_[i];
      if (!in[i] || in[i]->dtype() != DataType::kFloat32 || in[i]->shape() != want) {
        return InvalidArgument("input " + std::to_string(i) + " does not have the prepared shape " +
                               ShapeToString(want));
      }
      views.push_back({in[i]->data<float>(), blocked ? block_ : 0, planned_[i][1], hw});
    }
    for (size_t o = 0; o < out.size(); ++o) {
      const bool blocked = out_layouts_[o] != Layout::kPlain;
      const Shape shape{s[0], plan_.out_channels[o], s[2], s[3]};
      Tensor& y =
          ref::PrepareOutput(out, o, DataType::kFloat32, blocked ? BlockedShape(shape, block_) : shape);
      const View yv{y.data<float>(), blocked ? block_ : 0, shape[1], hw};
      if (pairs_ && blocked && views[0].block && views[1].block) {
        ShufflePairs(views[0], views[1], yv, plan_.out_offsets[o]);
      } else {
        for (int64_t n = 0; n < s[0]; ++n) CopyGeneric(plan_, views, yv, o, n);
      }
    }
    return Status::Ok();
  }

  // Every (image, output block pair), split over the threads when the copy is
  // large enough (ShuffleNet's 28x28 stage: 2 x 50 Ki floats per shuffle).
  void ShufflePairs(const View& a, const View& b, const View& y, int64_t j0) const {
    const int64_t pairs = (y.Blocks() + 1) / 2, items = planned_[0][0] * pairs;
    const auto pair = block_ == 16 ? ShufflePair16 : ShufflePair8;
    const int threads = items > 1 && items * y.hw * 2 * block_ >= kParallelElements ? OmpThreads() : 1;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (int64_t i = 0; i < items; ++i) pair(a, b, y, i / pairs, j0, i % pairs * 2);
  }

  std::unique_ptr<Kernel> reference_;
  ref::ShufflePlan plan_;
  std::vector<Shape> planned_;  // logical input shapes (blockable only)
  int64_t block_ = 0;           // the machine's blocked layout's channels per block
  bool blockable_ = false, pairs_ = false, any_blocked_ = false;
  std::vector<Layout> in_layouts_, out_layouts_;
};

Result<std::unique_ptr<Kernel>> CreateChannelShuffle(const OpContext& ctx) {
  QCAL_ASSIGN_OR_RETURN(auto reference, KernelRegistry::Global().CreateKernelFromProvider(ctx, "ref"));
  return std::unique_ptr<Kernel>(std::make_unique<ChannelShuffleKernel>(ctx, std::move(reference)));
}

}  // namespace

QCAL_REGISTER_KERNEL("ChannelShuffle", kProvider, kPriority, nullptr, CreateChannelShuffle);

}  // namespace qcal::x86
