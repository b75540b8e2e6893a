// QcalQMatMul (qcal-internal, made by the FuseQuantizedOps pass from quantized
// MatMul / Gemm layers): a quantized product with constant-shaped 2-D weights,
// optional bias and activation, and a requantized int8/uint8 or float32 output:
//
//   acc[.., r, n] = sum_k (a[.., r, k] - a_zp) * (b[k, n] - b_zp[n]) + B[n]   int32
//   y[.., r, n]   = output stage of acc for channel n                        (see quant_output.h)
//
// Inputs: a, a_scale, a_zero_point, b, b_scale, [b_zero_point], [y_scale,
// y_zero_point], [B]. a: int8/uint8, rank >= 2 [.., K]; b: int8/uint8 2-D
// [K, N], or [N, K] with attribute trans_b = 1 (Gemm's transB); a_scale /
// a_zero_point per-tensor; b_scale / b_zero_point per-tensor or [N]; y_scale /
// y_zero_point per-tensor, both given or both empty (float32 output); B int32 [N].
// Attributes: trans_b (default 0), optional floats activation_min / activation_max.
#include "kernels/ref/int_matmul.h"
#include "kernels/ref/quant_common.h"
#include "kernels/ref/quant_output.h"

namespace qcal::ref {
namespace {

enum Input { kA = 0, kAScale, kAZp, kB, kBScale, kBZp, kYScale, kYZp, kBias };

// [K, N] from b as stored ([K, N], or [N, K] when transposed).
Tensor BAsKN(const Tensor& b, bool trans_b) {
  if (!trans_b) return b;
  const int64_t n = b.dim(0), k = b.dim(1);
  Tensor t(b.dtype(), {k, n});
  const auto* src = static_cast<const uint8_t*>(b.raw());
  auto* dst = static_cast<uint8_t*>(t.raw());
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < k; ++j) dst[j * n + i] = src[i * k + j];
  }
  return t;
}

Status InferQcalQMatMul(const OpContext& ctx, std::vector<TensorType>& outputs) {
  const std::initializer_list<DataType> q = {DataType::kInt8, DataType::kUint8};
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, kA, q));
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, kB, q));
  const Shape& a = ctx.inputs[kA].shape;
  const Shape& b = ctx.inputs[kB].shape;
  if (a.size() < 2 || b.size() != 2) {
    return InvalidArgument("a must have rank >= 2 and b rank 2, got " + ShapeToString(a) + " and " +
                           ShapeToString(b));
  }
  const bool trans_b = ctx.node.attrs.GetInt("trans_b", 0) != 0;
  const int64_t k = trans_b ? b[1] : b[0], n = trans_b ? b[0] : b[1];
  if (a.back() >= 0 && k >= 0 && a.back() != k) {
    return InvalidArgument("inner dims differ: a " + ShapeToString(a) + ", b " + ShapeToString(b) +
                           (trans_b ? " (transposed)" : ""));
  }
  QCAL_RETURN_IF_ERROR(CheckPerTensorParam(ctx, kAScale, "a_scale", {DataType::kFloat32}));
  QCAL_RETURN_IF_ERROR(CheckPerTensorParam(ctx, kAZp, "a_zero_point", {ctx.inputs[kA].dtype}));
  QCAL_RETURN_IF_ERROR(CheckVectorParam(ctx, kBScale, "b_scale", n, "output columns", {DataType::kFloat32}));
  QCAL_RETURN_IF_ERROR(
      CheckVectorParam(ctx, kBZp, "b_zero_point", n, "output columns", {ctx.inputs[kB].dtype}));
  QCAL_ASSIGN_OR_RETURN(DataType out, InferOutputStageType(ctx, kYScale, kYZp));
  if (ctx.has_input(kBias)) {
    QCAL_RETURN_IF_ERROR(CheckVectorParam(ctx, kBias, "B", n, "output columns", {DataType::kInt32}));
  }
  Shape y(a.begin(), a.end() - 1);
  y.push_back(n);
  outputs[0] = TensorType{out, y};
  return Status::Ok();
}

Status RunQcalQMatMul(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& a = *in[kA];
  const Tensor* bias = OptionalInput(in, kBias);
  if (a.rank() < 2 || in[kB]->rank() != 2) return InvalidArgument("a must have rank >= 2 and b rank 2");
  const Tensor b = BAsKN(*in[kB], node.attrs.GetInt("trans_b", 0) != 0);
  QCAL_ASSIGN_OR_RETURN(IntMatMulProblem p, MakeIntMatMulProblem(a.shape(), b.shape()));
  QCAL_ASSIGN_OR_RETURN(auto a_scale, ReadScales(*in[kAScale], 1, "a_scale"));
  QCAL_ASSIGN_OR_RETURN(auto b_scale, ReadScales(*in[kBScale], p.n, "b_scale"));
  QCAL_ASSIGN_OR_RETURN(
      OutputStage stage,
      MakeOutputStage(node, a_scale[0], b_scale, OptionalInput(in, kYScale), OptionalInput(in, kYZp), p.n));
  if (bias && (bias->dtype() != DataType::kInt32 || bias->numel() != p.n)) {
    return InvalidArgument("bias B must be int32 with " + std::to_string(p.n) + " elements");
  }
  QCAL_ASSIGN_OR_RETURN(auto ac, CenteredInt32(a, p.a_shape, in[kAZp], VectorAlong::kRows, "a_zero_point"));
  QCAL_ASSIGN_OR_RETURN(auto bc, CenteredInt32(b, p.b_shape, in[kBZp], VectorAlong::kCols, "b_zero_point"));
  const std::vector<int32_t> acc = IntMatMul(p, ac, bc);
  Tensor& y = PrepareOutput(out, 0, stage.dtype, p.out_shape);
  ApplyOutputStage(stage, acc, bias ? bias->data<int32_t>() : nullptr, NumElements(p.out_shape) / p.n, p.n, 1,
                   y);
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateQcalQMatMul(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunQcalQMatMul);
}

}  // namespace

QCAL_REGISTER_OP("QcalQMatMul", InferQcalQMatMul, 5, 9, 1, 1);
QCAL_REGISTER_KERNEL("QcalQMatMul", "ref", 0, nullptr, CreateQcalQMatMul);

}  // namespace qcal::ref
