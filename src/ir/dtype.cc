#include "ir/dtype.h"

#include <string>

namespace qcal {
namespace {
struct DataTypeInfo {
  DataType type;
  std::string_view name;
  size_t size;
};
constexpr DataTypeInfo kTypes[] = {
    {DataType::kFloat32, "float32", 4}, {DataType::kUint8, "uint8", 1},
    {DataType::kInt8, "int8", 1},       {DataType::kInt32, "int32", 4},
    {DataType::kInt64, "int64", 8},     {DataType::kBool, "bool", 1},
};
// Names of ONNX types qcal does not support, for error messages.
constexpr std::pair<int32_t, std::string_view> kOnnxOther[] = {
    {4, "uint16"},  {5, "int16"},      {8, "string"},       {10, "float16"},
    {11, "double"}, {12, "uint32"},    {13, "uint64"},      {14, "complex64"},
    {15, "complex128"}, {16, "bfloat16"}, {17, "float8e4m3fn"}, {18, "float8e4m3fnuz"},
    {19, "float8e5m2"}, {20, "float8e5m2fnuz"}, {21, "uint4"}, {22, "int4"},
};
}  // namespace

size_t DataTypeSize(DataType t) {
  for (const auto& i : kTypes) if (i.type == t) return i.size;
  return 0;
}

std::string_view DataTypeName(DataType t) {
  for (const auto& i : kTypes) if (i.type == t) return i.name;
  return "undefined";
}

Result<DataType> DataTypeFromName(std::string_view name) {
  for (const auto& i : kTypes) if (i.name == name) return i.type;
  if (name == "float") return DataType::kFloat32;
  return InvalidArgument("unknown data type '" + std::string(name) +
                         "' (expected float32, uint8, int8, int32, int64 or bool)");
}

Result<DataType> DataTypeFromOnnx(int32_t onnx_type) {
  for (const auto& i : kTypes) {
    if (static_cast<int32_t>(i.type) == onnx_type) return i.type;
  }
  for (const auto& [code, name] : kOnnxOther) {
    if (code == onnx_type) return Unsupported("data type " + std::string(name) + " is not supported");
  }
  return Corrupt("invalid ONNX data type " + std::to_string(onnx_type));
}

}  // namespace qcal
