#include "kernels/ref/common.h"

#include <algorithm>

namespace qcal::ref {

Result<int64_t> NormalizeAxis(int64_t axis, int64_t rank, const std::string& where) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    return InvalidArgument(where + ": axis " + std::to_string(axis) + " is out of range for rank " +
                           std::to_string(rank));
  }
  return a;
}

Result<Shape> BroadcastShapes(const Shape& a, const Shape& b, const std::string& where) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else if (db == 1) {
      out[i] = da;
    } else if (da < 0 || db < 0) {
      out[i] = std::max(da, db);
    } else {
      return InvalidArgument(where + ": shapes " + ShapeToString(a) + " and " + ShapeToString(b) +
                             " cannot be broadcast");
    }
  }
  return out;
}

std::vector<int64_t> Strides(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i) {
    s[static_cast<size_t>(i)] = s[static_cast<size_t>(i + 1)] * shape[static_cast<size_t>(i + 1)];
  }
  return s;
}

std::vector<int64_t> BroadcastStrides(const Shape& shape, size_t out_rank) {
  std::vector<int64_t> s(out_rank, 0);
  std::vector<int64_t> own = Strides(shape);
  size_t off = out_rank - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) s[off + i] = shape[i] == 1 ? 0 : own[i];
  return s;
}

Status InferSameAsInput0(const OpContext& ctx, std::vector<TensorType>& outputs) {
  outputs[0] = ctx.inputs[0];
  return Status::Ok();
}

Status ExpectDtype(const OpContext& ctx, size_t i, std::initializer_list<DataType> allowed) {
  DataType t = ctx.inputs[i].dtype;
  for (DataType a : allowed) if (a == t) return Status::Ok();
  std::string names;
  for (DataType a : allowed) names += (names.empty() ? "" : ", ") + std::string(DataTypeName(a));
  return Unsupported("input " + std::to_string(i) + " has data type " + std::string(DataTypeName(t)) +
                     ", expected one of: " + names);
}

Tensor& PrepareOutput(std::vector<Tensor>& outputs, size_t i, DataType dtype, const Shape& shape) {
  Tensor& t = outputs[i];
  if (t.dtype() != dtype || t.shape() != shape) t = Tensor(dtype, shape);
  return t;
}

}  // namespace qcal::ref

namespace qcal::ref {

std::optional<std::vector<int64_t>> ConstInts(const OpContext& ctx, size_t i) {
  const Tensor* t = ctx.constant(i);
  if (!t) return std::nullopt;
  return t->ToInt64Vector();
}

Status ExpectIntVector(const OpContext& ctx, size_t i, const std::string& what, bool allow_scalar) {
  if (!ctx.has_input(i)) return Status::Ok();
  const TensorType& t = ctx.inputs[i];
  if (t.dtype != DataType::kInt64 && t.dtype != DataType::kInt32) {
    return InvalidArgument("input '" + what + "' must be int64 or int32, got " +
                           std::string(DataTypeName(t.dtype)));
  }
  if (t.shape.size() != 1 && !(allow_scalar && t.shape.empty())) {
    return InvalidArgument("input '" + what + "' must be 1-D, got shape " + ShapeToString(t.shape));
  }
  return Status::Ok();
}

int64_t VectorLength(const TensorType& t) {
  if (t.shape.empty()) return 1;
  return t.shape.size() == 1 ? t.shape[0] : -1;
}

Result<std::vector<int64_t>> NormalizeAxes(const std::vector<int64_t>& axes, int64_t rank,
                                           const std::string& where) {
  std::vector<int64_t> out;
  std::vector<bool> seen(static_cast<size_t>(std::max<int64_t>(rank, 0)), false);
  for (int64_t a : axes) {
    QCAL_ASSIGN_OR_RETURN(int64_t n, NormalizeAxis(a, rank, where));
    if (seen[static_cast<size_t>(n)]) {
      return InvalidArgument(where + ": axis " + std::to_string(a) + " is repeated");
    }
    seen[static_cast<size_t>(n)] = true;
    out.push_back(n);
  }
  return out;
}

int64_t DimProduct(const Shape& shape, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end && i < shape.size(); ++i) {
    if (shape[i] < 0) return -1;
    p *= shape[i];
  }
  return p;
}

Status InferBroadcastBinary(const OpContext& ctx, std::vector<TensorType>& outputs,
                            std::initializer_list<DataType> allowed) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 0, allowed));
  if (ctx.inputs[1].dtype != ctx.inputs[0].dtype) {
    return InvalidArgument("inputs have different data types (" +
                           std::string(DataTypeName(ctx.inputs[0].dtype)) + " and " +
                           std::string(DataTypeName(ctx.inputs[1].dtype)) + ")");
  }
  QCAL_ASSIGN_OR_RETURN(Shape s, BroadcastShapes(ctx.inputs[0].shape, ctx.inputs[1].shape, "broadcast"));
  outputs[0] = {ctx.inputs[0].dtype, std::move(s)};
  return Status::Ok();
}

Status InferFloatUnary(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 0, {DataType::kFloat32}));
  return InferSameAsInput0(ctx, outputs);
}

}  // namespace qcal::ref
