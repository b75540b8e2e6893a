// Transpose: output dim i is input dim perm[i] (default: reversed dims). Any dtype.
#include <numeric>

#include "kernels/ref/data_movement.h"

namespace qcal::ref {

Result<std::vector<int64_t>> TransposePerm(const Node& node, size_t rank) {
  std::vector<int64_t> perm = node.attrs.GetInts("perm");
  if (!node.attrs.Has("perm")) {
    perm.resize(rank);
    std::iota(perm.rbegin(), perm.rend(), 0);
    return perm;
  }
  if (perm.size() != rank) {
    return InvalidArgument("attribute 'perm' has " + std::to_string(perm.size()) + " entries for rank " +
                           std::to_string(rank));
  }
  // Every axis exactly once (negative entries are rejected, as in ONNX).
  std::vector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(rank) || seen[static_cast<size_t>(p)]) {
      return InvalidArgument("attribute 'perm' " + ShapeToString(perm) + " is not a permutation of 0.." +
                             std::to_string(rank - 1));
    }
    seen[static_cast<size_t>(p)] = true;
  }
  return perm;
}

StridedCopy TransposeCopy(const Shape& x, const std::vector<int64_t>& perm) {
  // Walk the output in order; its dim i steps the input by the stride of dim perm[i].
  const std::vector<int64_t> in_strides = Strides(x);
  StridedCopy c;
  for (int64_t p : perm) {
    c.shape.push_back(x[static_cast<size_t>(p)]);
    c.strides.push_back(in_strides[static_cast<size_t>(p)]);
  }
  return c;
}

namespace {

Shape Permuted(const Shape& s, const std::vector<int64_t>& perm) {
  Shape out(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) out[i] = s[static_cast<size_t>(perm[i])];
  return out;
}

Status InferTranspose(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_ASSIGN_OR_RETURN(auto perm, TransposePerm(ctx.node, ctx.inputs[0].shape.size()));
  outputs[0] = {ctx.inputs[0].dtype, Permuted(ctx.inputs[0].shape, perm)};
  return Status::Ok();
}

Status RunTranspose(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  QCAL_ASSIGN_OR_RETURN(auto perm, TransposePerm(node, x.shape().size()));
  const StridedCopy c = TransposeCopy(x.shape(), perm);
  Tensor& y = PrepareOutput(out, 0, x.dtype(), c.shape);
  return DispatchBySize(x.dtype(), node.op_type, [&]<typename T>() {
    StridedGather<T>(static_cast<const T*>(x.raw()), 0, c.shape, c.strides, static_cast<T*>(y.raw()));
  });
}

Result<std::unique_ptr<Kernel>> CreateTranspose(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunTranspose);
}

}  // namespace

QCAL_REGISTER_OP("Transpose", InferTranspose, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("Transpose", "ref", 0, nullptr, CreateTranspose);

}  // namespace qcal::ref
