// Compile-time helpers of the x86 conv kernels (conv_nchw8c.cc,
// conv_winograd_impl.h): unrolled loops over accumulator indices, and tables of
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

// Register tiles of B output channel blocks x P pixels: Acc accumulators + the
// B weight registers + one broadcast fit in the vector registers (AVX2: 12 of
// 16 ymm; AVX-512: 24 of 32 zmm).
inline constexpr int kMaxTileBlocks = 3;
inline constexpr int kAvx2Accumulators = 12;
constexpr int TileWidth(int blocks, int acc = kAvx2Accumulators) { return acc / blocks; }

template <typename Fn, typename K, int Acc, int B, size_t... I>
constexpr std::array<Fn, Acc> TileRow(std::index_sequence<I...>) {
  return {
      {(I < TileWidth(B, Acc) ? &K::template Run<B, std::min<int>(I + 1, TileWidth(B, Acc))> : nullptr)...}};
}

// table[B - 1][P - 1] = &K::Run<B, P> for P <= TileWidth(B, Acc) (null past it).
template <typename Fn, typename K, int Acc = kAvx2Accumulators>
constexpr std::array<std::array<Fn, Acc>, kMaxTileBlocks> TileTable() {
  return {TileRow<Fn, K, Acc, 1>(std::make_index_sequence<Acc>()),
          TileRow<Fn, K, Acc, 2>(std::make_index_sequence<Acc>()),
          TileRow<Fn, K, Acc, 3>(std::make_index_sequence<Acc>())};
}

}  // namespace qcal::x86
