// Process-wide thread count for optimized kernels (the CLI's --threads).
//
// 0 (the default) leaves the choice to the threading runtime (OMP_NUM_THREADS
// or all cores). Kernels that use a parallel runtime apply the setting on the
// thread that runs them (see dnnl/dnnl_common.h), so it also takes effect for
// executors running on other threads.
#pragma once

namespace qcal {

void SetNumThreads(int n);  // n <= 0: runtime default
int NumThreads();           // the value last set (0 = runtime default)

}  // namespace qcal
