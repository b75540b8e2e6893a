// Shared parts of the oneDNN int8 kernels (int8_conv.cc, int8_matmul.cc):
// oneDNN computes the raw int32 products (u8/s8 activations x s8 weights, s32
// accumulation, zero padding); qcal then adds a precomputed int32 correction
// (bias - x_zp * sum of the weights the output position sees, so activation
// zero points and padding follow the reference exactly) and applies the output
// stage of kernels/ref/quant_output.h with a vectorized loop that computes the
// very same float operations, so results are bit-exact against the reference.
//
// How the products are computed (Int8Compute, chosen per node):
// - kInt8: oneDNN int8 primitives (u8/s8 x s8 -> s32). Only on CPUs with VNNI
//   (avx512_core_vnni, avx2_vnni), whose dot products do not saturate. Without
//   VNNI oneDNN's u8 x s8 kernels (vpmaddubsw) saturate int16 pair sums and its
//   s8 x s8 kernels halve the weights: measured not bit-exact on AVX2.
// - kExactFloat: oneDNN float32 primitives on the integer values (converted by
//   oneDNN reorders). Every product and partial sum is an integer of magnitude
//   <= max|x| * sum|w[m]|; when that bound is below 2^24 float arithmetic is
//   exact in any summation order, so the s32 result is the same. Used where
//   kInt8 is not available (or forced with QCAL_DNNL_INT8=float).
// - kNone: neither applies; the node stays on the reference kernel.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/dnnl/dnnl_common.h"
#include "kernels/ref/quant_output.h"

namespace qcal::dnnl_kernels {

// True when the CPU (as oneDNN sees it) has VNNI int8 dot products.
bool HasInt8DotProduct();

enum class Int8Compute { kNone, kInt8, kExactFloat };
// The compute mode for activations of x_type and weights whose largest
// per-output-channel sum of |w| is max_abs_weight_sum.
Int8Compute ChooseInt8Compute(DataType x_type, int64_t max_abs_weight_sum);
// Largest per-channel sum of |w| for an int8 weight; channel of element i is
// i / (numel / channels) when channel_major, else i % channels.
int64_t MaxAbsWeightSum(const Tensor& w, int64_t channels, bool channel_major);
// oneDNN data type the primitive uses for activations / weights / accumulators.
dnnl::memory::data_type ComputeType(Int8Compute mode, dnnl::memory::data_type int8_type);

// oneDNN data type of an int8 / uint8 / int32 / float32 tensor.
dnnl::memory::data_type DnnlType(DataType t);

// Input i is a known constant of one of `dtypes`.
bool IsConstOf(const OpContext& ctx, size_t i, std::initializer_list<DataType> dtypes);
// Input i is absent, or a known constant whose elements are all 0 (weight zero points).
bool AbsentOrZero(const OpContext& ctx, size_t i);
// Input i is absent or a known constant with one element.
bool AbsentOrConstScalar(const OpContext& ctx, size_t i);

// What the int8 kernels read from the QLinear*/Qcal* inputs (same layout:
// x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, [B]), all constants but x.
struct Int8Params {
  int32_t x_zp = 0;
  Tensor w;
  std::vector<int32_t> bias;  // one per output channel (zeros when absent)
  ref::OutputStage stage;
  std::vector<float> mult;  // stage.mult broadcast to every output channel
};
// Reads them; `bias_input` is -1 when the op has none. Errors without op prefix.
Result<Int8Params> ReadInt8Params(const OpContext& ctx, int64_t channels, int bias_input);

// y[r, c] = stage(acc[r, c] + corr[r % corr_rows, c]) for `rows` rows of
// `channels` (the channel is the innermost dim of acc and y). y has stage.dtype.
// acc is int32, or float32 holding exact integers (kExactFloat; float_acc).
// Multi-threaded with the OpenMP runtime (call ApplyThreads first).
void ApplyOutputStageRows(const ref::OutputStage& stage, const std::vector<float>& mult, const void* acc,
                          bool float_acc, const int32_t* corr, int64_t corr_rows, int64_t rows,
                          int64_t channels, void* y);

}  // namespace qcal::dnnl_kernels
