// Compile-time helpers of the AVX2 conv kernels (conv_nchw8c.cc,
// conv_winograd.cc): unrolled loops over accumulator indices, and tables of
// register-tile functions by output channel blocks x pixels (or tiles).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

namespace qcal::x86 {

// Calls f(std::integral_constant<int, I>) for I = 0 .. N-1. Accumulator arrays
// are indexed only through such constants: with a runtime loop (even one GCC
// unrolls later) GCC keeps the array in memory and stores every accumulator
// after each FMA, which halves a kernel's speed.
template <typename F, int... I>
[[gnu::always_inline]] inline void UnrollImpl(F& f, std::integer_sequence<int, I...>) {
  (f(std::integral_constant<int, I>{}), ...);
}
template <int N, typename F>
[[gnu::always_inline]] inline void Unroll(F&& f) {
  UnrollImpl(f, std::make_integer_sequence<int, N>{});
}

// Register tiles of B output channel blocks x P pixels: 12 accumulators + the
// B weight registers + one broadcast fit in 16 ymm.
inline constexpr int kMaxTileBlocks = 3;
constexpr int TileWidth(int blocks) { return 12 / blocks; }

template <typename Fn, typename K, int B, size_t... I>
constexpr std::array<Fn, 12> TileRow(std::index_sequence<I...>) {
  return {{(I < TileWidth(B) ? &K::template Run<B, std::min<int>(I + 1, TileWidth(B))> : nullptr)...}};
}

// table[B - 1][P - 1] = &K::Run<B, P> for P <= TileWidth(B) (null past it).
template <typename Fn, typename K>
constexpr std::array<std::array<Fn, 12>, kMaxTileBlocks> TileTable() {
  return {TileRow<Fn, K, 1>(std::make_index_sequence<12>()),
          TileRow<Fn, K, 2>(std::make_index_sequence<12>()),
          TileRow<Fn, K, 3>(std::make_index_sequence<12>())};
}

}  // namespace qcal::x86
