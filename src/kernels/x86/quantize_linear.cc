// QuantizeLinear, vectorized (provider "x86"): float32 x, per-tensor or per-axis
// scale, int8 / uint8 output. Bit-identical to the reference kernel
// (kernels/ref/quantize_linear.cc): the same IEEE division x / scale, round
// half to even (vroundps in nearest mode), + zero point, clamp, NaN -> zero point.
#include <immintrin.h>

#include <type_traits>

#include "kernels/ref/quant_common.h"
#include "kernels/ref/quant_math.h"
#include "kernels/x86/parallel_rows.h"
#include "kernels/x86/qdq_rows.h"
#include "kernels/x86/x86_common.h"

namespace qcal::x86 {
namespace {

template <typename Q>
void QuantizeScalar(const float* x, int64_t n, float scale, int32_t zero_point, Q* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = qmath::QuantizeValue<Q>(x[i], scale, zero_point);
}

// Eight integral floats within Q's range -> eight Q values.
template <typename Q>
__attribute__((target("avx2"))) inline void Store8(__m256 v, Q* y) {
  const __m256i i32 = _mm256_cvtps_epi32(v);
  const __m128i i16 = _mm_packs_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
  const __m128i i8 = std::is_same_v<Q, int8_t> ? _mm_packs_epi16(i16, i16) : _mm_packus_epi16(i16, i16);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(y), i8);
}

template <typename Q>
__attribute__((target("avx2"))) void QuantizeAvx2(const float* x, int64_t n, float scale, int32_t zero_point,
                                                  Q* y) {
  const __m256 s = _mm256_set1_ps(scale);
  const __m256 zp = _mm256_set1_ps(static_cast<float>(zero_point));
  const __m256 lo = _mm256_set1_ps(static_cast<float>(qmath::QMin<Q>()));
  const __m256 hi = _mm256_set1_ps(static_cast<float>(qmath::QMax<Q>()));
  const __m256 nan_value = _mm256_set1_ps(static_cast<float>(qmath::Saturate<Q>(zero_point)));
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_div_ps(_mm256_loadu_ps(x + i), s);
    v = _mm256_add_ps(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zp);
    const __m256 is_nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    v = _mm256_min_ps(hi, _mm256_max_ps(lo, v));  // max_ps / min_ps return the NaN operand (the second)
    Store8(_mm256_blendv_ps(v, nan_value, is_nan), y + i);
  }
  QuantizeScalar(x + i, n - i, scale, zero_point, y + i);
}

Status RunQuantizeLinear(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  QCAL_ASSIGN_OR_RETURN(ref::LinearQuantArgs args, ref::ReadQuantizeArgs(node, in));
  Tensor& y = ref::PrepareOutput(out, 0, args.q_type, x.shape());
  const bool avx2 = HasAvx2();
  return qmath::DispatchQuantType(args.q_type, node.Describe(), [&]<typename Q>() {
    const float* src = x.data<float>();
    Q* dst = y.data<Q>();
    ForEachRowPiece(args.split.outer * args.split.channels, args.split.inner,
                    [&](int64_t row, int64_t begin, int64_t end) {
                      const int64_t c = row % args.split.channels;
                      QuantizeRow<Q>(src + begin, end - begin, ref::ParamAt(args.scales, c),
                                     ref::ParamAt(args.zero_points, c), dst + begin, avx2);
                    });
  });
}

bool SupportsQuantizeLinear(const OpContext& ctx) {
  return ctx.has_input(0) && ctx.inputs[0].dtype == DataType::kFloat32;
}

// A per-tensor QuantizeLinear is elementwise, so it may read a float NHWC X and
// write Y in the same order (the int8 kernels' NHWC); X and Y share their layout.
class QuantizeKernel final : public FullWriteKernel {
 public:
  QuantizeKernel(const Node& node, bool per_tensor)
      : FullWriteKernel(node, RunQuantizeLinear), per_tensor_(per_tensor) {}
  bool AcceptsFloatNhwc(size_t input) const override { return per_tensor_ && input == 0; }
  bool ProducesBlocked(size_t output) const override { return per_tensor_ && output == 0; }
  int LayoutTiedInput(size_t output) const override { return output == 0 ? 0 : -1; }
  Status SetLayouts(const std::vector<Layout>& in, const std::vector<Layout>& out) override {
    const Layout x = in.empty() ? Layout::kPlain : in[0], y = out.empty() ? Layout::kPlain : out[0];
    for (size_t i = 1; i < in.size(); ++i) {
      if (in[i] != Layout::kPlain) return Internal("QuantizeLinear: scale and zero point must be plain");
    }
    if (x != y || (x != Layout::kPlain && (x != Layout::kNhwc || !per_tensor_))) {
      return Internal("QuantizeLinear: X and Y must share a layout (NHWC only when per-tensor)");
    }
    return Status::Ok();
  }

 private:
  bool per_tensor_;
};

// A constant scalar (rank 0) input, or an absent one when `optional`.
bool ConstScalarInput(const OpContext& ctx, size_t i, bool optional) {
  if (!ctx.has_input(i)) return optional;
  const Tensor* t = ctx.constant(i);
  return t != nullptr && t->rank() == 0;
}

Result<std::unique_ptr<Kernel>> CreateQuantizeLinear(const OpContext& ctx) {
  const bool per_tensor = ConstScalarInput(ctx, 1, false) && ConstScalarInput(ctx, 2, true);
  return std::unique_ptr<Kernel>(std::make_unique<QuantizeKernel>(ctx.node, per_tensor));
}

}  // namespace

template <typename Q>
void QuantizeRow(const float* x, int64_t n, float scale, int32_t zero_point, Q* y, bool avx2) {
  if (avx2) {
    QuantizeAvx2(x, n, scale, zero_point, y);
  } else {
    QuantizeScalar(x, n, scale, zero_point, y);
  }
}
template void QuantizeRow<int8_t>(const float*, int64_t, float, int32_t, int8_t*, bool);
template void QuantizeRow<uint8_t>(const float*, int64_t, float, int32_t, uint8_t*, bool);

QCAL_REGISTER_KERNEL("QuantizeLinear", kProvider, kPriority, SupportsQuantizeLinear, CreateQuantizeLinear);

}  // namespace qcal::x86
