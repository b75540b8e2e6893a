// Element types of qcal tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "qcal/status.h"

namespace qcal {

// Values match ONNX TensorProto.DataType so frontends/exporters map 1:1.
enum class DataType : int32_t {
  kUndefined = 0,
  kFloat32 = 1,
  kUint8 = 2,
  kInt8 = 3,
  kInt32 = 6,
  kInt64 = 7,
  kBool = 9,
};

size_t DataTypeSize(DataType t);          // bytes per element; 0 for kUndefined
std::string_view DataTypeName(DataType t);  // "float32", "int8", ...
Result<DataType> DataTypeFromName(std::string_view name);
// Maps an ONNX TensorProto.DataType number; unsupported ones give an error naming the type.
Result<DataType> DataTypeFromOnnx(int32_t onnx_type);

template <typename T> struct DataTypeOf;
template <> struct DataTypeOf<float> { static constexpr DataType value = DataType::kFloat32; };
template <> struct DataTypeOf<uint8_t> { static constexpr DataType value = DataType::kUint8; };
template <> struct DataTypeOf<int8_t> { static constexpr DataType value = DataType::kInt8; };
template <> struct DataTypeOf<int32_t> { static constexpr DataType value = DataType::kInt32; };
template <> struct DataTypeOf<int64_t> { static constexpr DataType value = DataType::kInt64; };
template <> struct DataTypeOf<bool> { static constexpr DataType value = DataType::kBool; };

}  // namespace qcal
