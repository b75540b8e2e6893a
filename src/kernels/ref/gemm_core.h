// The naive matrix product shared by the Gemm and MatMul reference kernels.
#pragma once

#include <cstdint>

namespace qcal::ref {

// c (m x n, row-major) += op(a) * op(b), where op(a) is m x k and op(b) is k x n.
// a is stored m x k, or k x m when trans_a; b is stored k x n, or n x k when trans_b.
// Loop orders keep the innermost loop contiguous in b (and c).
template <typename T>
void MatMulAccumulate(const T* a, const T* b, T* c, int64_t m, int64_t k, int64_t n, bool trans_a, bool trans_b) {
  auto a_at = [&](int64_t i, int64_t p) { return trans_a ? a[p * m + i] : a[i * k + p]; };
  for (int64_t i = 0; i < m; ++i) {
    T* c_row = c + i * n;
    if (trans_b) {  // c[i, j] += dot(op(a)[i, :], b[j, :])
      for (int64_t j = 0; j < n; ++j) {
        const T* b_row = b + j * k;
        T sum = 0;
        for (int64_t p = 0; p < k; ++p) sum += a_at(i, p) * b_row[p];
        c_row[j] += sum;
      }
    } else {  // c[i, :] += op(a)[i, p] * b[p, :]
      for (int64_t p = 0; p < k; ++p) {
        const T av = a_at(i, p);
        const T* b_row = b + p * n;
        for (int64_t j = 0; j < n; ++j) c_row[j] += av * b_row[j];
      }
    }
  }
}

}  // namespace qcal::ref
