// AveragePool (provider "x86"): float32 2-D average pooling on NCHW or nChw8c
// (pool_window.h): double sums in the reference's order, so bit-identical to it;
// count_include_pad 0 and 1, ceil_mode as the reference.
#include "kernels/x86/pool_window.h"

namespace qcal::x86 {
namespace {

Result<std::unique_ptr<Kernel>> CreateAveragePool(const OpContext& ctx) {
  return MakeWindowPool<Sum8>(ctx, ctx.node.attrs.GetInt("count_include_pad", 0) == 1);
}

}  // namespace

QCAL_REGISTER_KERNEL("AveragePool", kProvider, kPoolPriority, SupportsWindowPool, CreateAveragePool);

}  // namespace qcal::x86
