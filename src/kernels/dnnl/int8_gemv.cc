// Quantized matrix-vector products (QcalQMatMul / QLinearMatMul with at most
// kMaxRows rows of A, e.g. a classifier at batch 1) on qcal's own AVX2 loop,
// registered in the dnnl provider above the oneDNN matmul (int8_matmul.cc): a
// GEMV is bound by reading B, and oneDNN 2.6 either computes it slowly (AVX2
// int8) or, as its exact-float mode did, streams 4-byte weights instead of 1.
//
// Exact integer math, bit-identical to the reference:
//   acc[r, n] = sum_k (a[r, k] - a_zp) * b[k, n]      (then + B[n] in the output stage)
// (a - a_zp) fits int16 and |(a - a_zp) * b| <= 255 * 128, so _mm256_madd_epi16
// on pairs of k (8 columns x 2 k per register) is exact; the int32 sums wrap
// like the reference's. B is packed once into blocks of 8 columns:
// [N / 8][K / 2][8 columns][2 k] int8 (zero padded), sign-extended to int16 as
// it is read. The accumulators then go through the int8 output stage
// (ApplyOutputStageRows, int8_common.h) with the bias as the correction.
#include <immintrin.h>

#include <mutex>

#include "kernels/dnnl/int8_common.h"
#include "kernels/ref/common.h"
#include "kernels/threads.h"

namespace qcal::dnnl_kernels {
namespace {

enum Input { kA = 0, kAScale, kAZp, kB, kBScale, kBZp, kYScale, kYZp, kBias };

constexpr int64_t kMaxRows = 4;
constexpr int64_t kBlock = 8;  // columns per block

class Int8Gemv final : public Kernel {
 public:
  Int8Gemv(bool trans_b, Int8Params p) : p_(std::move(p)) {
    const Shape& b = p_.w.shape();
    k_ = trans_b ? b[1] : b[0];
    n_ = trans_b ? b[0] : b[1];
    pairs_ = (k_ + 1) / 2;
    blocks_ = (n_ + kBlock - 1) / kBlock;
    Pack(trans_b);
  }

  bool WritesAllOutputs() const override { return true; }

  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    const Tensor& a = *in[kA];
    if (a.rank() < 2 || a.dim(a.rank() - 1) != k_) {
      return InvalidArgument("A has shape " + ShapeToString(a.shape()) + ", expected [.., " +
                             std::to_string(k_) + "]");
    }
    const int64_t rows = a.numel() / k_;
    if (rows > kMaxRows) return Internal("int8 GEMV: more rows than it was chosen for");
    std::lock_guard<std::mutex> lock(mu_);
    ApplyThreads();
    Shape ys = a.shape();
    ys.back() = n_;
    Tensor& y = ref::PrepareOutput(out, 0, p_.stage.dtype, ys);
    acc_.resize(static_cast<size_t>(rows * blocks_ * kBlock));
    for (int64_t r = 0; r < rows; ++r) {
      if (a.dtype() == DataType::kUint8) {
        Pairs(a.data<uint8_t>() + r * k_);
      } else {
        Pairs(a.data<int8_t>() + r * k_);
      }
      Products(acc_.data() + r * blocks_ * kBlock);
    }
    // Rows of the padded width are contiguous per row: compact them to N columns.
    for (int64_t r = 1; r < rows && n_ % kBlock != 0; ++r) {
      std::copy_n(acc_.begin() + r * blocks_ * kBlock, n_, acc_.begin() + r * n_);
    }
    ApplyOutputStageRows(p_.stage, p_.mult, Accumulators{acc_.data(), nullptr, false}, p_.bias.data(), 1,
                         rows, n_, y.raw());
    return Status::Ok();
  }

 private:
  // B [K, N] (or [N, K] when trans_b) into packed_ ([blocks][pairs][8][2] int8, zero padded).
  void Pack(bool trans_b) {
    packed_.assign(static_cast<size_t>(blocks_ * pairs_ * kBlock * 2), 0);
    const int8_t* w = p_.w.data<int8_t>();
    for (int64_t kk = 0; kk < k_; ++kk) {
      for (int64_t n = 0; n < n_; ++n) {
        const int64_t at = ((n / kBlock * pairs_ + kk / 2) * kBlock + n % kBlock) * 2 + kk % 2;
        packed_[static_cast<size_t>(at)] = w[trans_b ? n * k_ + kk : kk * n_ + n];
      }
    }
  }

  // (a[k] - a_zp) as int16 pairs (k even in the low half) in one int32 each.
  template <typename T>
  void Pairs(const T* a) {
    pairs_a_.assign(static_cast<size_t>(pairs_), 0);
    for (int64_t kk = 0; kk < k_; ++kk) {
      const auto v = static_cast<uint16_t>(static_cast<int16_t>(int32_t{a[kk]} - p_.x_zp));
      pairs_a_[static_cast<size_t>(kk / 2)] |= static_cast<uint32_t>(v) << (16 * (kk % 2));
    }
  }

  // acc[n] for every padded column n of one row.
  void Products(int32_t* acc) const {
    const bool parallel = blocks_ * pairs_ >= (1 << 14);
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t b = 0; b < blocks_; ++b) BlockProducts(b, acc + b * kBlock);
  }

  __attribute__((target("avx2"))) void BlockProducts(int64_t block, int32_t* acc) const {
    const int8_t* w = packed_.data() + block * pairs_ * kBlock * 2;
    __m256i sum0 = _mm256_setzero_si256(), sum1 = _mm256_setzero_si256();
    int64_t i = 0;
    for (; i + 2 <= pairs_; i += 2) {  // two independent chains
      const __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i * 16)));
      const __m256i b1 =
          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + (i + 1) * 16)));
      const auto a0 = static_cast<int32_t>(pairs_a_[static_cast<size_t>(i)]);
      const auto a1 = static_cast<int32_t>(pairs_a_[static_cast<size_t>(i + 1)]);
      sum0 = _mm256_add_epi32(sum0, _mm256_madd_epi16(b0, _mm256_set1_epi32(a0)));
      sum1 = _mm256_add_epi32(sum1, _mm256_madd_epi16(b1, _mm256_set1_epi32(a1)));
    }
    if (i < pairs_) {
      const __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i * 16)));
      const auto a0 = static_cast<int32_t>(pairs_a_[static_cast<size_t>(i)]);
      sum0 = _mm256_add_epi32(sum0, _mm256_madd_epi16(b0, _mm256_set1_epi32(a0)));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc), _mm256_add_epi32(sum0, sum1));
  }

  Int8Params p_;
  int64_t k_ = 0, n_ = 0, pairs_ = 0, blocks_ = 0;
  std::vector<int8_t> packed_;
  std::vector<uint32_t> pairs_a_;
  std::vector<int32_t> acc_;  // [rows][blocks * 8], compacted to [rows][N] before the stage
  std::mutex mu_;
};

bool TransB(const OpContext& ctx) {
  return ctx.node.op_type == "QcalQMatMul" && ctx.node.attrs.GetInt("trans_b", 0) != 0;
}

bool SupportsInt8Gemv(const OpContext& ctx) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (!avx2 || !Int8MatMulOperandsSupported(ctx)) return false;
  const Shape& a = ctx.inputs[kA].shape;
  return ShapeIsStatic(a) && a.back() > 0 && NumElements(a) / a.back() <= kMaxRows;
}

Result<std::unique_ptr<Kernel>> CreateInt8Gemv(const OpContext& ctx) {
  const bool trans_b = TransB(ctx);
  const Shape& b = ctx.constant(kB)->shape();
  QCAL_ASSIGN_OR_RETURN(Int8Params p, ReadInt8Params(ctx, trans_b ? b[0] : b[1],
                                                     ctx.node.op_type == "QcalQMatMul" ? kBias : -1));
  return std::unique_ptr<Kernel>(std::make_unique<Int8Gemv>(trans_b, std::move(p)));
}

}  // namespace

QCAL_REGISTER_KERNEL("QcalQMatMul", kProvider, kPriority + 1, SupportsInt8Gemv, CreateInt8Gemv);
QCAL_REGISTER_KERNEL("QLinearMatMul", kProvider, kPriority + 1, SupportsInt8Gemv, CreateInt8Gemv);

}  // namespace qcal::dnnl_kernels
