#include "kernels/x86/x86_common.h"

#include "kernels/threads.h"

namespace qcal::x86 {

bool HasAvx2() {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2;
}

bool HasAvx2Fma() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}

int OmpThreads() { return ResolvedNumThreads(); }

}  // namespace qcal::x86
