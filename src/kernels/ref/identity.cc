// Identity: output = input (aliases the input's buffer). Any dtype.
#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Status RunIdentity(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  out[0] = *in[0];
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateIdentity(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunIdentity);
}

}  // namespace

QCAL_REGISTER_OP("Identity", InferSameAsInput0, 1, 1, 1, 1);
QCAL_REGISTER_KERNEL("Identity", "ref", 0, nullptr, CreateIdentity);

}  // namespace qcal::ref
