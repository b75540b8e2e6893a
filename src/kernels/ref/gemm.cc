// Gemm: Y = alpha * op(A) * op(B) + beta * C, float32.
// op(A) = A^T if transA else A (M x K); op(B) = B^T if transB else B (K x N);
// the optional C broadcasts unidirectionally to [M, N] (scalar, [N], [M, 1], [1, N], [M, N], ...).
#include <algorithm>

#include "kernels/ref/common.h"
#include "kernels/ref/gemm_core.h"

namespace qcal::ref {
namespace {

struct GemmDims {
  int64_t m = -1, k = -1, n = -1;
  bool trans_a = false, trans_b = false;
};

Result<GemmDims> ResolveGemm(const Node& node, const Shape& a, const Shape& b, const Shape* c) {
  if (a.size() != 2 || b.size() != 2) {
    return InvalidArgument("A " + ShapeToString(a) + " and B " + ShapeToString(b) + " must both be 2-D");
  }
  GemmDims d;
  d.trans_a = node.attrs.GetInt("transA", 0) != 0;
  d.trans_b = node.attrs.GetInt("transB", 0) != 0;
  d.m = d.trans_a ? a[1] : a[0];
  d.k = d.trans_a ? a[0] : a[1];
  const int64_t kb = d.trans_b ? b[1] : b[0];
  d.n = d.trans_b ? b[0] : b[1];
  if (d.k >= 0 && kb >= 0 && d.k != kb) {
    return InvalidArgument("inner dims differ: op(A) is " + std::to_string(d.m) + "x" + std::to_string(d.k) +
                           ", op(B) is " + std::to_string(kb) + "x" + std::to_string(d.n) +
                           " (transA=" + std::to_string(d.trans_a) + ", transB=" + std::to_string(d.trans_b) + ")");
  }
  if (d.k < 0) d.k = kb;
  if (c) {
    const Shape want = {d.m, d.n};
    bool ok = c->size() <= 2;
    for (size_t i = 0; ok && i < c->size(); ++i) {
      int64_t cd = (*c)[i], od = want[2 - c->size() + i];
      ok = cd == 1 || cd < 0 || od < 0 || cd == od;
    }
    if (!ok) {
      return InvalidArgument("C " + ShapeToString(*c) + " does not broadcast to the output " + ShapeToString(want));
    }
  }
  return d;
}

Status InferGemm(const OpContext& ctx, std::vector<TensorType>& outputs) {
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (ctx.has_input(i)) QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, i, {DataType::kFloat32}));
  }
  const Shape* c = ctx.has_input(2) ? &ctx.inputs[2].shape : nullptr;
  QCAL_ASSIGN_OR_RETURN(GemmDims d, ResolveGemm(ctx.node, ctx.inputs[0].shape, ctx.inputs[1].shape, c));
  outputs[0] = {DataType::kFloat32, {d.m, d.n}};
  return Status::Ok();
}

Status RunGemm(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& a = *in[0];
  const Tensor& b = *in[1];
  const Tensor* c = in.size() > 2 ? in[2] : nullptr;
  QCAL_ASSIGN_OR_RETURN(GemmDims d, ResolveGemm(node, a.shape(), b.shape(), c ? &c->shape() : nullptr));
  const float alpha = node.attrs.GetFloat("alpha", 1.0f);
  const float beta = node.attrs.GetFloat("beta", 1.0f);
  Tensor& y = PrepareOutput(out, 0, DataType::kFloat32, {d.m, d.n});
  float* yd = y.data<float>();
  std::fill(yd, yd + y.numel(), 0.0f);
  MatMulAccumulate(a.data<float>(), b.data<float>(), yd, d.m, d.k, d.n, d.trans_a, d.trans_b);
  // C broadcast: stride 0 along its size-1 (or missing) dims.
  int64_t c_row_stride = 0, c_col_stride = 0;
  if (c) {
    const Shape& cs = c->shape();
    int64_t rows = cs.size() == 2 ? cs[0] : 1;
    int64_t cols = cs.empty() ? 1 : cs.back();
    c_row_stride = rows == 1 ? 0 : cols;
    c_col_stride = cols == 1 ? 0 : 1;
  }
  for (int64_t i = 0; i < d.m; ++i) {
    for (int64_t j = 0; j < d.n; ++j) {
      float v = alpha * yd[i * d.n + j];
      if (c) v += beta * c->data<float>()[i * c_row_stride + j * c_col_stride];
      yd[i * d.n + j] = v;
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateGemm(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunGemm); }

}  // namespace

QCAL_REGISTER_OP("Gemm", InferGemm, 2, 3, 1, 1);
QCAL_REGISTER_KERNEL("Gemm", "ref", 0, nullptr, CreateGemm);

}  // namespace qcal::ref
