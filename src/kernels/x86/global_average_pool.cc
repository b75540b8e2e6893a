// GlobalAveragePool (provider "x86"): float32 4-D X in NCHW or nChw8c, Y NCHW
// [N, C, 1, 1]; double sums in the reference's order (GlobalMeanKernel, pool_common.h).
#include "kernels/x86/pool_common.h"

namespace qcal::x86 {
namespace {

bool SupportsGlobalAveragePool(const OpContext& ctx) { return PoolKernelsEnabled() && IsFloat4d(ctx); }

Result<std::unique_ptr<Kernel>> CreateGlobalAveragePool(const OpContext& ctx) {
  return std::unique_ptr<Kernel>(std::make_unique<GlobalMeanKernel>(ctx.inputs[0].shape, /*squeeze=*/false));
}

}  // namespace

QCAL_REGISTER_KERNEL("GlobalAveragePool", kProvider, kPoolPriority, SupportsGlobalAveragePool,
                     CreateGlobalAveragePool);

}  // namespace qcal::x86
