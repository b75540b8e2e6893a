// DequantizeLinear, vectorized (provider "x86"): int8 / uint8 x (int32 x runs the
// scalar formula, parallelized), per-tensor or per-axis scale, float32 output.
// Bit-identical to the reference kernel (kernels/ref/dequantize_linear.cc):
// float(x - zero_point) * scale, the difference exact in int32 for 8-bit x.
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
void DequantizeScalar(const Q* x, int64_t n, float scale, int32_t zero_point, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = qmath::DequantizeValue<Q>(x[i], scale, zero_point);
}

template <typename Q>
__attribute__((target("avx2"))) void DequantizeAvx2(const Q* x, int64_t n, float scale, int32_t zero_point,
                                                    float* y) {
  const __m256 s = _mm256_set1_ps(scale);
  const __m256i zp = _mm256_set1_epi32(zero_point);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x + i));
    const __m256i q = std::is_same_v<Q, int8_t> ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q, zp)), s));
  }
  DequantizeScalar(x + i, n - i, scale, zero_point, y + i);
}

Status RunDequantizeLinear(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  QCAL_ASSIGN_OR_RETURN(ref::LinearQuantArgs args, ref::ReadDequantizeArgs(node, in));
  Tensor& y = ref::PrepareOutput(out, 0, DataType::kFloat32, x.shape());
  const bool avx2 = HasAvx2();
  auto run = [&]<typename Q>() {
    const Q* src = x.data<Q>();
    float* dst = y.data<float>();
    ForEachRowPiece(args.split.outer * args.split.channels, args.split.inner,
                    [&](int64_t row, int64_t begin, int64_t end) {
                      const int64_t c = row % args.split.channels;
                      DequantizeRow<Q>(src + begin, end - begin, ref::ParamAt(args.scales, c),
                                       ref::ParamAt(args.zero_points, c), dst + begin, avx2);
                    });
  };
  if (x.dtype() == DataType::kInt32) {
    run.template operator()<int32_t>();
    return Status::Ok();
  }
  return qmath::DispatchQuantType(x.dtype(), node.Describe(), run);
}

bool SupportsDequantizeLinear(const OpContext& ctx) {
  if (!ctx.has_input(0)) return false;
  const DataType t = ctx.inputs[0].dtype;
  return t == DataType::kInt8 || t == DataType::kUint8 || t == DataType::kInt32;
}

Result<std::unique_ptr<Kernel>> CreateDequantizeLinear(const OpContext& ctx) {
  return std::unique_ptr<Kernel>(std::make_unique<FullWriteKernel>(ctx.node, RunDequantizeLinear));
}

}  // namespace

template <typename Q>
void DequantizeRow(const Q* x, int64_t n, float scale, int32_t zero_point, float* y, bool avx2) {
  if constexpr (!std::is_same_v<Q, int32_t>) {
    if (avx2) return DequantizeAvx2(x, n, scale, zero_point, y);
  }
  DequantizeScalar(x, n, scale, zero_point, y);
}
template void DequantizeRow<int8_t>(const int8_t*, int64_t, float, int32_t, float*, bool);
template void DequantizeRow<uint8_t>(const uint8_t*, int64_t, float, int32_t, float*, bool);
template void DequantizeRow<int32_t>(const int32_t*, int64_t, float, int32_t, float*, bool);

QCAL_REGISTER_KERNEL("DequantizeLinear", kProvider, kPriority, SupportsDequantizeLinear,
                     CreateDequantizeLinear);

}  // namespace qcal::x86
