// Shape (opset 15 form): 1-D int64 tensor of the input's dims [start, end)
// (start default 0, end default rank; negative values add rank; both clamp to
// [0, rank]). Any input dtype.
#include <algorithm>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

std::pair<int64_t, int64_t> Range(const Node& node, int64_t rank) {
  auto norm = [rank](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
  const int64_t start = norm(node.attrs.GetInt("start", 0));
  const int64_t end = norm(node.attrs.GetInt("end", rank));
  return {start, std::max(start, end)};
}

Status InferShape(const OpContext& ctx, std::vector<TensorType>& outputs) {
  auto [start, end] = Range(ctx.node, static_cast<int64_t>(ctx.inputs[0].shape.size()));
  outputs[0] = {DataType::kInt64, Shape{end - start}};
  return Status::Ok();
}

Status RunShape(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Shape& s = in[0]->shape();
  auto [start, end] = Range(node, static_cast<int64_t>(s.size()));
  out[0] = Tensor::FromVector<int64_t>(std::vector<int64_t>(s.begin() + start, s.begin() + end), {end - start});
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateShape(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunShape); }

}  // namespace

QCAL_REGISTER_OP("Shape", InferShape, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("Shape", "ref", 0, nullptr, CreateShape);

}  // namespace qcal::ref
