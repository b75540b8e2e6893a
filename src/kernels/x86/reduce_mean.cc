// ReduceMean of a float32 4-D X over exactly H and W (axes from the attribute or
// a constant input; ShuffleNet's and MobileNet's global pooling), provider "x86":
// X NCHW or nChw8c, Y [N, C, 1, 1] or [N, C] (keepdims=0); double sums in the
// reference's order (GlobalMeanKernel, pool_common.h). Other reductions stay on
// the reference kernel.
#include <algorithm>

#include "kernels/x86/pool_common.h"

namespace qcal::x86 {
namespace {

bool SupportsReduceMean(const OpContext& ctx) {
  if (!PoolKernelsEnabled() || !IsFloat4d(ctx)) return false;
  std::vector<int64_t> axes = ctx.node.attrs.GetInts("axes");
  if (ctx.has_input(1)) {
    auto given = ref::ConstInts(ctx, 1);
    if (!given) return false;
    axes = *given;
  }
  for (auto& a : axes) a = a < 0 ? a + 4 : a;
  std::sort(axes.begin(), axes.end());
  return axes == std::vector<int64_t>{2, 3};
}

Result<std::unique_ptr<Kernel>> CreateReduceMean(const OpContext& ctx) {
  const bool squeeze = ctx.node.attrs.GetInt("keepdims", 1) == 0;
  return std::unique_ptr<Kernel>(std::make_unique<GlobalMeanKernel>(ctx.inputs[0].shape, squeeze));
}

}  // namespace

QCAL_REGISTER_KERNEL("ReduceMean", kProvider, kPoolPriority, SupportsReduceMean, CreateReduceMean);

}  // namespace qcal::x86
