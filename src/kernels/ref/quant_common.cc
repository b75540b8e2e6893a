#include "kernels/ref/quant_common.h"

namespace qcal::ref {
namespace {

std::string DtypeList(std::initializer_list<DataType> dtypes) {
  std::string s;
  for (DataType t : dtypes) s += (s.empty() ? "" : " or ") + std::string(DataTypeName(t));
  return s;
}

Status CheckDtype(const OpContext& ctx, size_t idx, const char* name,
                  std::initializer_list<DataType> dtypes) {
  DataType t = ctx.inputs[idx].dtype;
  for (DataType a : dtypes) {
    if (a == t) return Status::Ok();
  }
  return Unsupported(std::string(name) + " (input " + std::to_string(idx) + ") has data type " +
                     std::string(DataTypeName(t)) + ", expected " + DtypeList(dtypes));
}

}  // namespace

bool IsPerTensorShape(const Shape& shape) { return shape.empty() || (shape.size() == 1 && shape[0] == 1); }

Status CheckPerTensorParam(const OpContext& ctx, size_t idx, const char* name,
                           std::initializer_list<DataType> dtypes) {
  if (!ctx.has_input(idx)) return Status::Ok();
  QCAL_RETURN_IF_ERROR(CheckDtype(ctx, idx, name, dtypes));
  const Shape& s = ctx.inputs[idx].shape;
  if (IsPerTensorShape(s) || (s.size() == 1 && s[0] < 0)) return Status::Ok();
  return InvalidArgument(std::string(name) + " must be a scalar or a 1-element tensor, got shape " +
                         ShapeToString(s));
}

Status CheckVectorParam(const OpContext& ctx, size_t idx, const char* name, int64_t count,
                        const char* what_count, std::initializer_list<DataType> dtypes) {
  if (!ctx.has_input(idx)) return Status::Ok();
  QCAL_RETURN_IF_ERROR(CheckDtype(ctx, idx, name, dtypes));
  const Shape& s = ctx.inputs[idx].shape;
  if (IsPerTensorShape(s)) return Status::Ok();
  if (s.size() == 1 && (s[0] < 0 || count < 0 || s[0] == count)) return Status::Ok();
  return InvalidArgument(std::string(name) + " must be a scalar or a 1-D tensor of " + what_count + " (" +
                         (count < 0 ? std::string("?") : std::to_string(count)) + ") elements, got shape " +
                         ShapeToString(s));
}

Status CheckSameShape(const OpContext& ctx, size_t scale_idx, size_t zp_idx) {
  if (!ctx.has_input(zp_idx) || !ctx.has_input(scale_idx)) return Status::Ok();
  const Shape& a = ctx.inputs[scale_idx].shape;
  const Shape& b = ctx.inputs[zp_idx].shape;
  if (IsPerTensorShape(a) && IsPerTensorShape(b)) return Status::Ok();
  bool same = a.size() == b.size();
  for (size_t i = 0; same && i < a.size(); ++i) same = a[i] == b[i] || a[i] < 0 || b[i] < 0;
  if (same) return Status::Ok();
  return InvalidArgument("zero point (input " + std::to_string(zp_idx) + ") shape " + ShapeToString(b) +
                         " differs from scale (input " + std::to_string(scale_idx) + ") shape " +
                         ShapeToString(a));
}

Result<std::vector<float>> ReadScales(const Tensor& scale, int64_t count, const char* name) {
  if (scale.dtype() != DataType::kFloat32) {
    return Unsupported(std::string(name) + " has data type " + std::string(DataTypeName(scale.dtype())) +
                       ", expected float32");
  }
  if (scale.numel() != 1 && scale.numel() != count) {
    return InvalidArgument(std::string(name) + " has " + std::to_string(scale.numel()) +
                           " elements, expected 1 or " + std::to_string(count));
  }
  const float* p = scale.data<float>();
  return std::vector<float>(p, p + scale.numel());
}

Result<std::vector<int32_t>> ReadZeroPoints(const Tensor* zp, int64_t count, const char* name) {
  if (zp == nullptr) return std::vector<int32_t>{0};
  if (zp->numel() != 1 && zp->numel() != count) {
    return InvalidArgument(std::string(name) + " has " + std::to_string(zp->numel()) +
                           " elements, expected 1 or " + std::to_string(count));
  }
  std::vector<int32_t> v(static_cast<size_t>(zp->numel()));
  for (int64_t i = 0; i < zp->numel(); ++i)
    v[static_cast<size_t>(i)] = static_cast<int32_t>(zp->GetAsInt64(i));
  return v;
}

Status RejectBlockSize(const Node& node) {
  int64_t block = node.attrs.GetInt("block_size", 0);
  if (block == 0) return Status::Ok();
  return Unsupported("blocked quantization (block_size=" + std::to_string(block) +
                     ") is not supported; use per-tensor or per-axis scales (block_size=0)");
}

Status CheckLinearQuantParams(const OpContext& ctx, std::initializer_list<DataType> zp_dtypes) {
  QCAL_RETURN_IF_ERROR(RejectBlockSize(ctx.node));
  const Shape& x = ctx.inputs[0].shape;
  const Shape& scale = ctx.inputs[1].shape;
  int64_t count = -1;
  if (!IsPerTensorShape(scale) && scale.size() == 1) {
    int64_t axis_attr = ctx.node.attrs.GetInt("axis", 1);
    QCAL_ASSIGN_OR_RETURN(int64_t axis,
                          NormalizeAxis(axis_attr, static_cast<int64_t>(x.size()), "per-axis scale"));
    count = x[static_cast<size_t>(axis)];
  } else if (scale.size() > 1) {
    return InvalidArgument(
        "scale has shape " + ShapeToString(scale) +
        "; expected a scalar or a 1-D per-axis tensor (blocked quantization needs block_size)");
  }
  QCAL_RETURN_IF_ERROR(CheckVectorParam(ctx, 1, "scale", count, "x.shape[axis]", {DataType::kFloat32}));
  QCAL_RETURN_IF_ERROR(CheckVectorParam(ctx, 2, "zero point", count, "x.shape[axis]", zp_dtypes));
  return CheckSameShape(ctx, 1, 2);
}

Result<AxisSplit> SplitAtQuantAxis(const Node& node, const Shape& x_shape, const Tensor& scale) {
  AxisSplit s;
  if (IsPerTensorShape(scale.shape())) {
    s.inner = NumElements(x_shape);
    return s;
  }
  if (scale.rank() != 1) {
    return InvalidArgument("scale has shape " + ShapeToString(scale.shape()) +
                           "; expected a scalar or 1-D tensor");
  }
  QCAL_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(node.attrs.GetInt("axis", 1),
                                                    static_cast<int64_t>(x_shape.size()), "per-axis scale"));
  for (int64_t i = 0; i < axis; ++i) s.outer *= x_shape[static_cast<size_t>(i)];
  s.channels = x_shape[static_cast<size_t>(axis)];
  for (size_t i = static_cast<size_t>(axis) + 1; i < x_shape.size(); ++i) s.inner *= x_shape[i];
  if (scale.numel() != s.channels) {
    return InvalidArgument("per-axis scale has " + std::to_string(scale.numel()) + " elements but x.shape[" +
                           std::to_string(axis) + "] is " + std::to_string(s.channels));
  }
  return s;
}

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

namespace {

// Split, scales and zero points of x = in[0] with scale in[1] and optional zero point in[2].
Status ReadAxisParams(const Node& node, const std::vector<const Tensor*>& in, const char* prefix,
                      LinearQuantArgs& args) {
  QCAL_ASSIGN_OR_RETURN(args.split, SplitAtQuantAxis(node, in[0]->shape(), *in[1]));
  const std::string p(prefix);
  QCAL_ASSIGN_OR_RETURN(args.scales, ReadScales(*in[1], args.split.channels, (p + "_scale").c_str()));
  QCAL_ASSIGN_OR_RETURN(args.zero_points, ReadZeroPoints(OptionalInput(in, 2), args.split.channels,
                                                         (p + "_zero_point").c_str()));
  return Status::Ok();
}

}  // namespace

Result<LinearQuantArgs> ReadQuantizeArgs(const Node& node, const std::vector<const Tensor*>& in) {
  LinearQuantArgs args;
  QCAL_RETURN_IF_ERROR(RejectBlockSize(node));
  const Tensor* zp = OptionalInput(in, 2);
  QCAL_ASSIGN_OR_RETURN(args.q_type, QuantizeOutputType(node, zp ? zp->dtype() : DataType::kUndefined));
  QCAL_RETURN_IF_ERROR(ReadAxisParams(node, in, "y", args));
  return args;
}

Result<LinearQuantArgs> ReadDequantizeArgs(const Node& node, const std::vector<const Tensor*>& in) {
  LinearQuantArgs args;
  const Tensor& x = *in[0];
  const Tensor* zp = OptionalInput(in, 2);
  QCAL_RETURN_IF_ERROR(RejectBlockSize(node));
  if (zp && zp->dtype() != x.dtype()) {
    return InvalidArgument("x_zero_point has type " + std::string(DataTypeName(zp->dtype())) + ", x has " +
                           std::string(DataTypeName(x.dtype())));
  }
  args.q_type = x.dtype();
  QCAL_RETURN_IF_ERROR(ReadAxisParams(node, in, "x", args));
  return args;
}

}  // namespace qcal::ref
