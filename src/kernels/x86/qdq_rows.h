// Row loops of the x86 QuantizeLinear / DequantizeLinear kernels, exposed so
// tests can check both the AVX2 and the scalar path against kernels/ref/quant_math.h.
//   QuantizeRow:   y[i] = qmath::QuantizeValue<Q>(x[i], scale, zero_point)
//   DequantizeRow: y[i] = qmath::DequantizeValue<Q>(x[i], scale, zero_point)
// `avx2` selects the vector path (only pass true when HasAvx2()). Q is int8_t or
// uint8_t (DequantizeRow also int32_t, always scalar).
#pragma once

#include <cstdint>

namespace qcal::x86 {

template <typename Q>
void QuantizeRow(const float* x, int64_t n, float scale, int32_t zero_point, Q* y, bool avx2);

template <typename Q>
void DequantizeRow(const Q* x, int64_t n, float scale, int32_t zero_point, float* y, bool avx2);

}  // namespace qcal::x86
