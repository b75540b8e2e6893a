#include "kernels/ref/int_matmul.h"

namespace qcal::ref {
namespace {

Shape BatchDims(const Shape& s) { return Shape(s.begin(), s.end() - 2); }

Shape PromoteA(const Shape& a) { return a.size() == 1 ? Shape{1, a[0]} : a; }
Shape PromoteB(const Shape& b) { return b.size() == 1 ? Shape{b[0], 1} : b; }

}  // namespace

Result<Shape> MatMulOutputShape(const Shape& a, const Shape& b) {
  if (a.empty() || b.empty()) return InvalidArgument("matmul inputs must have rank >= 1");
  Shape a2 = PromoteA(a), b2 = PromoteB(b);
  int64_t ka = a2.back(), kb = b2[b2.size() - 2];
  if (ka >= 0 && kb >= 0 && ka != kb) {
    return InvalidArgument("matmul inner dims differ: A " + ShapeToString(a) + ", B " + ShapeToString(b));
  }
  QCAL_ASSIGN_OR_RETURN(Shape out, BroadcastShapes(BatchDims(a2), BatchDims(b2), "matmul batch dims"));
  if (a.size() > 1) out.push_back(a2[a2.size() - 2]);
  if (b.size() > 1) out.push_back(b2.back());
  return out;
}

Result<IntMatMulProblem> MakeIntMatMulProblem(const Shape& a, const Shape& b) {
  IntMatMulProblem p;
  QCAL_ASSIGN_OR_RETURN(p.out_shape, MatMulOutputShape(a, b));
  p.a_shape = PromoteA(a);
  p.b_shape = PromoteB(b);
  QCAL_ASSIGN_OR_RETURN(p.batch, BroadcastShapes(BatchDims(p.a_shape), BatchDims(p.b_shape), "matmul"));
  p.m = p.a_shape[p.a_shape.size() - 2];
  p.k = p.a_shape.back();
  p.n = p.b_shape.back();
  return p;
}

Result<std::vector<int32_t>> CenteredInt32(const Tensor& x, const Shape& x_shape, const Tensor* zp,
                                           VectorAlong along, const char* name) {
  std::vector<int32_t> out(static_cast<size_t>(x.numel()));
  for (int64_t i = 0; i < x.numel(); ++i) out[static_cast<size_t>(i)] = static_cast<int32_t>(x.GetAsInt64(i));
  if (zp == nullptr) return out;
  if (zp->dtype() != x.dtype()) {
    return InvalidArgument(std::string(name) + " has type " + std::string(DataTypeName(zp->dtype())) +
                           ", its input has " + std::string(DataTypeName(x.dtype())));
  }
  Shape zs = zp->shape();
  if (zs.size() == 1 && zs[0] != 1) zs = along == VectorAlong::kRows ? Shape{zs[0], 1} : Shape{1, zs[0]};
  auto b = BroadcastShapes(zs, x_shape, name);
  if (!b.ok() || *b != x_shape) {
    return InvalidArgument(std::string(name) + " shape " + ShapeToString(zp->shape()) +
                           " does not broadcast to its input's shape " + ShapeToString(x_shape));
  }
  std::vector<int64_t> zstride = BroadcastStrides(zs, x_shape.size());
  std::vector<int64_t> xstride = Strides(x_shape);
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t rem = i, zi = 0;
    for (size_t d = 0; d < x_shape.size(); ++d) {
      zi += (rem / xstride[d]) * zstride[d];
      rem %= xstride[d];
    }
    out[static_cast<size_t>(i)] -= static_cast<int32_t>(zp->GetAsInt64(zi));
  }
  return out;
}

std::vector<int32_t> IntMatMul(const IntMatMulProblem& p, const std::vector<int32_t>& a,
                               const std::vector<int32_t>& b) {
  int64_t batches = NumElements(p.batch);
  size_t rank = p.batch.size();
  // Strides (in matrices) of A's and B's batch dims as seen from the broadcast batch.
  std::vector<int64_t> a_bs = BroadcastStrides(BatchDims(p.a_shape), rank);
  std::vector<int64_t> b_bs = BroadcastStrides(BatchDims(p.b_shape), rank);
  std::vector<int64_t> out_bs = Strides(p.batch);
  std::vector<int32_t> acc(static_cast<size_t>(batches * p.m * p.n));
  for (int64_t bi = 0; bi < batches; ++bi) {
    int64_t rem = bi, a_mat = 0, b_mat = 0;
    for (size_t d = 0; d < rank; ++d) {
      int64_t idx = rem / out_bs[d];
      rem %= out_bs[d];
      a_mat += idx * a_bs[d];
      b_mat += idx * b_bs[d];
    }
    const int32_t* am = a.data() + a_mat * p.m * p.k;
    const int32_t* bm = b.data() + b_mat * p.k * p.n;
    int32_t* om = acc.data() + bi * p.m * p.n;
    for (int64_t i = 0; i < p.m; ++i) {
      for (int64_t j = 0; j < p.n; ++j) {
        int64_t sum = 0;
        for (int64_t kk = 0; kk < p.k; ++kk) sum += int64_t{am[i * p.k + kk]} * bm[kk * p.n + j];
        om[i * p.n + j] = static_cast<int32_t>(sum);  // int32 accumulation semantics (wraps)
      }
    }
  }
  return acc;
}

}  // namespace qcal::ref
