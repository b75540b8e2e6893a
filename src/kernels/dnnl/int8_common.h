// Shared parts of the oneDNN int8 kernels (int8_conv.cc, int8_matmul.cc):
// oneDNN computes the raw int32 products (u8/s8 activations x s8 weights, s32
// accumulation, zero padding); qcal then adds a precomputed int32 correction
// (bias - x_zp * sum of the weights the output position sees, so activation
// zero points and padding follow the reference exactly) and applies the output
// stage of kernels/ref/quant_output.h with a vectorized loop that computes the
// very same float operations, so results are bit-exact against the reference.
//
// How the products are computed (Int8Compute, chosen per node):
// - kInt8: oneDNN int8 primitives on the activations as they are (u8/s8 x s8 ->
//   s32). Only on CPUs with VNNI (avx512_core_vnni, avx2_vnni), whose dot
//   products do not saturate.
// - Without VNNI oneDNN's u8 x s8 kernels multiply with vpmaddubsw, which adds
//   two u8*s8 products in saturating int16 (and its s8 x s8 kernels halve the
//   weights). Both modes below feed oneDNN u8 activations (s8 ones flipped to
//   u8 = x + 128, the zero point moved by 128) so that no pair sum can saturate:
//   - kInt8Narrow: every |w| <= 64 (7-bit weights): 2 * 255 * 64 < 2^15; or a
//     depthwise conv, whose oneDNN kernel multiplies u8 x s8 in int32
//     (vpmaddwd on zero-extended values) and cannot saturate.
//   - kInt8Split: any s8 weights. x = 16 * hi + lo with hi, lo in [0, 15]
//     (2 * 15 * 128 < 2^15); two int8 primitives, combined in int32 as
//     16 * acc_hi + acc_lo. Still faster than one f32 primitive here.
// - kExactFloat: oneDNN float32 primitives on the integer values (converted by
//   oneDNN reorders). Every product and partial sum is an integer of magnitude
//   <= max|x| * sum|w[m]|; when that bound is below 2^24 float arithmetic is
//   exact in any summation order, so the s32 result is the same. Only when
//   forced (QCAL_DNNL_INT8=float, or the test hook below).
// - kNone: the forced mode does not apply; the node stays on the reference kernel.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "kernels/dnnl/dnnl_common.h"
#include "kernels/ref/conv_geometry.h"
#include "kernels/ref/quant_output.h"

namespace qcal::dnnl_kernels {

// True when the CPU (as oneDNN sees it) has VNNI int8 dot products.
bool HasInt8DotProduct();

enum class Int8Compute { kNone, kInt8, kInt8Narrow, kInt8Split, kExactFloat };
const char* Int8ComputeName(Int8Compute mode);

// What the mode choice needs to know about an int8 weight.
struct WeightBounds {
  int64_t max_abs = 0;      // largest |w|
  int64_t max_abs_sum = 0;  // largest per-output-channel sum of |w|
  bool depthwise = false;   // a depthwise conv's weights (one input and one output channel per group)
};
// Channel of element i is i / (numel / channels) when channel_major, else i % channels.
WeightBounds ComputeWeightBounds(const Tensor& w, int64_t channels, bool channel_major);

// The compute mode for activations of x_type and these weights: the forced
// mode if any (only where it is exact, else kNone), kInt8 with VNNI,
// kExactFloat when `float_faster` (the caller knows oneDNN's f32 kernel beats
// its int8 ones for this shape) and it is exact, kInt8Narrow for weights within
// [-64, 64] or depthwise, else kInt8Split.
Int8Compute ChooseInt8Compute(DataType x_type, const WeightBounds& w, bool float_faster = false);

// Test hook: force a mode for kernels created from now on (nullopt: automatic;
// the QCAL_DNNL_INT8 environment variable: "float", "split", "narrow").
void SetForcedInt8Compute(std::optional<Int8Compute> mode);

// SetForcedInt8Compute for one scope (tests): back to automatic when it ends.
class ScopedForcedInt8Compute {
 public:
  explicit ScopedForcedInt8Compute(std::optional<Int8Compute> mode) { SetForcedInt8Compute(mode); }
  ~ScopedForcedInt8Compute() { SetForcedInt8Compute(std::nullopt); }
  ScopedForcedInt8Compute(const ScopedForcedInt8Compute&) = delete;
  ScopedForcedInt8Compute& operator=(const ScopedForcedInt8Compute&) = delete;
};

// The mode feeds oneDNN u8 activations (s8 ones flipped by +128).
inline bool UsesU8Activations(Int8Compute m) {
  return m == Int8Compute::kInt8Narrow || m == Int8Compute::kInt8Split;
}
// Number of int8 primitive executions per run (kInt8Split: 2).
inline int PartsOf(Int8Compute m) { return m == Int8Compute::kInt8Split ? 2 : 1; }
// oneDNN data type the primitive uses for weights (int8_type: s8) in this mode.
dnnl::memory::data_type ComputeType(Int8Compute mode, dnnl::memory::data_type int8_type);
// oneDNN data type the primitive uses for activations of x_type.
dnnl::memory::data_type ActivationType(Int8Compute mode, DataType x_type);
// Accumulator type: s32, or f32 for kExactFloat.
dnnl::memory::data_type AccType(Int8Compute mode);

// Prepares n activations x (u8, or s8 when flip: v = x ^ 0x80 = x + 128) for a
// u8 mode: kInt8Narrow: lo = v; kInt8Split: lo = v & 15, hi = v >> 4. lo may be
// x (in place). Multi-threaded when large.
void PrepareU8Activations(Int8Compute mode, bool flip, const uint8_t* x, uint8_t* lo, uint8_t* hi, int64_t n);

// oneDNN data type of an int8 / uint8 / int32 / float32 tensor.
dnnl::memory::data_type DnnlType(DataType t);

// QcalQMatMul / QLinearMatMul operands the int8 matmul kernels take (int8_matmul.cc):
// u8 / s8 A of rank >= 2, a constant 2-D s8 B with zero point 0, constant per-tensor
// A / Y parameters, a constant int32 bias (QcalQMatMul only).
bool Int8MatMulOperandsSupported(const OpContext& ctx);

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

// The accumulators of one run: int32 (acc_lo set: kInt8Split's two parts, the
// sum is 16 * acc + acc_lo), or float32 holding exact integers (kExactFloat).
struct Accumulators {
  const void* acc = nullptr;
  const int32_t* acc_lo = nullptr;
  bool float_acc = false;
};
// QcalQConv's second output Yq = QuantizeLinear(y) (per-tensor), laid out like y.
struct QuantizedCopy {
  void* q = nullptr;  // int8 / uint8 (nullptr: none)
  DataType dtype = DataType::kUint8;
  float scale = 1.0f;
  int32_t zero_point = 0;
  bool discard_y = false;  // in ApplyOutputStageRows: y is not wanted (may be null), only q
};
// q[i] = qmath::QuantizeValue(y[i]) for i < n (the x86 QuantizeLinear's rows),
// multi-threaded like ApplyResidual.
void ApplyQuantizedCopy(const QuantizedCopy& copy, const float* y, int64_t n);

// QcalQConv's second output's parameters (constant per-tensor q_scale, int8 / uint8 q_zero_point).
Result<QuantizedCopy> ReadQuantizedCopy(const OpContext& ctx);

// QcalQConv / QLinearConv operands the int8 convolutions take (int8_conv.cc): 4-D
// u8 / s8 X, constant 4-D s8 W with zero point 0, constant x / w / y parameters
// (per-tensor, w_scale per-tensor or per-channel), constant int32 bias, a float
// Z only with a float Y, a second output Yq only with a float Y, the attributes
// readable. The compute choice (oneDNN's mode, depthwise) is the caller's.
bool Int8ConvOperandsSupported(const OpContext& ctx);
// Kernel shape, strides, dilations and pads of an int8 convolution (no ceil_mode).
Result<ref::WindowParams> ReadInt8ConvWindow(const OpContext& ctx);

// What the int8 convolution kernels (oneDNN's, x86's depthwise) take and write
// besides plain NCHW: int8 / uint8 X, Y and Yq NHWC (kNhwc) between int8
// kernels; a float Y and the residual Z (input 9) NHWC too. Every output written.
class Int8ConvLayoutKernel : public Kernel {
 public:
  Int8ConvLayoutKernel(DataType y_type, std::optional<DataType> yq_type)
      : y_type_(y_type), yq_type_(yq_type) {}
  bool WritesAllOutputs() const override { return true; }
  bool AcceptsBlocked(size_t input) const override { return input == 0; }
  bool ProducesBlocked(size_t output) const override {
    if (output == 1) return yq_type_ && NonPlainLayout(*yq_type_) == Layout::kNhwc;
    return output == 0 && NonPlainLayout(y_type_) == Layout::kNhwc;
  }
  bool AcceptsFloatNhwc(size_t input) const override { return input == 9; }
  bool ProducesFloatNhwc(size_t output) const override {
    return output == 0 && y_type_ == DataType::kFloat32;
  }

 private:
  DataType y_type_;
  std::optional<DataType> yq_type_;  // the second output's (none: no Yq)
};

// The layouts an int8 convolution kernel k got: X and Z kPlain or kNhwc, Y and
// Yq kNhwc only where k produces it, every other input kPlain; else an error.
struct Int8ConvLayouts {
  Layout x = Layout::kPlain, y = Layout::kPlain, z = Layout::kPlain, yq = Layout::kPlain;
};
Result<Int8ConvLayouts> CheckInt8ConvLayouts(const Kernel& k, const std::vector<Layout>& in,
                                             const std::vector<Layout>& out);

// QcalQConv's residual input in the output stage: z laid out like y (nullptr:
// none), and the quantized copy of the final y values (float y only).
struct Residual {
  const float* z = nullptr;
  ref::ResidualActivation act = ref::ResidualActivation::kNone;
  QuantizedCopy copy;
};
// y[r, c] = stage(sum[r, c] + corr[r % corr_rows, c]) for `rows` rows of
// `channels` (the channel is the innermost dim of acc and y). y has stage.dtype.
// All int32 arithmetic wraps like the reference accumulation. With residual.z
// (float y only) y[i] = ref::ResidualOutputValue(stage value, z[i], act), the
// same float operations as ApplyResidual after the stage, in the same pass.
// With residual.copy.q (float y only) each row of y is also quantized into it
// right after it is written (ApplyQuantizedCopy's values).
// Multi-threaded with the OpenMP runtime (call ApplyThreads first).
void ApplyOutputStageRows(const ref::OutputStage& stage, const std::vector<float>& mult,
                          const Accumulators& acc, const int32_t* corr, int64_t corr_rows, int64_t rows,
                          int64_t channels, void* y, const Residual& residual = {});

// ApplyOutputStageRows on the calling thread for int32 accumulators whose rows
// are `acc_stride` apart (stride >= channels, e.g. channels padded to a vector
// width); y, residual.z and residual.copy.q hold `rows` dense rows of `channels`
// from the given pointers. For kernels that run their own parallel loop.
void ApplyOutputStageSerial(const ref::OutputStage& stage, const std::vector<float>& mult, const int32_t* acc,
                            int64_t acc_stride, const int32_t* corr, int64_t corr_rows, int64_t rows,
                            int64_t channels, void* y, const Residual& residual = {});

// y[i] = ref::ResidualOutputValue(y[i], z[i], act) for i < n (QcalQConv's residual
// input, quant_output.h): AVX2 with the same IEEE operations, multi-threaded like
// ApplyOutputStageRows.
void ApplyResidual(ref::ResidualActivation act, const float* z, int64_t n, float* y);

}  // namespace qcal::dnnl_kernels
