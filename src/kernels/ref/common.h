// Helpers shared by reference kernels and op inference functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/registry.h"

namespace qcal::ref {

// Normalizes a possibly negative axis into [0, rank); error names the op.
Result<int64_t> NormalizeAxis(int64_t axis, int64_t rank, const std::string& where);

// Numpy-style multidirectional broadcast of two shapes. -1 (unknown) dims
// broadcast with 1 to -1.
Result<Shape> BroadcastShapes(const Shape& a, const Shape& b, const std::string& where);

// Strides (in elements) of `shape` as seen from an output of rank out_rank:
// broadcast dims get stride 0. Used to walk broadcast inputs.
std::vector<int64_t> BroadcastStrides(const Shape& shape, size_t out_rank);

// Row-major strides.
std::vector<int64_t> Strides(const Shape& shape);

// Inference for ops whose single output has input 0's type and shape.
Status InferSameAsInput0(const OpContext& ctx, std::vector<TensorType>& outputs);

// Requires input i to have one of the given dtypes.
Status ExpectDtype(const OpContext& ctx, size_t i, std::initializer_list<DataType> allowed);

// Allocates outputs[i] as (dtype, shape), reusing its buffer if it already matches.
Tensor& PrepareOutput(std::vector<Tensor>& outputs, size_t i, DataType dtype, const Shape& shape);

// Calls f.template operator()<T>() for the tensor dtype T. Returns Unsupported
// for dtypes outside the list (name the op via `where`).
template <typename F>
Status DispatchNumeric(DataType t, const std::string& where, F&& f) {
  switch (t) {
    case DataType::kFloat32: f.template operator()<float>(); return Status::Ok();
    case DataType::kInt8: f.template operator()<int8_t>(); return Status::Ok();
    case DataType::kUint8: f.template operator()<uint8_t>(); return Status::Ok();
    case DataType::kInt32: f.template operator()<int32_t>(); return Status::Ok();
    case DataType::kInt64: f.template operator()<int64_t>(); return Status::Ok();
    default:
      return Unsupported(where + ": data type " + std::string(DataTypeName(t)) + " is not supported");
  }
}

// Same, including bool (for data-movement ops: Reshape, Concat, Gather, ...).
template <typename F>
Status DispatchAny(DataType t, const std::string& where, F&& f) {
  if (t == DataType::kBool) {
    f.template operator()<bool>();
    return Status::Ok();
  }
  return DispatchNumeric(t, where, std::forward<F>(f));
}

}  // namespace qcal::ref
