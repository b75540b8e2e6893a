#include "ir/tensor.h"

#include <cstdint>
#include <cstring>
#include <new>

#include "base/limits.h"

namespace qcal {

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  bool overflow = false, zero = false;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    zero = zero || d == 0;
    overflow = overflow || __builtin_mul_overflow(n, d, &n);
  }
  if (zero) return 0;
  return overflow ? INT64_MAX : n;
}

int64_t NumBytes(DataType dtype, const Shape& shape) {
  int64_t n = NumElements(shape);
  if (n < 0) return -1;
  int64_t bytes = 0;
  if (__builtin_mul_overflow(n, static_cast<int64_t>(DataTypeSize(dtype)), &bytes)) return INT64_MAX;
  return bytes;
}

Status CheckTensorAllocation(DataType dtype, const Shape& shape, std::string_view what) {
  int64_t bytes = NumBytes(dtype, shape);
  if (bytes < 0) return Status::Ok();
  return CheckTensorBytes(std::string(what) + " (" + std::string(DataTypeName(dtype)) + " " +
                              ShapeToString(shape) + ")",
                          bytes == INT64_MAX ? -1 : bytes);
}

bool ShapeIsStatic(const Shape& shape) { return NumElements(shape) >= 0; }

std::string ShapeToString(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += shape[i] < 0 ? "N" : std::to_string(shape[i]);
  }
  return s + "]";
}

namespace {
// 64-byte aligned, zero-filled storage (SIMD kernels rely on the alignment).
std::shared_ptr<uint8_t[]> Allocate(size_t bytes) {
  size_t n = bytes == 0 ? 64 : (bytes + 63) / 64 * 64;
  auto* p = static_cast<uint8_t*>(::operator new[](n, std::align_val_t(64)));
  std::memset(p, 0, n);
  return std::shared_ptr<uint8_t[]>(p, [](uint8_t* q) { ::operator delete[](q, std::align_val_t(64)); });
}
}  // namespace

Tensor::Tensor(DataType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  numel_ = NumElements(shape_);
  assert(numel_ >= 0 && "Tensor needs a static shape");
  data_ = Allocate(nbytes());
}

Tensor::Tensor(DataType dtype, Shape shape, std::shared_ptr<uint8_t[]> storage)
    : dtype_(dtype), shape_(std::move(shape)), data_(std::move(storage)) {
  numel_ = NumElements(shape_);
  assert(numel_ >= 0 && data_ && "Tensor needs a static shape and storage");
}

std::shared_ptr<uint8_t[]> Tensor::AllocateStorage(size_t bytes) { return Allocate(bytes); }

Tensor Tensor::Reshaped(Shape shape) const {
  Tensor t = *this;
  t.shape_ = std::move(shape);
  assert(NumElements(t.shape_) == numel_);
  return t;
}

Tensor Tensor::Clone() const {
  Tensor t(dtype_, shape_);
  if (nbytes()) std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

double Tensor::GetAsDouble(int64_t i) const {
  switch (dtype_) {
    case DataType::kFloat32: return data<float>()[i];
    case DataType::kUint8: return data<uint8_t>()[i];
    case DataType::kInt8: return data<int8_t>()[i];
    case DataType::kInt32: return data<int32_t>()[i];
    case DataType::kInt64: return static_cast<double>(data<int64_t>()[i]);
    case DataType::kBool: return data<bool>()[i] ? 1.0 : 0.0;
    default: return 0.0;
  }
}

int64_t Tensor::GetAsInt64(int64_t i) const {
  if (dtype_ == DataType::kInt64) return data<int64_t>()[i];
  return static_cast<int64_t>(GetAsDouble(i));
}

std::vector<int64_t> Tensor::ToInt64Vector() const {
  std::vector<int64_t> v(static_cast<size_t>(numel_));
  for (int64_t i = 0; i < numel_; ++i) v[static_cast<size_t>(i)] = GetAsInt64(i);
  return v;
}

std::vector<float> Tensor::ToFloatVector() const {
  std::vector<float> v(static_cast<size_t>(numel_));
  for (int64_t i = 0; i < numel_; ++i) v[static_cast<size_t>(i)] = static_cast<float>(GetAsDouble(i));
  return v;
}

}  // namespace qcal
