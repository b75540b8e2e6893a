// Process-wide thread count for optimized kernels (the CLI's --threads).
//
// 0 (the default) leaves the choice to the threading runtime (OMP_NUM_THREADS
// or all cores). Kernels that use a parallel runtime apply the setting on the
// thread that runs them (see dnnl/dnnl_common.h), so it also takes effect for
// executors running on other threads.
#pragma once

namespace qcal {

void SetNumThreads(int n);  // n <= 0: runtime default
// The count kernels on the calling thread should use: the innermost
// ScopedNumThreads of this thread, else the value last set (0 = runtime default).
int NumThreads();
// NumThreads(), or OpenMP's default (OMP_NUM_THREADS or all cores) when that is 0:
// the count a parallel region on the calling thread should use.
int ResolvedNumThreads();

// Overrides NumThreads() on the calling thread while alive; n <= 0 keeps the
// current value. Executor::Run uses it for ExecutorOptions::threads, so two
// executors with different settings can run on different threads.
class ScopedNumThreads {
 public:
  explicit ScopedNumThreads(int n);
  ~ScopedNumThreads();
  ScopedNumThreads(const ScopedNumThreads&) = delete;
  ScopedNumThreads& operator=(const ScopedNumThreads&) = delete;

 private:
  int previous_;
};

}  // namespace qcal
