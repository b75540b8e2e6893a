// Softmax, float32. Two semantics, chosen by the model's opset:
//  - opset >= 13: softmax along `axis` (default -1);
//  - opset < 13: the input is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])]
//    (axis default 1) and softmax runs over the second dimension.
// Both are "outer x reduced x inner" loops; the max is subtracted for stability.
#include <algorithm>
#include <cmath>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

struct SoftmaxLayout {
  int64_t outer = 1, len = 1, inner = 1;
};

Result<SoftmaxLayout> Layout(const Node& node, int64_t opset, const Shape& shape) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  SoftmaxLayout l;
  if (opset >= 13) {
    QCAL_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(node.attrs.GetInt("axis", -1), rank, "attribute 'axis'"));
    const size_t a = static_cast<size_t>(axis);
    l = {DimProduct(shape, 0, a), shape[a], DimProduct(shape, a + 1, shape.size())};
  } else {
    // Coercion axis may equal rank (then the reduced extent is 1).
    int64_t axis = node.attrs.GetInt("axis", 1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis > rank) {
      return InvalidArgument("attribute 'axis' " + std::to_string(node.attrs.GetInt("axis", 1)) +
                             " is out of range for rank " + std::to_string(rank));
    }
    const size_t a = static_cast<size_t>(axis);
    l = {DimProduct(shape, 0, a), DimProduct(shape, a, shape.size()), 1};
  }
  return l;
}

void SoftmaxLoop(const float* x, float* y, const SoftmaxLayout& l) {
  for (int64_t o = 0; o < l.outer; ++o) {
    for (int64_t i = 0; i < l.inner; ++i) {
      const float* px = x + o * l.len * l.inner + i;
      float* py = y + o * l.len * l.inner + i;
      float m = -INFINITY;
      for (int64_t k = 0; k < l.len; ++k) m = std::max(m, px[k * l.inner]);
      float sum = 0.0f;
      for (int64_t k = 0; k < l.len; ++k) sum += (py[k * l.inner] = std::exp(px[k * l.inner] - m));
      const float inv = 1.0f / sum;
      for (int64_t k = 0; k < l.len; ++k) py[k * l.inner] *= inv;
    }
  }
}

Status InferSoftmax(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 0, {DataType::kFloat32}));
  QCAL_RETURN_IF_ERROR(Layout(ctx.node, ctx.opset, ctx.inputs[0].shape).status());
  return InferSameAsInput0(ctx, outputs);
}

class SoftmaxKernel : public Kernel {
 public:
  SoftmaxKernel(const Node& node, int64_t opset) : node_(node), opset_(opset) {}
  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    const Tensor& x = *in[0];
    if (x.dtype() != DataType::kFloat32) return Unsupported("Softmax supports float32 only");
    QCAL_ASSIGN_OR_RETURN(SoftmaxLayout l, Layout(node_, opset_, x.shape()));
    Tensor& y = PrepareOutput(out, 0, x.dtype(), x.shape());
    SoftmaxLoop(x.data<float>(), y.data<float>(), l);
    return Status::Ok();
  }

 private:
  Node node_;
  int64_t opset_;
};

Result<std::unique_ptr<Kernel>> CreateSoftmax(const OpContext& ctx) {
  return std::unique_ptr<Kernel>(std::make_unique<SoftmaxKernel>(ctx.node, ctx.opset));
}

}  // namespace

QCAL_REGISTER_OP("Softmax", InferSoftmax, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("Softmax", "ref", 0, nullptr, CreateSoftmax);

}  // namespace qcal::ref
