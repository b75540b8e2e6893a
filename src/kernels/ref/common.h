// Helpers shared by reference kernels and op inference functions.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
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

// Calls f.template operator()<U>() with an unsigned type U of the dtype's
// element size: for ops that only move elements (Transpose, Slice, Pad, ...).
template <typename F>
Status DispatchBySize(DataType t, const std::string& where, F&& f) {
  switch (DataTypeSize(t)) {
    case 1: f.template operator()<uint8_t>(); return Status::Ok();
    case 2: f.template operator()<uint16_t>(); return Status::Ok();
    case 4: f.template operator()<uint32_t>(); return Status::Ok();
    case 8: f.template operator()<uint64_t>(); return Status::Ok();
    default:
      return Unsupported(where + ": data type " + std::string(DataTypeName(t)) + " is not supported");
  }
}

// The int64 values of input i when it is a known constant (any integer dtype), else nullopt.
std::optional<std::vector<int64_t>> ConstInts(const OpContext& ctx, size_t i);

// Requires input i (when present) to be a 1-D (or, with allow_scalar, 0-D) integer tensor;
// `what` names it in errors ("shape", "axes").
Status ExpectIntVector(const OpContext& ctx, size_t i, const std::string& what, bool allow_scalar = false);

// Length of a 1-D input, or -1 when unknown.
int64_t VectorLength(const TensorType& t);

// Normalizes a list of axes for `rank`; errors on out-of-range or repeated axes.
Result<std::vector<int64_t>> NormalizeAxes(const std::vector<int64_t>& axes, int64_t rank,
                                           const std::string& where);

// Product of dims [begin, end); -1 if any of them is unknown.
int64_t DimProduct(const Shape& shape, size_t begin, size_t end);

// Inference for the elementwise binary ops: same dtype for both inputs (one of
// `allowed`), numpy broadcast output shape.
Status InferBroadcastBinary(const OpContext& ctx, std::vector<TensorType>& outputs,
                            std::initializer_list<DataType> allowed);

// Inference for float32-only unary elementwise ops.
Status InferFloatUnary(const OpContext& ctx, std::vector<TensorType>& outputs);

// y[i] = f(x[i]); y must already have x's shape.
template <typename TI, typename TO, typename F>
void MapUnary(const Tensor& x, Tensor& y, F f) {
  const TI* src = x.data<TI>();
  TO* dst = y.data<TO>();
  const int64_t n = x.numel();
  for (int64_t i = 0; i < n; ++i) dst[i] = f(src[i]);
}

// out[i] = f(a[ia], b[ib]) over out's shape with numpy broadcasting of a and b
// (out must already have the broadcast shape). Fast paths: same shape, scalar
// operand; otherwise an odometer over the outer dims with a strided inner loop
// (covers per-channel broadcasting such as [N,C,H,W] op [C,1,1]).
template <typename TA, typename TB, typename TO, typename F>
void BroadcastLoop(const Tensor& a, const Tensor& b, Tensor& out, F f) {
  const TA* pa = a.data<TA>();
  const TB* pb = b.data<TB>();
  TO* po = out.data<TO>();
  const int64_t n = out.numel();
  if (n == 0) return;
  if (a.numel() == n && b.numel() == n) {
    for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
    return;
  }
  if (b.numel() == 1) {
    const TB vb = pb[0];
    for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], vb);
    return;
  }
  if (a.numel() == 1) {
    const TA va = pa[0];
    for (int64_t i = 0; i < n; ++i) po[i] = f(va, pb[i]);
    return;
  }
  const size_t rank = out.shape().size();
  const std::vector<int64_t> sa = BroadcastStrides(a.shape(), rank);
  const std::vector<int64_t> sb = BroadcastStrides(b.shape(), rank);
  const int64_t inner = out.shape()[rank - 1];
  const int64_t ia = sa[rank - 1], ib = sb[rank - 1];
  std::vector<int64_t> idx(rank, 0);
  int64_t oa = 0, ob = 0;
  for (int64_t o = 0; o < n; o += inner) {
    for (int64_t i = 0; i < inner; ++i) po[o + i] = f(pa[oa + i * ia], pb[ob + i * ib]);
    for (int64_t d = static_cast<int64_t>(rank) - 2; d >= 0; --d) {  // advance the outer odometer
      const size_t u = static_cast<size_t>(d);
      oa += sa[u];
      ob += sb[u];
      if (++idx[u] < out.shape()[u]) break;
      oa -= sa[u] * idx[u];
      ob -= sb[u] * idx[u];
      idx[u] = 0;
    }
  }
}

// Copies elements of type T (any trivially copyable type of the dtype's size)
// from `src` at strided positions into contiguous `dst`: for every index of
// `shape`, dst[k++] = src[base + sum(index[d] * strides[d])]. Used by
// Transpose and Slice.
template <typename T>
void StridedGather(const T* src, int64_t base, const Shape& shape, const std::vector<int64_t>& strides,
                   T* dst) {
  const int64_t n = NumElements(shape);
  if (n == 0) return;
  if (shape.empty()) {
    dst[0] = src[base];
    return;
  }
  const size_t rank = shape.size();
  const int64_t inner = shape[rank - 1];
  const int64_t is = strides[rank - 1];
  std::vector<int64_t> idx(rank, 0);
  int64_t off = base;
  for (int64_t o = 0; o < n; o += inner) {
    for (int64_t i = 0; i < inner; ++i) dst[o + i] = src[off + i * is];
    for (int64_t d = static_cast<int64_t>(rank) - 2; d >= 0; --d) {
      const size_t u = static_cast<size_t>(d);
      off += strides[u];
      if (++idx[u] < shape[u]) break;
      off -= strides[u] * idx[u];
      idx[u] = 0;
    }
  }
}

}  // namespace qcal::ref
