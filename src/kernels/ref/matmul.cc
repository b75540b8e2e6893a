// MatMul with numpy semantics: float32, int32, int64.
// A 1-D A [K] is treated as [1, K] and a 1-D B [K] as [K, 1]; the added dim is
// removed from the result. Leading (batch) dims broadcast numpy-style:
//   Y[b..., i, j] = sum_p A[b..., i, p] * B[b..., p, j]
#include <algorithm>

#include "kernels/ref/common.h"
#include "kernels/ref/gemm_core.h"

namespace qcal::ref {
namespace {

struct MatMulDims {
  Shape batch;  // broadcast batch dims
  Shape a_batch, b_batch;
  int64_t m = -1, k = -1, n = -1;
  Shape out;
};

Result<MatMulDims> ResolveMatMul(const Shape& a_in, const Shape& b_in) {
  if (a_in.empty() || b_in.empty()) {
    return InvalidArgument("MatMul needs inputs of rank >= 1, got " + ShapeToString(a_in) + " and " +
                           ShapeToString(b_in));
  }
  Shape a = a_in.size() == 1 ? Shape{1, a_in[0]} : a_in;
  Shape b = b_in.size() == 1 ? Shape{b_in[0], 1} : b_in;
  MatMulDims d;
  d.m = a[a.size() - 2];
  d.k = a.back();
  d.n = b.back();
  const int64_t kb = b[b.size() - 2];
  if (d.k >= 0 && kb >= 0 && d.k != kb) {
    return InvalidArgument("inner dims differ: A " + ShapeToString(a_in) + ", B " + ShapeToString(b_in));
  }
  if (d.k < 0) d.k = kb;
  d.a_batch.assign(a.begin(), a.end() - 2);
  d.b_batch.assign(b.begin(), b.end() - 2);
  QCAL_ASSIGN_OR_RETURN(d.batch, BroadcastShapes(d.a_batch, d.b_batch, "MatMul batch dims"));
  d.out = d.batch;
  if (a_in.size() > 1) d.out.push_back(d.m);
  if (b_in.size() > 1) d.out.push_back(d.n);
  return d;
}

Status InferMatMul(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 0, {DataType::kFloat32, DataType::kInt32, DataType::kInt64}));
  if (ctx.inputs[1].dtype != ctx.inputs[0].dtype) {
    return InvalidArgument("A is " + std::string(DataTypeName(ctx.inputs[0].dtype)) + " but B is " +
                           std::string(DataTypeName(ctx.inputs[1].dtype)));
  }
  QCAL_ASSIGN_OR_RETURN(MatMulDims d, ResolveMatMul(ctx.inputs[0].shape, ctx.inputs[1].shape));
  outputs[0] = {ctx.inputs[0].dtype, d.out};
  return Status::Ok();
}

template <typename T>
void MatMulBatched(const MatMulDims& d, const T* a, const T* b, T* y) {
  // Walk the broadcast batch index; batch strides are in matrices (0 where broadcast).
  const std::vector<int64_t> a_strides = BroadcastStrides(d.a_batch, d.batch.size());
  const std::vector<int64_t> b_strides = BroadcastStrides(d.b_batch, d.batch.size());
  const int64_t batches = NumElements(d.batch);
  std::vector<int64_t> idx(d.batch.size(), 0);
  for (int64_t t = 0; t < batches; ++t) {
    int64_t ai = 0, bi = 0;
    for (size_t i = 0; i < idx.size(); ++i) {
      ai += idx[i] * a_strides[i];
      bi += idx[i] * b_strides[i];
    }
    T* y_mat = y + t * d.m * d.n;
    std::fill(y_mat, y_mat + d.m * d.n, T(0));
    MatMulAccumulate(a + ai * d.m * d.k, b + bi * d.k * d.n, y_mat, d.m, d.k, d.n, false, false);
    for (size_t i = idx.size(); i-- > 0;) {  // next batch index, row-major
      if (++idx[i] < d.batch[i]) break;
      idx[i] = 0;
    }
  }
}

Status RunMatMul(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& a = *in[0];
  const Tensor& b = *in[1];
  QCAL_ASSIGN_OR_RETURN(MatMulDims d, ResolveMatMul(a.shape(), b.shape()));
  Tensor& y = PrepareOutput(out, 0, a.dtype(), d.out);
  switch (a.dtype()) {
    case DataType::kFloat32: MatMulBatched(d, a.data<float>(), b.data<float>(), y.data<float>()); break;
    case DataType::kInt32: MatMulBatched(d, a.data<int32_t>(), b.data<int32_t>(), y.data<int32_t>()); break;
    case DataType::kInt64: MatMulBatched(d, a.data<int64_t>(), b.data<int64_t>(), y.data<int64_t>()); break;
    default: return Unsupported("data type " + std::string(DataTypeName(a.dtype())) + " is not supported");
  }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateMatMul(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunMatMul); }

}  // namespace

QCAL_REGISTER_OP("MatMul", InferMatMul, 2, 2, 1, 1);
QCAL_REGISTER_KERNEL("MatMul", "ref", 0, nullptr, CreateMatMul);

}  // namespace qcal::ref
