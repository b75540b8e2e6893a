// Integer matrix multiplication shared by MatMulInteger and QLinearMatMul
// (numpy matmul semantics: batch dims broadcast; a 1-D A is a row [1, K], a 1-D
// B a column [K, 1], and the promoted dim is dropped from the output).
//
//   acc[b, m, n] = sum_k (A[b, m, k] - a_zp) * (B[b, k, n] - b_zp)   (int32, wraps mod 2^32)
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/ref/common.h"

namespace qcal::ref {

// Output shape of matmul(a, b); -1 dims propagate. Errors on a K mismatch or
// non-broadcastable batch dims (no op prefix; the caller adds it).
Result<Shape> MatMulOutputShape(const Shape& a, const Shape& b);

// Which matrix dim a 1-D zero point / scale runs along.
enum class VectorAlong { kRows, kCols };

// x - zero_point as int32, with the zero point broadcast to x's shape. x is
// int8 or uint8. zp may be nullptr (0), per-tensor (1 element), 1-D (per row:
// [M] -> [M, 1], or per column: [N] -> [1, N], as `along` says) or N-D
// broadcastable to x (e.g. [..., M, 1]). `x_shape` is x's shape promoted to >= 2-D.
Result<std::vector<int32_t>> CenteredInt32(const Tensor& x, const Shape& x_shape, const Tensor* zp,
                                           VectorAlong along, const char* name);

// A matmul problem with shapes promoted to >= 2-D.
struct IntMatMulProblem {
  Shape a_shape, b_shape;  // promoted, rank >= 2
  Shape batch;             // broadcast batch dims
  Shape out_shape;         // final output shape (promoted dims dropped)
  int64_t m = 0, k = 0, n = 0;
};
Result<IntMatMulProblem> MakeIntMatMulProblem(const Shape& a, const Shape& b);

// acc (batch * M * N, row-major) from centered A and B values.
std::vector<int32_t> IntMatMul(const IntMatMulProblem& p, const std::vector<int32_t>& a,
                               const std::vector<int32_t>& b);

}  // namespace qcal::ref
