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
