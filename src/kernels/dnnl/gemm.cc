// Gemm on oneDNN matmul (provider "dnnl"): float32, transA = 0, transB, alpha,
// beta, optional C broadcast to [M, N]. C = [N] / [1, N] with alpha = beta = 1
// (fully connected layers) is fused as the matmul bias; other C forms are added
// after the product. transA = 1 is declined (runs on the reference kernel).
// Constant B is prepacked once (MatMulCore).
#include "kernels/dnnl/matmul_core.h"
#include "kernels/ref/common.h"

namespace qcal::dnnl_kernels {
namespace {

struct GemmAttrs {
  bool trans_b = false;
  float alpha = 1.0f, beta = 1.0f;
};

// True when C (rank <= 2) is a row [N] / [1, N] that can be the matmul bias.
bool IsBiasRow(const Shape& c) { return (c.size() == 1) || (c.size() == 2 && c[0] == 1); }

class DnnlGemm final : public Kernel {
 public:
  DnnlGemm(GemmAttrs attrs, const Tensor* const_b) : attrs_(attrs), core_(const_b) {}

  MatMulShape ShapeFor(const Shape& a, const Shape& b, const Shape* c) const {
    MatMulShape s;
    const int64_t m = a[0], k = a[1], n = attrs_.trans_b ? b[0] : b[1];
    s.a = {m, k};
    s.b = {k, n};
    s.y = {m, n};
    s.trans_b = attrs_.trans_b;
    s.bias = c && attrs_.alpha == 1.0f && attrs_.beta == 1.0f && IsBiasRow(*c) && c->back() == n;
    s.alpha = attrs_.alpha;
    return s;
  }
  MatMulCore& core() { return core_; }

  bool WritesAllOutputs() const override { return true; }

  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    const Tensor& a = *in[0];
    const Tensor& b = *in[1];
    const Tensor* c = in.size() > 2 ? in[2] : nullptr;
    if (a.rank() != 2 || b.rank() != 2) return InvalidArgument("A and B must be 2-D");
    const MatMulShape s = ShapeFor(a.shape(), b.shape(), c ? &c->shape() : nullptr);
    if ((attrs_.trans_b ? b.dim(1) : b.dim(0)) != s.a[1]) {
      return InvalidArgument("inner dims of A " + ShapeToString(a.shape()) + " and B " +
                             ShapeToString(b.shape()) + " differ");
    }
    Tensor& y = ref::PrepareOutput(out, 0, DataType::kFloat32, {s.y[0], s.y[1]});
    QCAL_RETURN_IF_ERROR(
        core_.Run(s, a.data<float>(), b.data<float>(), s.bias ? c->data<float>() : nullptr, y.data<float>()));
    if (c && !s.bias) AddScaledC(*c, y);
    return Status::Ok();
  }

 private:
  // y += beta * C with C broadcast unidirectionally to [M, N].
  void AddScaledC(const Tensor& c, Tensor& y) const {
    const Shape& cs = c.shape();
    const int64_t m = y.dim(0), n = y.dim(1);
    const int64_t rows = cs.size() == 2 ? cs[0] : 1, cols = cs.empty() ? 1 : cs.back();
    const int64_t row_stride = rows == 1 ? 0 : cols, col_stride = cols == 1 ? 0 : 1;
    const float* cd = c.data<float>();
    float* yd = y.data<float>();
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) yd[i * n + j] += attrs_.beta * cd[i * row_stride + j * col_stride];
    }
  }

  GemmAttrs attrs_;
  MatMulCore core_;
};

bool SupportsGemm(const OpContext& ctx) {
  if (!AllInputsFloat32(ctx) || !HasRank(ctx, 0, 2) || !HasRank(ctx, 1, 2)) return false;
  if (ctx.has_input(2) && ctx.inputs[2].shape.size() > 2) return false;
  return ctx.node.attrs.GetInt("transA", 0) == 0;
}

Result<std::unique_ptr<Kernel>> CreateGemm(const OpContext& ctx) {
  GemmAttrs attrs;
  attrs.trans_b = ctx.node.attrs.GetInt("transB", 0) != 0;
  attrs.alpha = ctx.node.attrs.GetFloat("alpha", 1.0f);
  attrs.beta = ctx.node.attrs.GetFloat("beta", 1.0f);
  auto k = std::make_unique<DnnlGemm>(attrs, ctx.constant(1));
  const Shape& a = ctx.inputs[0].shape;
  const Shape& b = ctx.inputs[1].shape;
  if (ctx.constant(1) && ShapeIsStatic(a) && (!ctx.has_input(2) || ShapeIsStatic(ctx.inputs[2].shape))) {
    QCAL_RETURN_IF_ERROR(
        k->core().Prepare(k->ShapeFor(a, b, ctx.has_input(2) ? &ctx.inputs[2].shape : nullptr)));
  }
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace

QCAL_REGISTER_KERNEL("Gemm", kProvider, kPriority, SupportsGemm, CreateGemm);

}  // namespace qcal::dnnl_kernels
