// MatMulInteger: Y = (A - a_zero_point) @ (B - b_zero_point), int32 output.
//
// A, B: int8 or uint8 (independently), numpy matmul shapes (N-D batched).
// a_zero_point: optional, A's type; scalar, 1-D [M] (per row) or N-D [..., M, 1].
// b_zero_point: optional, B's type; scalar, 1-D [N] (per column) or N-D [..., 1, N].
#include "kernels/ref/int_matmul.h"
#include "kernels/ref/quant_common.h"

namespace qcal::ref {
namespace {

Status CheckZeroPoint(const OpContext& ctx, size_t zp_idx, size_t x_idx, const char* name) {
  if (!ctx.has_input(zp_idx)) return Status::Ok();
  if (ctx.inputs[zp_idx].dtype != ctx.inputs[x_idx].dtype) {
    return InvalidArgument(
        std::string(name) + " has type " + std::string(DataTypeName(ctx.inputs[zp_idx].dtype)) +
        ", expected its input's type " + std::string(DataTypeName(ctx.inputs[x_idx].dtype)));
  }
  return Status::Ok();
}

Status InferMatMulInteger(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 0, {DataType::kInt8, DataType::kUint8}));
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 1, {DataType::kInt8, DataType::kUint8}));
  QCAL_RETURN_IF_ERROR(CheckZeroPoint(ctx, 2, 0, "a_zero_point"));
  QCAL_RETURN_IF_ERROR(CheckZeroPoint(ctx, 3, 1, "b_zero_point"));
  const Shape& a = ctx.inputs[0].shape;
  const Shape& b = ctx.inputs[1].shape;
  // N-D zero points ([..., M, 1] / [..., 1, N]) are checked at run time.
  if (a.size() >= 2 && ctx.has_input(2) && ctx.inputs[2].shape.size() <= 1) {
    QCAL_RETURN_IF_ERROR(CheckVectorParam(ctx, 2, "a_zero_point", a[a.size() - 2], "rows of A",
                                          {DataType::kInt8, DataType::kUint8}));
  }
  if (b.size() >= 2 && ctx.has_input(3) && ctx.inputs[3].shape.size() <= 1) {
    QCAL_RETURN_IF_ERROR(CheckVectorParam(ctx, 3, "b_zero_point", b.back(), "columns of B",
                                          {DataType::kInt8, DataType::kUint8}));
  }
  QCAL_ASSIGN_OR_RETURN(Shape out, MatMulOutputShape(a, b));
  outputs[0] = TensorType{DataType::kInt32, out};
  return Status::Ok();
}

Status RunMatMulInteger(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& a = *in[0];
  const Tensor& b = *in[1];
  QCAL_ASSIGN_OR_RETURN(IntMatMulProblem p, MakeIntMatMulProblem(a.shape(), b.shape()));
  QCAL_ASSIGN_OR_RETURN(
      auto ac, CenteredInt32(a, p.a_shape, OptionalInput(in, 2), VectorAlong::kRows, "a_zero_point"));
  QCAL_ASSIGN_OR_RETURN(
      auto bc, CenteredInt32(b, p.b_shape, OptionalInput(in, 3), VectorAlong::kCols, "b_zero_point"));
  std::vector<int32_t> acc = IntMatMul(p, ac, bc);
  Tensor& y = PrepareOutput(out, 0, DataType::kInt32, p.out_shape);
  std::copy(acc.begin(), acc.end(), y.data<int32_t>());
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateMatMulInteger(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunMatMulInteger);
}

}  // namespace

QCAL_REGISTER_OP("MatMulInteger", InferMatMulInteger, 2, 4, 1, 1);
QCAL_REGISTER_KERNEL("MatMulInteger", "ref", 0, nullptr, CreateMatMulInteger);

}  // namespace qcal::ref
