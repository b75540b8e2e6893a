#include "kernels/threads.h"

#include <atomic>

namespace qcal {
namespace {
std::atomic<int> g_num_threads{0};
}  // namespace

void SetNumThreads(int n) { g_num_threads.store(n > 0 ? n : 0, std::memory_order_relaxed); }
int NumThreads() { return g_num_threads.load(std::memory_order_relaxed); }

}  // namespace qcal
