// Tensor: a typed, shaped, contiguous (row-major) buffer. Copies share the buffer
// (like a shared_ptr); use Clone() for a deep copy.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ir/dtype.h"

namespace qcal {

using Shape = std::vector<int64_t>;  // -1 marks a symbolic (unknown) dim, used only in IR value infos

int64_t NumElements(const Shape& shape);  // product; -1 if any dim is symbolic, INT64_MAX on overflow
std::string ShapeToString(const Shape& shape);  // "[1,3,32,32]", symbolic dims as "N"
bool ShapeIsStatic(const Shape& shape);
// Bytes a tensor of `dtype` and static `shape` needs; INT64_MAX on overflow, -1 if symbolic.
int64_t NumBytes(DataType dtype, const Shape& shape);
// OutOfRange when a tensor of `dtype` and `shape` would be larger than
// ResourceLimits::max_tensor_bytes (base/limits.h); `what` names it. Symbolic shapes pass.
Status CheckTensorAllocation(DataType dtype, const Shape& shape, std::string_view what);

class Tensor {
 public:
  Tensor() = default;
  // Allocates zero-filled storage for `shape` (which must be static).
  Tensor(DataType dtype, Shape shape);
  // Uses `storage` (at least nbytes(), 64-byte aligned, NOT cleared) as the
  // buffer: the executor's buffer pool hands recycled storage to kernels.
  Tensor(DataType dtype, Shape shape, std::shared_ptr<uint8_t[]> storage);
  // Zero-filled, 64-byte-aligned storage of at least `bytes` bytes.
  static std::shared_ptr<uint8_t[]> AllocateStorage(size_t bytes);

  DataType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t i) const { return shape_[static_cast<size_t>(i)]; }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * DataTypeSize(dtype_); }
  bool empty() const { return dtype_ == DataType::kUndefined; }

  // The shared buffer (use_count() tells whether other tensors alias it).
  const std::shared_ptr<uint8_t[]>& storage() const { return data_; }
  void* raw() { return data_.get(); }
  const void* raw() const { return data_.get(); }
  template <typename T> T* data() {
    assert(DataTypeOf<T>::value == dtype_);
    return static_cast<T*>(raw());
  }
  template <typename T> const T* data() const {
    assert(DataTypeOf<T>::value == dtype_);
    return static_cast<const T*>(raw());
  }

  // Same buffer, new shape with the same element count.
  Tensor Reshaped(Shape shape) const;
  Tensor Clone() const;
  // Element i converted to double / int64 (any dtype); for small tensors (shapes, attrs).
  double GetAsDouble(int64_t i) const;
  int64_t GetAsInt64(int64_t i) const;
  std::vector<int64_t> ToInt64Vector() const;
  std::vector<float> ToFloatVector() const;

  template <typename T>
  static Tensor FromVector(const std::vector<T>& v, Shape shape) {
    Tensor t(DataTypeOf<T>::value, std::move(shape));
    assert(static_cast<int64_t>(v.size()) == t.numel());
    for (size_t i = 0; i < v.size(); ++i) t.data<T>()[i] = v[i];
    return t;
  }
  template <typename T>
  static Tensor Scalar(T v) { return FromVector<T>({v}, {}); }

 private:
  DataType dtype_ = DataType::kUndefined;
  Shape shape_;
  int64_t numel_ = 0;
  std::shared_ptr<uint8_t[]> data_;
};

}  // namespace qcal
