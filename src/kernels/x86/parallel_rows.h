// The OpenMP split of an x86 kernel's rows into chunks (compiled with -fopenmp:
// include it from kernel sources only).
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/x86/x86_common.h"

namespace qcal::x86 {

// Calls f(row, begin, end) for consecutive pieces [begin, end) of at most
// kChunk elements of every row of `row_size` elements (flat element indices;
// row r covers [r * row_size, (r + 1) * row_size)), in parallel when large.
template <typename F>
void ForEachRowPiece(int64_t rows, int64_t row_size, F&& f) {
  const int64_t pieces = std::max<int64_t>(1, (row_size + kChunk - 1) / kChunk);
  const int64_t items = rows * pieces;
  const bool parallel = rows * row_size >= kParallelMin && items > 1;
  const int threads = parallel ? OmpThreads() : 1;
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
  for (int64_t it = 0; it < items; ++it) {
    const int64_t row = it / pieces;
    const int64_t begin = (it % pieces) * kChunk;
    const int64_t end = std::min(row_size, begin + kChunk);
    f(row, row * row_size + begin, row * row_size + end);
  }
}

}  // namespace qcal::x86
