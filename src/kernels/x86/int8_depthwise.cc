// Depthwise int8 convolution (QcalQConv / QLinearConv with group == C, one
// input channel per group, multiplier 1, 2-D, any kernel size, stride and
// dilation) on qcal's own AVX2 loop, provider "x86" above the oneDNN int8
// convolution (int8_conv.cc): oneDNN 2.6's AVX2 int8 depthwise kernel is slow
// (UltraFace INT8 ran slower than its FP32). QCAL_INT8_DEPTHWISE=0 in the
// environment leaves these nodes to oneDNN (A/B runs).
//
// Exact integer math, bit-identical to the reference:
//   acc[p, c] = sum over taps of x'[tap, c] * w[c, tap]  (int32, wrapping)
//   y[p, c]   = output stage of acc[p, c] + corr[c],  corr[c] = B[c] - x_zp * sum_t w[c, t]
// where x' is X padded with x_zp (so every padding tap adds x_zp * w, which
// corr takes away again: the reference's (x - x_zp) * w, modulo 2^32).
// Per run X is copied once into that padded NHWC buffer with channels rounded
// up to 16 (kBlock; the extra channels have zero weights), so the inner loop
// has no bounds checks; stride-2 layers with NHWC X and whole blocks read X
// itself instead, and the windows that cross X's border from small padded strips.
// Per output pixel and 16 channels, two taps at a time: the u8 / s8 values of
// both taps are widened to int16 and interleaved (unpacklo / unpackhi), the
// int16 weights were packed once in the same order, and _mm256_madd_epi16 adds
// the two products per channel exactly (|x * w| <= 255 * 128). 3x3 and 5x5
// loops are unrolled with the weights in registers. With Y NHWC alone the
// output stage (int8_stage_lanes.h) runs on the sums in registers; otherwise
// the accumulators of one output row go through ApplyOutputStageSerial
// (int8_common.h), which also adds QcalQConv's residual Z and writes the
// quantized copy Yq, so layouts and fusions are those of the oneDNN kernel.
// OpenMP over output rows.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "kernels/dnnl/int8_common.h"
#include "kernels/dnnl/int8_stage_lanes.h"
#include "kernels/ref/common.h"
#include "kernels/ref/quant_common.h"
#include "kernels/x86/x86_common.h"

namespace qcal::x86 {
namespace {

using dnnl_kernels::Int8Params;
using dnnl_kernels::QuantizedCopy;

enum Input { kX = 0, kXScale, kXZp, kW, kWScale, kWZp, kYScale, kYZp, kBias, kZ, kQScale, kQZp };

// Above the oneDNN int8 convolution (dnnl_kernels::kPriority).
constexpr int kDepthwisePriority = 20;
constexpr int64_t kBlock = 16;  // channels per vector step
// Multiply-adds from which the output rows are split over the threads: at 2 threads even
// ShuffleNet's 7x7x464 layers gain (their 14x14x232 ones: 14 us on one thread, 9 on two;
// a threshold 16x higher left them at 14-15).
constexpr int64_t kParallelMacs = int64_t{1} << 14;

bool DepthwiseEnabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("QCAL_INT8_DEPTHWISE");
    return HasAvx2() && !(env && std::strcmp(env, "0") == 0);
  }();
  return enabled;
}

// Sixteen u8 / s8 values widened to int16.
template <bool kSigned>
inline __m256i Widen16(const uint8_t* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return kSigned ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v);
}

// Where BlockRow puts its 16 channels: int32 accumulators (for the row-wise
// output stage), or through the output stage straight into an NHWC Y of this type.
enum class Sink { kAcc, kU8, kS8, kF32 };

struct BlockArgs {
  const uint8_t* in = nullptr;   // the block's first channel of output pixel 0's first tap
  int64_t in_step = 0;           // bytes from one output pixel's window to the next
  const int64_t* off = nullptr;  // [2 * pairs] tap byte offsets
  const __m256i* w = nullptr;    // [2 * pairs] packed weights
  int pairs = 0;
  int64_t ow = 0;
  int32_t* acc = nullptr;  // kAcc: acc[ox * acc_step + 0..15]
  int64_t acc_step = 0;
  void* y = nullptr;              // other sinks: the block's channels of pixel ox at y + ox * y_step elements
  int64_t y_step = 0, valid = 0;  // valid: channels of this block inside Y (<= 16)
  const int32_t* corr = nullptr;  // the block's 16 corrections and multipliers
  const float* mult = nullptr;
  const dnnl_kernels::StageVectors* stage = nullptr;
};

// The block's output stage constants, loaded once per row.
struct BlockStage {
  dnnl_kernels::StageVectors k;
  __m256i corr0, corr1;  // channels 0-7, 8-15
  __m256 mult0, mult1;
};

// The output stage on the 16 sums a0 (channels 0-7), a1 (8-15), `valid` of them stored to y.
template <typename T>
inline void StoreStaged(const BlockStage& s, __m256i a0, __m256i a1, int64_t valid, T* y) {
  const __m256 v0 = dnnl_kernels::StageLanes(s.k, _mm256_add_epi32(a0, s.corr0), s.mult0);
  const __m256 v1 = dnnl_kernels::StageLanes(s.k, _mm256_add_epi32(a1, s.corr1), s.mult1);
  if (valid == kBlock) return dnnl_kernels::StoreLanes16(v0, v1, y);
  T tmp[kBlock];
  dnnl_kernels::StoreLanes16(v0, v1, tmp);
  std::memcpy(y, tmp, static_cast<size_t>(valid) * sizeof(T));
}

// 16 channels of ow output pixels: `pairs` tap pairs at byte offsets off[2t],
// off[2t + 1] from in + ox * in_step, weights w[2t] (channels 0-3, 8-11
// interleaved with the pair's second tap) and w[2t + 1] (channels 4-7, 12-15).
// kPairs: the pair count fixed at compile time (0: a.pairs). Everything the
// loop reads is copied to locals first (8-bit stores may alias anything).
template <bool kSigned, int kPairs, Sink kSink>
void BlockRow(const BlockArgs& a) {
  constexpr int kMax = kPairs > 0 ? kPairs : 1;
  __m256i wr[2 * kMax];
  int64_t offr[2 * kMax];
  if constexpr (kPairs > 0) {
    for (int t = 0; t < 2 * kPairs; ++t) {
      wr[t] = _mm256_loadu_si256(a.w + t);
      offr[t] = a.off[t];
    }
  }
  BlockStage s{};
  if constexpr (kSink != Sink::kAcc) {
    s.k = *a.stage;
    s.k.quantized = kSink != Sink::kF32;  // known at compile time
    s.corr0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.corr));
    s.corr1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.corr) + 1);
    s.mult0 = _mm256_loadu_ps(a.mult);
    s.mult1 = _mm256_loadu_ps(a.mult + 8);
  }
  const int np = kPairs > 0 ? kPairs : a.pairs;
  const uint8_t* const in = a.in;
  const int64_t in_step = a.in_step, ow = a.ow, valid = a.valid, y_step = a.y_step, acc_step = a.acc_step;
  const int64_t* const off = a.off;
  const __m256i* const w = a.w;
  int32_t* const acc = a.acc;
  void* const y = a.y;
  for (int64_t ox = 0; ox < ow; ++ox) {
    const uint8_t* p = in + ox * in_step;
    __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
    for (int t = 0; t < np; ++t) {
      const __m256i x0 = Widen16<kSigned>(p + (kPairs > 0 ? offr[2 * t] : off[2 * t]));
      const __m256i x1 = Widen16<kSigned>(p + (kPairs > 0 ? offr[2 * t + 1] : off[2 * t + 1]));
      const __m256i wl = kPairs > 0 ? wr[2 * t] : _mm256_loadu_si256(w + 2 * t);
      const __m256i wh = kPairs > 0 ? wr[2 * t + 1] : _mm256_loadu_si256(w + 2 * t + 1);
      lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1), wl));
      hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1), wh));
    }
    const __m256i a0 = _mm256_permute2x128_si256(lo, hi, 0x20);  // channels 0-7
    const __m256i a1 = _mm256_permute2x128_si256(lo, hi, 0x31);  // channels 8-15
    if constexpr (kSink == Sink::kAcc) {
      __m256i* dst = reinterpret_cast<__m256i*>(acc + ox * acc_step);
      _mm256_storeu_si256(dst, a0);
      _mm256_storeu_si256(dst + 1, a1);
    } else if constexpr (kSink == Sink::kU8) {
      StoreStaged(s, a0, a1, valid, static_cast<uint8_t*>(y) + ox * y_step);
    } else if constexpr (kSink == Sink::kS8) {
      StoreStaged(s, a0, a1, valid, static_cast<int8_t*>(y) + ox * y_step);
    } else {
      StoreStaged(s, a0, a1, valid, static_cast<float*>(y) + ox * y_step);
    }
  }
}

using BlockRowFn = void (*)(const BlockArgs&);
using SinkRows = std::array<BlockRowFn, 4>;  // by Sink

template <bool kSigned, int kPairs>
SinkRows RowsFor() {
  return {BlockRow<kSigned, kPairs, Sink::kAcc>, BlockRow<kSigned, kPairs, Sink::kU8>,
          BlockRow<kSigned, kPairs, Sink::kS8>, BlockRow<kSigned, kPairs, Sink::kF32>};
}

// The loops for this signedness and pair count: 3x3 (5 pairs) and 5x5 (13) unrolled.
SinkRows PickBlockRows(bool is_signed, int pairs) {
  struct Entry {
    int pairs;
    SinkRows u8, s8;
  };
  static const Entry kFixed[] = {{5, RowsFor<false, 5>(), RowsFor<true, 5>()},
                                 {13, RowsFor<false, 13>(), RowsFor<true, 13>()}};
  for (const Entry& e : kFixed) {
    if (e.pairs == pairs) return is_signed ? e.s8 : e.u8;
  }
  return is_signed ? RowsFor<true, 0>() : RowsFor<false, 0>();
}

// The sink writing a Y of this type through the output stage.
Sink StageSink(DataType t) {
  static const std::pair<DataType, Sink> kSinks[] = {
      {DataType::kUint8, Sink::kU8}, {DataType::kInt8, Sink::kS8}, {DataType::kFloat32, Sink::kF32}};
  for (const auto& [type, sink] : kSinks) {
    if (type == t) return sink;
  }
  return Sink::kAcc;
}

// Row `oy` of image n of an NCHW tensor to / from `ow` NHWC pixels of C channels.
template <typename T>
void ScatterRow(const T* src, int64_t c_count, int64_t oh, int64_t ow, int64_t n, int64_t oy, T* nchw) {
  for (int64_t c = 0; c < c_count; ++c) {
    T* d = nchw + ((n * c_count + c) * oh + oy) * ow;
    for (int64_t ox = 0; ox < ow; ++ox) d[ox] = src[ox * c_count + c];
  }
}
template <typename T>
void GatherRow(const T* nchw, int64_t c_count, int64_t oh, int64_t ow, int64_t n, int64_t oy, T* dst) {
  for (int64_t c = 0; c < c_count; ++c) {
    const T* s = nchw + ((n * c_count + c) * oh + oy) * ow;
    for (int64_t ox = 0; ox < ow; ++ox) dst[ox * c_count + c] = s[ox];
  }
}

void ScatterBytes(const void* src, size_t elem, int64_t c, int64_t oh, int64_t ow, int64_t n, int64_t oy,
                  void* nchw) {
  if (elem == 4) {
    return ScatterRow(static_cast<const float*>(src), c, oh, ow, n, oy, static_cast<float*>(nchw));
  }
  ScatterRow(static_cast<const uint8_t*>(src), c, oh, ow, n, oy, static_cast<uint8_t*>(nchw));
}

// dst[i * dst_step + j] = src[j * src_stride + i] for i, j < 16 (a 16 x 16 byte transpose,
// four rounds of unpacking rows i and i + 8).
inline void Transpose16x16(const uint8_t* src, int64_t src_stride, uint8_t* dst, int64_t dst_step) {
  __m128i x[16], y[16];
  for (int i = 0; i < 16; ++i) x[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i * src_stride));
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 8; ++i) {
      y[2 * i] = _mm_unpacklo_epi8(x[i], x[i + 8]);
      y[2 * i + 1] = _mm_unpackhi_epi8(x[i], x[i + 8]);
    }
    std::copy(y, y + 16, x);
  }
  for (int j = 0; j < 16; ++j) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + j * dst_step), x[j]);
}

// Columns [begin, end) of one NCHW row (channel c's bytes at src + c * plane, column i
// at src[i - shift]) into NHWC pixels dst + i * step: 16 x 16 transposes, the edges
// element by element.
void NchwRowToNhwc(const uint8_t* row, int64_t plane, int64_t channels, int64_t begin, int64_t end,
                   int64_t shift, uint8_t* dst, int64_t step) {
  const uint8_t* src = row - shift + begin;  // column `begin`
  dst += begin * step;
  end -= begin;
  begin = 0;
  int64_t c = 0;
  for (; c + 16 <= channels; c += 16) {
    int64_t i = begin;
    for (; i + 16 <= end; i += 16) Transpose16x16(src + c * plane + i, plane, dst + i * step + c, step);
    for (; i < end; ++i) {
      for (int64_t k = c; k < c + 16; ++k) dst[i * step + k] = src[k * plane + i];
    }
  }
  for (; c < channels; ++c) {
    for (int64_t i = begin; i < end; ++i) dst[i * step + c] = src[c * plane + i];
  }
}

// The geometry of one run: output size, padded input size and the tap offsets.
struct RunGeometry {
  int64_t n = 0, h = 0, w = 0, oh = 0, ow = 0, hp = 0, wp = 0;
  int64_t top = 0, left = 0, sh = 1, sw = 1, dh = 1, dw = 1;
  std::vector<int64_t> off;  // [2 * pairs] byte offsets in the padded buffer
  // From X itself (NHWC, channels a multiple of 16, stride 2; no padded copy): the tap
  // offsets in X, and the output columns [ox_lo, ox_hi) whose windows stay inside X's columns.
  bool from_x = false;
  std::vector<int64_t> off_x;
  int64_t ox_lo = 0, ox_hi = 0;
};

// The byte offsets of the taps (the odd last pair's second tap repeats the last
// tap, whose weights there are 0) for kernel rows `row_stride` and columns `col_stride` apart.
std::vector<int64_t> TapOffsets(int64_t taps, int64_t kw, int64_t row_stride, int64_t col_stride) {
  std::vector<int64_t> off;
  for (int64_t t = 0; t < (taps + 1) / 2 * 2; ++t) {
    const int64_t tap = std::min(t, taps - 1);
    off.push_back(tap / kw * row_stride + tap % kw * col_stride);
  }
  return off;
}

class X86Int8Depthwise final : public dnnl_kernels::Int8ConvLayoutKernel {
 public:
  X86Int8Depthwise(ref::WindowParams params, DataType x_type, Int8Params p, ref::ResidualActivation act,
                   std::optional<QuantizedCopy> copy, bool y_needed)
      : Int8ConvLayoutKernel(p.stage.dtype, copy ? std::optional<DataType>(copy->dtype) : std::nullopt),
        params_(std::move(params)),
        x_type_(x_type),
        p_(std::move(p)),
        act_(act),
        copy_(copy),
        y_needed_(y_needed) {
    const Shape& ws = p_.w.shape();
    c_ = ws[0];
    kh_ = ws[2];
    kw_ = ws[3];
    cp_ = (c_ + kBlock - 1) / kBlock * kBlock;
    pairs_ = static_cast<int>((kh_ * kw_ + 1) / 2);
    Pack();
    rows_ = PickBlockRows(x_type_ == DataType::kInt8, pairs_);
  }

  Status SetLayouts(const std::vector<Layout>& in, const std::vector<Layout>& out) override {
    QCAL_ASSIGN_OR_RETURN(layouts_, dnnl_kernels::CheckInt8ConvLayouts(*this, in, out));
    return Status::Ok();
  }

  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    std::lock_guard<std::mutex> lock(mu_);
    const Tensor* z = in.size() > kZ ? in[kZ] : nullptr;
    QCAL_ASSIGN_OR_RETURN(const RunGeometry g, Geometry(*in[kX]));
    const Shape ys = {g.n, c_, g.oh, g.ow};
    if (z && (z->dtype() != DataType::kFloat32 || z->shape() != PhysicalShape(ys, layouts_.z))) {
      return InvalidArgument("Z must be float32 of Y's shape " + ShapeToString(ys));
    }
    if (z && p_.stage.quantized()) return InvalidArgument("Z needs a float32 Y");
    Tensor* y =
        y_needed_ ? &ref::PrepareOutput(out, 0, p_.stage.dtype, PhysicalShape(ys, layouts_.y)) : nullptr;
    Tensor* yq = copy_ ? &ref::PrepareOutput(out, 1, copy_->dtype, PhysicalShape(ys, layouts_.yq)) : nullptr;
    if (!g.from_x) Pad(*in[kX], g);
    const int64_t rows = g.n * g.oh;
    const bool parallel = rows > 1 && g.n * g.oh * g.ow * c_ * kh_ * kw_ >= kParallelMacs;
    const int threads = parallel ? OmpThreads() : 1;
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
    for (int64_t r = 0; r < rows; ++r) OutputRow(g, *in[kX], r / g.oh, r % g.oh, y, z, yq);
    return Status::Ok();
  }

 private:
  // The weights as int16 in BlockRow's order: [cp / 16][pairs][2 vectors of 16].
  void Pack() {
    const int64_t taps = kh_ * kw_;
    const int8_t* w = p_.w.data<int8_t>();
    packed_.assign(static_cast<size_t>(cp_ / kBlock * pairs_ * 2 * 16), 0);
    std::vector<int16_t> lanes(16);
    std::vector<int64_t> sums(static_cast<size_t>(c_), 0);
    for (int64_t b = 0; b < cp_ / kBlock; ++b) {
      for (int t = 0; t < pairs_; ++t) {
        for (int v = 0; v < 2; ++v) {
          for (int l = 0; l < 16; ++l) {
            const int64_t c = b * kBlock + (l / 8) * 8 + v * 4 + (l % 8) / 2, tap = 2 * t + l % 2;
            lanes[static_cast<size_t>(l)] = c < c_ && tap < taps ? w[c * taps + tap] : 0;
          }
          std::memcpy(&packed_[static_cast<size_t>(((b * pairs_ + t) * 2 + v) * 16)], lanes.data(), 32);
        }
      }
    }
    // corr[c] = B[c] - x_zp * sum_t w[c, t], wrapping like the accumulation.
    corr_.assign(static_cast<size_t>(cp_), 0);  // padded to whole blocks, like mult_
    mult_ = p_.mult;
    mult_.resize(static_cast<size_t>(cp_), 0.0f);
    for (int64_t c = 0; c < c_; ++c) {
      int64_t s = 0;
      for (int64_t t = 0; t < taps; ++t) s += w[c * taps + t];
      const auto zs = static_cast<uint32_t>(static_cast<int64_t>(p_.x_zp) * s);
      corr_[static_cast<size_t>(c)] =
          ref::WrapAdd(p_.bias[static_cast<size_t>(c)], static_cast<int32_t>(0u - zs));
    }
  }

  Result<RunGeometry> Geometry(const Tensor& x) const {
    const bool nhwc = layouts_.x == Layout::kNhwc;
    if (x.rank() != 4 || x.dtype() != x_type_ || x.dim(nhwc ? 3 : 1) != c_) {
      return InvalidArgument("X must be 4-D " + std::string(DataTypeName(x_type_)) + " with " +
                             std::to_string(c_) + " channels, got " + ShapeToString(x.shape()));
    }
    RunGeometry r;
    r.n = x.dim(0);
    r.h = x.dim(nhwc ? 1 : 2);
    r.w = x.dim(nhwc ? 2 : 3);
    QCAL_ASSIGN_OR_RETURN(ref::WindowGeometry g, ref::ComputeWindowGeometry({r.h, r.w}, params_));
    r.oh = g.out[0];
    r.ow = g.out[1];
    r.sh = g.strides[0];
    r.sw = g.strides[1];
    r.top = g.pad_begin[0];
    r.left = g.pad_begin[1];
    r.hp = (r.oh - 1) * r.sh + (kh_ - 1) * g.dilations[0] + 1;
    r.wp = (r.ow - 1) * r.sw + (kw_ - 1) * g.dilations[1] + 1;
    r.dh = g.dilations[0];
    r.dw = g.dilations[1];
    r.off = TapOffsets(kh_ * kw_, kw_, r.dh * r.wp * cp_, r.dw * cp_);
    // Stride 2: the padded copy moves 4 input bytes per output value, while the border
    // strips cost little (UltraFace's 160x120 stride-2 layer: 69 us from X, 84 with the copy);
    // at stride 1 the copy is cheaper than the strips.
    r.from_x = nhwc && cp_ == c_ && r.sh >= 2 && r.sw >= 2;
    if (r.from_x) {
      r.off_x = TapOffsets(kh_ * kw_, kw_, r.dh * r.w * c_, r.dw * c_);
      const int64_t last = r.w - 1 - (kw_ - 1) * r.dw + r.left;  // the largest ox * sw allowed
      r.ox_lo = std::min(r.ow, (r.left + r.sw - 1) / r.sw);
      r.ox_hi = last < 0 ? r.ox_lo : std::clamp(last / r.sw + 1, r.ox_lo, r.ow);
    }
    return r;
  }

  // X into padded_: [N, hp, wp, cp] bytes, x_zp outside X.
  void Pad(const Tensor& x, const RunGeometry& g) {
    const size_t size = static_cast<size_t>(g.n * g.hp * g.wp * cp_);
    if (padded_.size() != size) padded_.assign(size, 0);
    const auto zp = static_cast<uint8_t>(p_.x_zp);
    const uint8_t* src = static_cast<const uint8_t*>(x.raw());
    const bool nhwc = layouts_.x == Layout::kNhwc;
    const int64_t rows = g.n * g.hp;
    const int64_t iw0 = std::max<int64_t>(0, g.left),
                  iw1 = std::min(g.wp, g.w + g.left);  // padded columns of X
    const bool parallel = size >= static_cast<size_t>(kParallelMin) * 4;
    const int threads = parallel ? OmpThreads() : 1;
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t n = r / g.hp, ih = r % g.hp - g.top;
      uint8_t* dst = padded_.data() + r * g.wp * cp_;
      if (ih < 0 || ih >= g.h || iw1 <= iw0) {
        std::memset(dst, zp, static_cast<size_t>(g.wp * cp_));
        continue;
      }
      std::memset(dst, zp, static_cast<size_t>(iw0 * cp_));
      std::memset(dst + iw1 * cp_, zp, static_cast<size_t>((g.wp - iw1) * cp_));
      if (nhwc) {
        const uint8_t* s = src + ((n * g.h + ih) * g.w + (iw0 - g.left)) * c_;
        if (cp_ == c_) {
          std::memcpy(dst + iw0 * cp_, s, static_cast<size_t>((iw1 - iw0) * c_));
        } else {
          for (int64_t i = iw0; i < iw1; ++i)
            std::memcpy(dst + i * cp_, s + (i - iw0) * c_, static_cast<size_t>(c_));
        }
      } else {
        NchwRowToNhwc(src + (n * c_ * g.h + ih) * g.w, g.h * g.w, c_, iw0, iw1, g.left, dst, cp_);
      }
    }
  }

  // The windows of output pixels [ox_a, ox_b) of row oy of image n (NHWC X, cp == C)
  // padded with x_zp into buf: [kh][cols][C], their tap offsets into off; returns buf.
  const uint8_t* Strip(const RunGeometry& g, const Tensor& x, int64_t n, int64_t oy, int64_t ox_a,
                       int64_t ox_b, std::vector<uint8_t>& buf, std::vector<int64_t>& off) const {
    const int64_t cols = (ox_b - ox_a - 1) * g.sw + (kw_ - 1) * g.dw + 1;
    const int64_t col0 = ox_a * g.sw - g.left;  // X column of strip column 0
    buf.resize(static_cast<size_t>(kh_ * cols * c_));
    const uint8_t* xs = static_cast<const uint8_t*>(x.raw());
    const auto zp = static_cast<uint8_t>(p_.x_zp);
    const int64_t in0 = std::clamp<int64_t>(-col0, 0, cols), in1 = std::clamp<int64_t>(g.w - col0, in0, cols);
    for (int64_t i = 0; i < kh_; ++i) {
      uint8_t* d = buf.data() + i * cols * c_;
      const int64_t ih = oy * g.sh - g.top + i * g.dh;
      if (ih < 0 || ih >= g.h) {
        std::memset(d, zp, static_cast<size_t>(cols * c_));
        continue;
      }
      std::memset(d, zp, static_cast<size_t>(in0 * c_));
      std::memcpy(d + in0 * c_, xs + ((n * g.h + ih) * g.w + col0 + in0) * c_,
                  static_cast<size_t>((in1 - in0) * c_));
      std::memset(d + in1 * c_, zp, static_cast<size_t>((cols - in1) * c_));
    }
    off = TapOffsets(kh_ * kw_, kw_, cols * c_, g.dw * c_);
    return buf.data();
  }

  // Output row oy of image n: accumulators of every block, then the output stage
  // into Y / Yq (NHWC directly, NCHW through per-thread row buffers).
  void OutputRow(const RunGeometry& g, const Tensor& x, int64_t n, int64_t oy, Tensor* y, const Tensor* z,
                 Tensor* yq) const {
    thread_local std::vector<int32_t> acc;
    thread_local std::vector<float> y_row, z_row;
    thread_local std::vector<uint8_t> q_row;
    const size_t row = static_cast<size_t>(g.ow * c_);
    const int64_t first = (n * g.oh + oy) * g.ow;  // first NHWC row (pixel) of this output row
    // Y NHWC alone: the stage runs on the sums in registers.
    const bool direct = y && layouts_.y == Layout::kNhwc && !z && !yq;
    const dnnl_kernels::StageVectors stage = dnnl_kernels::MakeStageVectors(p_.stage);
    const size_t y_elem = DataTypeSize(p_.stage.dtype);
    if (!direct && acc.size() < static_cast<size_t>(g.ow * cp_)) acc.resize(static_cast<size_t>(g.ow * cp_));
    const BlockRowFn fn = rows_[static_cast<size_t>(direct ? StageSink(p_.stage.dtype) : Sink::kAcc)];
    // Output pixels [ox_a, ox_b), pixel ox_a's window at `in`, taps at `off`.
    const auto blocks = [&](const uint8_t* in, const int64_t* off, int64_t ox_a, int64_t ox_b) {
      if (ox_b <= ox_a) return;
      BlockArgs a;
      a.in = in;
      a.in_step = g.sw * cp_;
      a.off = off;
      a.pairs = pairs_;
      a.ow = ox_b - ox_a;
      a.y_step = c_;
      a.stage = &stage;
      a.acc_step = cp_;
      for (int64_t b = 0; b < cp_ / kBlock; ++b) {
        const int64_t c0 = b * kBlock;
        a.w = reinterpret_cast<const __m256i*>(packed_.data()) + b * pairs_ * 2;
        if (direct) {
          a.y = static_cast<uint8_t*>(y->raw()) + static_cast<size_t>((first + ox_a) * c_ + c0) * y_elem;
          a.valid = std::min(kBlock, c_ - c0);
          a.corr = corr_.data() + c0;
          a.mult = mult_.data() + c0;
        } else {
          a.acc = acc.data() + ox_a * cp_ + c0;
        }
        fn(a);
        a.in += kBlock;
      }
    };
    if (!g.from_x) {
      blocks(padded_.data() + (n * g.hp + oy * g.sh) * g.wp * cp_, g.off.data(), 0, g.ow);
    } else {
      const int64_t ih0 = oy * g.sh - g.top;
      const bool rows_inside = ih0 >= 0 && ih0 + (kh_ - 1) * g.dh < g.h;
      const int64_t lo = rows_inside ? g.ox_lo : g.ow, hi = rows_inside ? g.ox_hi : g.ow;
      const auto strip = [&](int64_t ox_a, int64_t ox_b) {
        thread_local std::vector<uint8_t> buf;
        thread_local std::vector<int64_t> off;
        if (ox_b <= ox_a) return;
        const uint8_t* in = Strip(g, x, n, oy, ox_a, ox_b, buf, off);  // before off.data(): it sets off
        blocks(in, off.data(), ox_a, ox_b);
      };
      strip(0, std::min(lo, g.ow));
      const uint8_t* xs = static_cast<const uint8_t*>(x.raw());
      if (hi > lo) blocks(xs + ((n * g.h + ih0) * g.w + lo * g.sw - g.left) * c_, g.off_x.data(), lo, hi);
      strip(std::max(lo, hi), g.ow);
    }
    if (direct) return;
    void* y_out = nullptr;
    if (y && layouts_.y == Layout::kNhwc) {
      y_out = static_cast<uint8_t*>(y->raw()) + static_cast<size_t>(first * c_) * y_elem;
    } else if (y) {
      if (y_row.size() < row) y_row.resize(row);
      y_out = y_row.data();
    }
    dnnl_kernels::Residual res{nullptr, act_, {}};
    if (z && layouts_.z == Layout::kNhwc) {
      res.z = z->data<float>() + first * c_;
    } else if (z) {
      if (z_row.size() < row) z_row.resize(row);
      GatherRow(z->data<float>(), c_, g.oh, g.ow, n, oy, z_row.data());
      res.z = z_row.data();
    }
    if (yq) {
      res.copy = *copy_;
      res.copy.discard_y = !y;
      if (layouts_.yq == Layout::kNhwc) {
        res.copy.q = static_cast<uint8_t*>(yq->raw()) + first * c_;
      } else {
        if (q_row.size() < row) q_row.resize(row);
        res.copy.q = q_row.data();
      }
    }
    dnnl_kernels::ApplyOutputStageSerial(p_.stage, p_.mult, acc.data(), cp_, corr_.data(), 1, g.ow, c_, y_out,
                                         res);
    if (y && layouts_.y != Layout::kNhwc) ScatterBytes(y_out, y_elem, c_, g.oh, g.ow, n, oy, y->raw());
    if (yq && layouts_.yq != Layout::kNhwc) ScatterBytes(q_row.data(), 1, c_, g.oh, g.ow, n, oy, yq->raw());
  }

  ref::WindowParams params_;
  DataType x_type_;
  Int8Params p_;
  ref::ResidualActivation act_;
  std::optional<QuantizedCopy> copy_;  // output Yq's parameters (q unset)
  bool y_needed_;                      // false: output 0 is absent (""), only Yq is computed
  int64_t c_ = 0, kh_ = 0, kw_ = 0, cp_ = 0;
  int pairs_ = 0;
  std::vector<int16_t> packed_;  // [cp / 16][pairs][2][16]
  std::vector<int32_t> corr_;    // [cp]: B[c] - x_zp * sum_t w[c, t] (0 for c >= C)
  std::vector<float> mult_;      // [cp]: the stage's multipliers (0 for c >= C)
  SinkRows rows_{};
  dnnl_kernels::Int8ConvLayouts layouts_;
  std::vector<uint8_t> padded_;
  std::mutex mu_;
};

bool SupportsInt8Depthwise(const OpContext& ctx) {
  if (!DepthwiseEnabled() || !dnnl_kernels::Int8ConvOperandsSupported(ctx)) return false;
  const Tensor& w = *ctx.constant(kW);
  const int64_t group = ctx.node.attrs.GetInt("group", 1);
  if (group != w.dim(0) || w.dim(1) != 1 || group < 1) return false;
  const Shape& x = ctx.inputs[kX].shape;
  if (x[1] >= 0 && x[1] != group) return false;
  auto params = dnnl_kernels::ReadInt8ConvWindow(ctx);
  if (!params.ok() || params->kernel.size() != 2 || params->kernel[0] != w.dim(2) ||
      params->kernel[1] != w.dim(3)) {
    return false;
  }
  return true;
}

Result<std::unique_ptr<Kernel>> CreateInt8Depthwise(const OpContext& ctx) {
  QCAL_ASSIGN_OR_RETURN(ref::WindowParams params, dnnl_kernels::ReadInt8ConvWindow(ctx));
  QCAL_ASSIGN_OR_RETURN(Int8Params p, dnnl_kernels::ReadInt8Params(ctx, ctx.constant(kW)->dim(0), kBias));
  QCAL_ASSIGN_OR_RETURN(ref::ResidualActivation act, ref::ReadResidualActivation(ctx.node));
  std::optional<QuantizedCopy> copy;
  if (ctx.node.outputs.size() > 1) {
    QCAL_ASSIGN_OR_RETURN(copy, dnnl_kernels::ReadQuantizedCopy(ctx));
  }
  return std::unique_ptr<Kernel>(std::make_unique<X86Int8Depthwise>(
      std::move(params), ctx.inputs[kX].dtype, std::move(p), act, copy, !ctx.node.outputs[0].empty()));
}

}  // namespace

QCAL_REGISTER_KERNEL("QcalQConv", kProvider, kDepthwisePriority, SupportsInt8Depthwise, CreateInt8Depthwise);
QCAL_REGISTER_KERNEL("QLinearConv", kProvider, kDepthwisePriority, SupportsInt8Depthwise,
                     CreateInt8Depthwise);

}  // namespace qcal::x86
