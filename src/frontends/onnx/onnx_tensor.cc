// ONNX TensorProto -> Tensor: raw_data and the typed repeated fields, with the
// dims and the data size validated before anything is allocated.
#include "frontends/onnx/onnx_tensor.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <climits>
#include <cstring>
#include <limits>

#include "base/file.h"
#include "frontends/onnx/onnx_internal.h"

namespace qcal {
namespace onnx_import {
namespace {

constexpr int32_t kOnnxDouble = onnx::TensorProto::DOUBLE;
// Element counts above this cannot be addressed as bytes of an 8-byte type.
constexpr int64_t kMaxElements = std::numeric_limits<int64_t>::max() / 8;

std::string DimsToString(const onnx::TensorProto& p) {
  std::string s = "[";
  for (int i = 0; i < p.dims_size(); ++i) {
    if (i) s += ",";
    s += std::to_string(p.dims(i));
  }
  return s + "]";
}

// Validated shape and element count of the tensor.
Result<Shape> ShapeOf(const onnx::TensorProto& p, const std::string& where, int64_t* numel) {
  Shape shape;
  int64_t n = 1;
  for (int i = 0; i < p.dims_size(); ++i) {
    int64_t d = p.dims(i);
    if (d < 0) {
      return Corrupt(where + ": negative dimension " + std::to_string(d) + " at axis " + std::to_string(i) +
                     " in dims " + DimsToString(p));
    }
    if (d != 0 && n > kMaxElements / d) {
      return Corrupt(where + ": element count of dims " + DimsToString(p) + " overflows");
    }
    n *= d;
    shape.push_back(d);
  }
  *numel = n;
  return shape;
}

Status CheckSelfContained(const onnx::TensorProto& p, const std::string& where) {
  if (p.data_location() == onnx::TensorProto::EXTERNAL || p.external_data_size() > 0) {
    std::string location;
    for (const auto& kv : p.external_data()) {
      if (kv.key() == "location") location = " (location '" + kv.value() + "')";
    }
    return Unsupported(where + ": data is stored in an external file" + location +
                       "; qcal reads only self-contained ONNX files. Re-save the model with "
                       "onnx.save_model(model, path, save_as_external_data=False) (up to 2 GiB)");
  }
  if (p.has_segment()) return Unsupported(where + ": segmented tensors are not supported");
  return Status::Ok();
}

Status SizeMismatch(const std::string& where, const onnx::TensorProto& p, const std::string& field,
                    size_t have, int64_t want, const std::string& unit) {
  return Corrupt(where + ": " + field + " holds " + std::to_string(have) + " " + unit + ", but dims " +
                 DimsToString(p) + " need " + std::to_string(want));
}

// Copies little-endian raw_data into t (converting double to float32).
Status CopyRaw(const onnx::TensorProto& p, const std::string& where, bool is_double, Tensor& t) {
  const std::string& raw = p.raw_data();
  size_t elem = is_double ? sizeof(double) : DataTypeSize(t.dtype());
  int64_t want = t.numel() * static_cast<int64_t>(elem);
  if (raw.size() != static_cast<size_t>(want))
    return SizeMismatch(where, p, "raw_data", raw.size(), want, "bytes");
  if (is_double) {
    float* dst = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      double v;
      std::memcpy(&v, raw.data() + i * sizeof(double), sizeof(double));
      dst[i] = static_cast<float>(v);
    }
  } else if (t.numel() > 0) {
    std::memcpy(t.raw(), raw.data(), raw.size());
  }
  if (t.dtype() == DataType::kBool) {
    auto* b = static_cast<uint8_t*>(t.raw());
    for (int64_t i = 0; i < t.numel(); ++i) b[i] = b[i] != 0;
  }
  return Status::Ok();
}

// Checks the value count of a typed repeated field, then allocates and copies.
template <typename Dst, typename Field>
Result<Tensor> FromTyped(const Field& src, const onnx::TensorProto& p, const std::string& where,
                         const std::string& field, DataType dtype, const Shape& shape, int64_t numel) {
  if (static_cast<int64_t>(src.size()) != numel) {
    return SizeMismatch(where, p, field, static_cast<size_t>(src.size()), numel, "values");
  }
  Tensor t(dtype, shape);
  Dst* dst = t.data<Dst>();
  for (int64_t i = 0; i < numel; ++i) {
    auto v = src.Get(static_cast<int>(i));
    if constexpr (std::is_integral_v<Dst> && !std::is_same_v<Dst, bool> && sizeof(Dst) < sizeof(v)) {
      if (v < std::numeric_limits<Dst>::min() || v > std::numeric_limits<Dst>::max()) {
        return Corrupt(where + ": value " + std::to_string(v) + " at index " + std::to_string(i) + " of " +
                       field + " is out of range for the tensor's data type");
      }
    }
    if constexpr (std::is_same_v<Dst, bool>) {
      dst[i] = v != 0;
    } else {
      dst[i] = static_cast<Dst>(v);
    }
  }
  return t;
}

// The tensor from the typed repeated field that holds its dtype.
Result<Tensor> TypedDataToTensor(const onnx::TensorProto& p, const std::string& where, bool is_double,
                                 DataType dtype, const Shape& shape, int64_t n) {
  if (is_double) return FromTyped<float>(p.double_data(), p, where, "double_data", dtype, shape, n);
  switch (dtype) {
    case DataType::kFloat32:
      return FromTyped<float>(p.float_data(), p, where, "float_data", dtype, shape, n);
    case DataType::kUint8:
      return FromTyped<uint8_t>(p.int32_data(), p, where, "int32_data", dtype, shape, n);
    case DataType::kInt8:
      return FromTyped<int8_t>(p.int32_data(), p, where, "int32_data", dtype, shape, n);
    case DataType::kInt32:
      return FromTyped<int32_t>(p.int32_data(), p, where, "int32_data", dtype, shape, n);
    case DataType::kBool:
      return FromTyped<bool>(p.int32_data(), p, where, "int32_data", dtype, shape, n);
    case DataType::kInt64:
      return FromTyped<int64_t>(p.int64_data(), p, where, "int64_data", dtype, shape, n);
    default:
      return Internal(where + ": unhandled data type " + std::string(DataTypeName(dtype)));
  }
}

}  // namespace

bool ParseMessage(std::string_view bytes, google::protobuf::MessageLite* message) {
  if (bytes.size() > static_cast<size_t>(INT_MAX)) return false;
  google::protobuf::io::ArrayInputStream stream(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream coded(&stream);
  coded.SetTotalBytesLimit(INT_MAX);
  return message->ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
}

Result<Tensor> TensorFromProto(const onnx::TensorProto& p, const std::string& where) {
  QCAL_RETURN_IF_ERROR(CheckSelfContained(p, where));
  bool is_double = p.data_type() == kOnnxDouble;
  DataType dtype = DataType::kFloat32;
  if (!is_double) {
    auto dt = DataTypeFromOnnx(p.data_type());
    if (!dt.ok()) return dt.status().WithContext(where);
    dtype = *dt;
  }
  int64_t numel = 0;
  QCAL_ASSIGN_OR_RETURN(Shape shape, ShapeOf(p, where, &numel));
  // Validate the data size before allocating: dims may be huge in a corrupt file.
  bool has_typed = p.float_data_size() || p.int32_data_size() || p.int64_data_size() || p.double_data_size();
  if (!p.has_raw_data() && !has_typed && numel > 0) {
    return Corrupt(where + ": no data for dims " + DimsToString(p) + " (" + std::to_string(numel) +
                   " elements expected)");
  }
  if (p.has_raw_data()) {
    size_t elem = is_double ? sizeof(double) : DataTypeSize(dtype);
    if (p.raw_data().size() / elem != static_cast<size_t>(numel) || p.raw_data().size() % elem != 0) {
      return SizeMismatch(where, p, "raw_data", p.raw_data().size(), numel * static_cast<int64_t>(elem),
                          "bytes");
    }
  }
  QCAL_RETURN_IF_ERROR(CheckTensorAllocation(dtype, shape, where));
  if (!p.has_raw_data() && numel > 0) return TypedDataToTensor(p, where, is_double, dtype, shape, numel);
  Tensor t(dtype, shape);
  if (p.has_raw_data()) QCAL_RETURN_IF_ERROR(CopyRaw(p, where, is_double, t));
  return t;
}

}  // namespace onnx_import

Result<NamedTensor> ParseTensorProto(std::string_view bytes, const std::string& origin) {
  onnx::TensorProto proto;
  if (!onnx_import::ParseMessage(bytes, &proto)) {
    return Corrupt("'" + origin + "' (" + std::to_string(bytes.size()) +
                   " bytes) is not a valid ONNX TensorProto: protobuf parsing failed");
  }
  std::string where = "tensor '" + proto.name() + "' in '" + origin + "'";
  QCAL_ASSIGN_OR_RETURN(Tensor t, onnx_import::TensorFromProto(proto, where));
  return NamedTensor{proto.name(), std::move(t)};
}

Result<NamedTensor> ReadTensorProtoFile(const std::string& path) {
  QCAL_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseTensorProto(bytes, path);
}

}  // namespace qcal
