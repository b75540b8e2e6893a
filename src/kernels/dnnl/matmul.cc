// MatMul on oneDNN matmul (provider "dnnl"): float32, both inputs of rank >= 2,
// numpy batch broadcasting (batch dims equal or 1; the shorter input is padded
// with leading 1s). A 2-D B (the common "activations x constant weights" case)
// folds A's batch dims into M so one 2-D product runs with prepacked weights.
// 1-D inputs and other dtypes are declined (reference kernel).
#include "kernels/dnnl/matmul_core.h"
#include "kernels/ref/common.h"

namespace qcal::dnnl_kernels {
namespace {

constexpr size_t kMaxRank = DNNL_MAX_NDIMS;

// The oneDNN problem for A x B and the ONNX output shape; errors on
// non-broadcastable batch dims or differing inner dims.
Result<MatMulShape> MatMulProblem(const Shape& a, const Shape& b, Shape* y) {
  const int64_t m = a[a.size() - 2], k = a.back(), n = b.back();
  if (b[b.size() - 2] != k) {
    return InvalidArgument("inner dims differ: A " + ShapeToString(a) + ", B " + ShapeToString(b));
  }
  MatMulShape s;
  if (b.size() == 2) {  // fold A's batch dims into M
    *y = Shape(a.begin(), a.end() - 1);
    y->push_back(n);
    const int64_t rows = NumElements(a) / k;
    s.a = {rows, k};
    s.b = {k, n};
    s.y = {rows, n};
    return s;
  }
  const size_t r = std::max(a.size(), b.size());
  Dims pa(r - a.size(), 1), pb(r - b.size(), 1);
  pa.insert(pa.end(), a.begin(), a.end());
  pb.insert(pb.end(), b.begin(), b.end());
  Dims py(r);
  for (size_t i = 0; i + 2 < r; ++i) {
    if (pa[i] != pb[i] && pa[i] != 1 && pb[i] != 1) {
      return InvalidArgument("batch dims of A " + ShapeToString(a) + " and B " + ShapeToString(b) +
                             " do not broadcast");
    }
    py[i] = std::max(pa[i], pb[i]);
  }
  py[r - 2] = m;
  py[r - 1] = n;
  s.a = pa;
  s.b = pb;
  s.y = py;
  *y = Shape(py.begin(), py.end());
  return s;
}

class DnnlMatMul final : public Kernel {
 public:
  explicit DnnlMatMul(const Tensor* const_b) : core_(const_b) {}
  MatMulCore& core() { return core_; }

  bool WritesAllOutputs() const override { return true; }

  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    const Tensor& a = *in[0];
    const Tensor& b = *in[1];
    if (a.rank() < 2 || b.rank() < 2) return InvalidArgument("A and B must have rank >= 2");
    Shape y_shape;
    QCAL_ASSIGN_OR_RETURN(MatMulShape s, MatMulProblem(a.shape(), b.shape(), &y_shape));
    Tensor& y = ref::PrepareOutput(out, 0, DataType::kFloat32, y_shape);
    return core_.Run(s, a.data<float>(), b.data<float>(), nullptr, y.data<float>());
  }

 private:
  MatMulCore core_;
};

bool SupportsMatMul(const OpContext& ctx) {
  if (!AllInputsFloat32(ctx) || !ctx.has_input(0) || !ctx.has_input(1)) return false;
  const Shape& a = ctx.inputs[0].shape;
  const Shape& b = ctx.inputs[1].shape;
  if (a.size() < 2 || b.size() < 2 || a.size() > kMaxRank || b.size() > kMaxRank) return false;
  // A constant B needs a static shape for prepacking.
  return !ctx.constant(1) || ShapeIsStatic(b);
}

Result<std::unique_ptr<Kernel>> CreateMatMul(const OpContext& ctx) {
  auto k = std::make_unique<DnnlMatMul>(ctx.constant(1));
  const Shape& a = ctx.inputs[0].shape;
  const Shape& b = ctx.inputs[1].shape;
  if (ctx.constant(1) && ShapeIsStatic(a)) {
    Shape y;
    auto s = MatMulProblem(a, b, &y);
    if (s.ok()) QCAL_RETURN_IF_ERROR(k->core().Prepare(*s));
  }
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace

QCAL_REGISTER_KERNEL("MatMul", kProvider, kPriority, SupportsMatMul, CreateMatMul);

}  // namespace qcal::dnnl_kernels
