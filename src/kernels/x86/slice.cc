// Slice (provider "x86"): the reference's element mapping (ref::SliceCopy) as
// coalesced memcpy runs (inner step 1) or strided row gathers. Any element size.
#include "kernels/x86/copy_util.h"

namespace qcal::x86 {
namespace {

Status RunSlice(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  QCAL_ASSIGN_OR_RETURN(ref::StridedCopy c, ref::SliceCopy(in));
  Tensor& y = ref::PrepareOutput(out, 0, x.dtype(), c.shape);
  CopyStrided(x.raw(), c, DataTypeSize(x.dtype()), y.raw());
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateSlice(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunSlice, /*writes_all_outputs=*/true);
}

}  // namespace

QCAL_REGISTER_KERNEL("Slice", kProvider, kPriority, nullptr, CreateSlice);

}  // namespace qcal::x86
