#include "kernels/threads.h"

#include <omp.h>

#include <atomic>

namespace qcal {
namespace {
std::atomic<int> g_num_threads{0};
thread_local int t_override = 0;  // 0: no ScopedNumThreads on this thread
}  // namespace

void SetNumThreads(int n) { g_num_threads.store(n > 0 ? n : 0, std::memory_order_relaxed); }
int NumThreads() { return t_override > 0 ? t_override : g_num_threads.load(std::memory_order_relaxed); }

int ResolvedNumThreads() {
  const int n = NumThreads();
  return n > 0 ? n : omp_get_max_threads();
}

ScopedNumThreads::ScopedNumThreads(int n) : previous_(t_override) {
  if (n > 0) t_override = n;
}
ScopedNumThreads::~ScopedNumThreads() { t_override = previous_; }

}  // namespace qcal
