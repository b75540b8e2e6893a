// Helpers shared by the quantized-op reference kernels: validation of scale /
// zero-point inputs during inference and reading them at run time.
//
// Inference-time checks return errors without the op prefix: KernelRegistry::Infer
// prefixes them with ctx.where() ("QLinearConv 'conv1': ...").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/ref/common.h"

namespace qcal::ref {

// Quantization-parameter tensors with numel 1 and rank <= 1 are per-tensor.
bool IsPerTensorShape(const Shape& shape);

// Requires input `idx` (named `name` in messages) to be a per-tensor value
// (scalar or 1-element 1-D) of one of `dtypes`. Unknown dims are accepted.
Status CheckPerTensorParam(const OpContext& ctx, size_t idx, const char* name,
                           std::initializer_list<DataType> dtypes);

// Requires input `idx` to be per-tensor or a 1-D tensor of `count` elements
// (`count` -1: unknown, any length accepted), of one of `dtypes`.
Status CheckVectorParam(const OpContext& ctx, size_t idx, const char* name, int64_t count,
                        const char* what_count, std::initializer_list<DataType> dtypes);

// Requires the optional zero point `zp_idx` (if present) to have the same shape as scale `scale_idx`.
Status CheckSameShape(const OpContext& ctx, size_t scale_idx, size_t zp_idx);

// Run time: a per-tensor or per-channel parameter read into a vector of length
// 1 or `count`. Errors (without op prefix) when the element count fits neither.
Result<std::vector<float>> ReadScales(const Tensor& scale, int64_t count, const char* name);
// A zero point tensor read as int32 (any integer dtype); nullptr (omitted) -> {0}.
Result<std::vector<int32_t>> ReadZeroPoints(const Tensor* zp, int64_t count, const char* name);

// Element i of a parameter vector of length 1 (broadcast) or count.
template <typename T>
inline T ParamAt(const std::vector<T>& v, int64_t i) {
  return v.size() == 1 ? v[0] : v[static_cast<size_t>(i)];
}

// Input i or nullptr when it is omitted or beyond the node's inputs.
inline const Tensor* OptionalInput(const std::vector<const Tensor*>& in, size_t i) {
  return i < in.size() ? in[i] : nullptr;
}

// Unsupported when the node's block_size attribute is present and non-zero
// (blocked quantization, opset 21).
Status RejectBlockSize(const Node& node);

// QuantizeLinear / DequantizeLinear parameters: input 1 is the float32 scale,
// input 2 the optional zero point. Per-tensor (scalar or 1 element), or per-axis:
// 1-D of x.shape[axis] with axis from the `axis` attribute (default 1, may be
// negative). Inference check; `zp_dtypes` are the allowed zero point types.
Status CheckLinearQuantParams(const OpContext& ctx, std::initializer_list<DataType> zp_dtypes);

// x viewed as [outer, channels, inner] around the quantization axis; a
// per-tensor scale gives channels = 1 (the whole tensor is one channel).
struct AxisSplit {
  int64_t outer = 1, channels = 1, inner = 1;
};
Result<AxisSplit> SplitAtQuantAxis(const Node& node, const Shape& x_shape, const Tensor& scale);

// Run-time operands of a QuantizeLinear / DequantizeLinear node, validated:
// the quantized dtype (Q's output, DQ's input), x's split around the axis and
// the scales / zero points (length 1 or split.channels). Shared by the
// reference and the optimized kernels so both read parameters the same way.
struct LinearQuantArgs {
  DataType q_type = DataType::kUndefined;
  AxisSplit split;
  std::vector<float> scales;
  std::vector<int32_t> zero_points;
};
// QuantizeLinear's output dtype: the zero point's dtype (zp_dtype, kUndefined
// when omitted), else the output_dtype attribute (int8/uint8), else uint8.
Result<DataType> QuantizeOutputType(const Node& node, DataType zp_dtype);
Result<LinearQuantArgs> ReadQuantizeArgs(const Node& node, const std::vector<const Tensor*>& in);
Result<LinearQuantArgs> ReadDequantizeArgs(const Node& node, const std::vector<const Tensor*>& in);

}  // namespace qcal::ref
