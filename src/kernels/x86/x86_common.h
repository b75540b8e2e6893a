// Shared plumbing for the hand-vectorized x86 kernels (provider "x86"): the
// provider name and priority, the run-time AVX2 check and the thread count
// (the OpenMP split of rows into chunks is in parallel_rows.h). Kernels here must give bit-identical results
// to the reference kernels (they use the same IEEE operations in vector form)
// and fall back to scalar code on CPUs without AVX2.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "kernels/registry.h"

namespace qcal::x86 {

inline constexpr std::string_view kProvider = "x86";
// Above the reference kernels (priority 0).
inline constexpr int kPriority = 10;

// True when the CPU supports AVX2 (checked once).
bool HasAvx2();
// True when the CPU supports AVX2 and FMA (checked once).
bool HasAvx2Fma();

// True when the machine's blocked float layout is kNChw8c (FloatBlockedLayout):
// the x86 kernels read and write blocked values only then (they implement
// nChw8c; with AVX-512 the values stay nChw16c between oneDNN kernels instead).
inline bool BlockedIs8c() { return FloatBlockedLayout() == Layout::kNChw8c; }

// The OpenMP thread count for a parallel region: qcal::NumThreads(), else the
// runtime default.
int OmpThreads();

// Elements per parallel work item, and the size below which work runs on the
// calling thread only (forking threads costs more than it saves).
inline constexpr int64_t kChunk = 8192;
inline constexpr int64_t kParallelMin = int64_t{1} << 15;

// A kernel that runs a function and writes every element of its outputs (so
// the executor may hand it uncleared recycled buffers).
class FullWriteKernel : public Kernel {
 public:
  FullWriteKernel(const Node& node, KernelFn fn) : node_(node), fn_(fn) {}
  Status Run(const std::vector<const Tensor*>& inputs, std::vector<Tensor>& outputs) override {
    return fn_(node_, inputs, outputs);
  }
  bool WritesAllOutputs() const override { return true; }

 private:
  Node node_;  // a copy: kernels outlive the graph they were made from
  KernelFn fn_;
};

}  // namespace qcal::x86
