// QLinearMatMul: quantized matmul with requantized int8/uint8 output.
//
//   acc[b, m, n] = sum_k (a - a_zp) * (b - b_zp)                          (int32)
//   y[b, m, n]   = saturate(round_half_even(acc * (a_scale * b_scale / y_scale)) + y_zp)
//
// Inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point.
// a, b: int8 or uint8 (independently), numpy matmul shapes (N-D batched).
// a_scale/a_zero_point and y_scale/y_zero_point: per-tensor or 1-D [M] (per row);
// b_scale/b_zero_point: per-tensor or 1-D [N] (per column). Output dtype = y_zero_point's.
#include "kernels/ref/int_matmul.h"
#include "kernels/ref/quant_common.h"
#include "kernels/ref/quant_math.h"

namespace qcal::ref {
namespace {

enum Input { kA = 0, kAScale, kAZp, kB, kBScale, kBZp, kYScale, kYZp };

Status InferQLinearMatMul(const OpContext& ctx, std::vector<TensorType>& outputs) {
  const std::initializer_list<DataType> q = {DataType::kInt8, DataType::kUint8};
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, kA, q));
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, kB, q));
  const Shape& a = ctx.inputs[kA].shape;
  const Shape& b = ctx.inputs[kB].shape;
  int64_t rows = a.size() >= 2 ? a[a.size() - 2] : 1;
  int64_t cols = b.size() >= 2 ? b.back() : 1;
  QCAL_RETURN_IF_ERROR(CheckVectorParam(ctx, kAScale, "a_scale", rows, "rows of a", {DataType::kFloat32}));
  QCAL_RETURN_IF_ERROR(
      CheckVectorParam(ctx, kAZp, "a_zero_point", rows, "rows of a", {ctx.inputs[kA].dtype}));
  QCAL_RETURN_IF_ERROR(CheckVectorParam(ctx, kBScale, "b_scale", cols, "columns of b", {DataType::kFloat32}));
  QCAL_RETURN_IF_ERROR(
      CheckVectorParam(ctx, kBZp, "b_zero_point", cols, "columns of b", {ctx.inputs[kB].dtype}));
  QCAL_RETURN_IF_ERROR(CheckVectorParam(ctx, kYScale, "y_scale", rows, "rows of a", {DataType::kFloat32}));
  QCAL_RETURN_IF_ERROR(CheckVectorParam(ctx, kYZp, "y_zero_point", rows, "rows of a", q));
  QCAL_ASSIGN_OR_RETURN(Shape out, MatMulOutputShape(a, b));
  outputs[0] = TensorType{ctx.inputs[kYZp].dtype, out};
  return Status::Ok();
}

Status RunQLinearMatMul(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& a = *in[kA];
  const Tensor& b = *in[kB];
  const Tensor& y_zp = *in[kYZp];
  QCAL_ASSIGN_OR_RETURN(IntMatMulProblem p, MakeIntMatMulProblem(a.shape(), b.shape()));
  QCAL_ASSIGN_OR_RETURN(auto a_scale, ReadScales(*in[kAScale], p.m, "a_scale"));
  QCAL_ASSIGN_OR_RETURN(auto b_scale, ReadScales(*in[kBScale], p.n, "b_scale"));
  QCAL_ASSIGN_OR_RETURN(auto y_scale, ReadScales(*in[kYScale], p.m, "y_scale"));
  QCAL_ASSIGN_OR_RETURN(auto y_zps, ReadZeroPoints(&y_zp, p.m, "y_zero_point"));
  QCAL_ASSIGN_OR_RETURN(auto ac, CenteredInt32(a, p.a_shape, in[kAZp], VectorAlong::kRows, "a_zero_point"));
  QCAL_ASSIGN_OR_RETURN(auto bc, CenteredInt32(b, p.b_shape, in[kBZp], VectorAlong::kCols, "b_zero_point"));
  std::vector<int32_t> acc = IntMatMul(p, ac, bc);
  Tensor& y = PrepareOutput(out, 0, y_zp.dtype(), p.out_shape);
  return quant::DispatchQuantType(y_zp.dtype(), node.Describe(), [&]<typename Q>() {
    Q* dst = y.data<Q>();
    int64_t batches = NumElements(p.batch);
    for (int64_t bi = 0; bi < batches; ++bi) {
      for (int64_t m = 0; m < p.m; ++m) {
        for (int64_t n = 0; n < p.n; ++n) {
          float mult =
              quant::RequantMultiplier(ParamAt(a_scale, m), ParamAt(b_scale, n), ParamAt(y_scale, m));
          size_t i = static_cast<size_t>((bi * p.m + m) * p.n + n);
          dst[i] = quant::Requantize<Q>(acc[i], mult, ParamAt(y_zps, m));
        }
      }
    }
  });
}

Result<std::unique_ptr<Kernel>> CreateQLinearMatMul(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunQLinearMatMul);
}

}  // namespace

QCAL_REGISTER_OP("QLinearMatMul", InferQLinearMatMul, 8, 8, 1, 1);
QCAL_REGISTER_KERNEL("QLinearMatMul", "ref", 0, nullptr, CreateQLinearMatMul);

}  // namespace qcal::ref
