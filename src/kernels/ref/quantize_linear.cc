// QuantizeLinear: y = saturate(round_half_even(x / y_scale) + y_zero_point).
//
// x: float32 (or int32). y_scale: float32, per-tensor or per-axis (1-D of
// x.shape[axis], `axis` attribute default 1). y_zero_point: optional int8/uint8
// with y_scale's shape; its dtype is the output dtype. Without it the output is
// the `output_dtype` attribute (opset 21; int8/uint8) or uint8, zero point 0.
// Blocked quantization (block_size != 0) and float8/int4/int16 are Unsupported.
#include "kernels/ref/quant_common.h"
#include "kernels/ref/quant_math.h"

namespace qcal::ref {
namespace {

// Output dtype from the zero point or the output_dtype attribute.
Result<DataType> QuantizeOutputType(const Node& node, DataType zp_dtype) {
  int64_t attr = node.attrs.GetInt("output_dtype", 0);
  DataType from_attr = DataType::kUndefined;
  if (attr != 0) {
    auto t = DataTypeFromOnnx(static_cast<int32_t>(attr));
    if (!t.ok() || (*t != DataType::kInt8 && *t != DataType::kUint8)) {
      return Unsupported("output_dtype " + std::to_string(attr) +
                         " is not supported (int8=3 and uint8=2 are)");
    }
    from_attr = *t;
  }
  if (zp_dtype != DataType::kUndefined) {
    if (from_attr != DataType::kUndefined && from_attr != zp_dtype) {
      return InvalidArgument("output_dtype " + std::string(DataTypeName(from_attr)) +
                             " differs from y_zero_point's type " + std::string(DataTypeName(zp_dtype)));
    }
    return zp_dtype;
  }
  return from_attr != DataType::kUndefined ? from_attr : DataType::kUint8;
}

Status InferQuantizeLinear(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 0, {DataType::kFloat32, DataType::kInt32}));
  QCAL_RETURN_IF_ERROR(CheckLinearQuantParams(ctx, {DataType::kInt8, DataType::kUint8}));
  DataType zp = ctx.has_input(2) ? ctx.inputs[2].dtype : DataType::kUndefined;
  QCAL_ASSIGN_OR_RETURN(DataType out, QuantizeOutputType(ctx.node, zp));
  outputs[0] = TensorType{out, ctx.inputs[0].shape};
  return Status::Ok();
}

std::vector<float> InputAsFloat(const Tensor& x) {
  if (x.dtype() == DataType::kFloat32)
    return std::vector<float>(x.data<float>(), x.data<float>() + x.numel());
  return x.ToFloatVector();
}

Status RunQuantizeLinear(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const Tensor& scale = *in[1];
  const Tensor* zp = OptionalInput(in, 2);
  QCAL_RETURN_IF_ERROR(RejectBlockSize(node));
  QCAL_ASSIGN_OR_RETURN(DataType out_type, QuantizeOutputType(node, zp ? zp->dtype() : DataType::kUndefined));
  QCAL_ASSIGN_OR_RETURN(AxisSplit split, SplitAtQuantAxis(node, x.shape(), scale));
  QCAL_ASSIGN_OR_RETURN(auto scales, ReadScales(scale, split.channels, "y_scale"));
  QCAL_ASSIGN_OR_RETURN(auto zps, ReadZeroPoints(zp, split.channels, "y_zero_point"));
  std::vector<float> xf = InputAsFloat(x);
  Tensor& y = PrepareOutput(out, 0, out_type, x.shape());
  return quant::DispatchQuantType(out_type, node.Describe(), [&]<typename Q>() {
    Q* dst = y.data<Q>();
    int64_t i = 0;
    for (int64_t o = 0; o < split.outer; ++o) {
      for (int64_t c = 0; c < split.channels; ++c) {
        float s = ParamAt(scales, c);
        int32_t z = ParamAt(zps, c);
        for (int64_t k = 0; k < split.inner; ++k, ++i) {
          dst[i] = quant::QuantizeValue<Q>(xf[static_cast<size_t>(i)], s, z);
        }
      }
    }
  });
}

Result<std::unique_ptr<Kernel>> CreateQuantizeLinear(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunQuantizeLinear);
}

}  // namespace

QCAL_REGISTER_OP("QuantizeLinear", InferQuantizeLinear, 2, 3, 1, 1);
QCAL_REGISTER_KERNEL("QuantizeLinear", "ref", 0, nullptr, CreateQuantizeLinear);

}  // namespace qcal::ref
