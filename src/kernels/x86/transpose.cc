// Transpose (provider "x86"): the reference's element mapping (ref::TransposeCopy)
// as coalesced memcpy runs, e.g. ShuffleNet's channel shuffle [N,2,C/2,H,W] ->
// perm (0,2,1,3,4) copies runs of H*W elements. Any element size.
#include "kernels/x86/copy_util.h"

namespace qcal::x86 {
namespace {

Status RunTranspose(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  QCAL_ASSIGN_OR_RETURN(auto perm, ref::TransposePerm(node, x.shape().size()));
  const ref::StridedCopy c = ref::TransposeCopy(x.shape(), perm);
  Tensor& y = ref::PrepareOutput(out, 0, x.dtype(), c.shape);
  CopyStrided(x.raw(), c, DataTypeSize(x.dtype()), y.raw());
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateTranspose(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunTranspose, /*writes_all_outputs=*/true);
}

}  // namespace

QCAL_REGISTER_KERNEL("Transpose", kProvider, kPriority, nullptr, CreateTranspose);

}  // namespace qcal::x86
