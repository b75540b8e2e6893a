#include "ir/npy.h"

#include <cstring>
#include <limits>

#include "base/file.h"

namespace qcal {
namespace {

struct NpyType {
  std::string_view descr;
  DataType dtype;
};
constexpr NpyType kNpyTypes[] = {
    {"<f4", DataType::kFloat32}, {"|u1", DataType::kUint8}, {"|i1", DataType::kInt8},
    {"<i4", DataType::kInt32},   {"<i8", DataType::kInt64}, {"|b1", DataType::kBool},
};

// Extracts the value text of 'key' from the header dict (e.g. "'<f4'").
std::string HeaderValue(const std::string& header, const std::string& key) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) return "";
  size_t colon = header.find(':', k);
  if (colon == std::string::npos) return "";
  size_t start = header.find_first_not_of(' ', colon + 1);
  if (start == std::string::npos) return "";
  size_t end = header[start] == '(' ? header.find(')', start) + 1 : header.find_first_of(",}", start);
  if (end == std::string::npos || end == 0) return "";
  return header.substr(start, end - start);
}

Result<Shape> ParseShapeTuple(const std::string& text, const std::string& origin) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') {
    return Corrupt(origin + ": bad .npy shape '" + text + "'");
  }
  Shape shape;
  std::string body = text.substr(1, text.size() - 2);
  size_t pos = 0;
  while (pos < body.size()) {
    size_t comma = body.find(',', pos);
    std::string item = body.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t b = item.find_first_not_of(' ');
    if (b != std::string::npos) {
      char* end = nullptr;
      long long v = std::strtoll(item.c_str() + b, &end, 10);
      if (end == item.c_str() + b || v < 0) return Corrupt(origin + ": bad .npy dimension '" + item + "'");
      shape.push_back(v);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return shape;
}

}  // namespace

Result<Tensor> ParseNpy(std::string_view bytes, const std::string& origin) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) {
    return Corrupt(origin + ": not a .npy file (missing \\x93NUMPY magic)");
  }
  uint8_t major = static_cast<uint8_t>(bytes[6]);
  size_t header_len, header_start;
  if (major == 1) {
    header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return Corrupt(origin + ": truncated .npy header");
    uint32_t l;
    std::memcpy(&l, bytes.data() + 8, 4);
    header_len = l;
    header_start = 12;
  } else {
    return Unsupported(origin + ": .npy format version " + std::to_string(major) + " is not supported");
  }
  if (header_start + header_len > bytes.size()) return Corrupt(origin + ": truncated .npy header");
  std::string header(bytes.substr(header_start, header_len));
  std::string descr = HeaderValue(header, "descr");
  std::string order = HeaderValue(header, "fortran_order");
  if (descr.size() < 2) return Corrupt(origin + ": .npy header has no descr");
  descr = descr.substr(1, descr.size() - 2);
  if (order.rfind("True", 0) == 0) return Unsupported(origin + ": Fortran-order .npy arrays are not supported");
  QCAL_ASSIGN_OR_RETURN(Shape shape, ParseShapeTuple(HeaderValue(header, "shape"), origin));
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d > 0 && n > std::numeric_limits<int64_t>::max() / d) return Corrupt(origin + ": .npy shape overflows");
    n *= d;
  }
  std::string_view payload = bytes.substr(header_start + header_len);
  if (descr == "<f8") {
    if (payload.size() / 8 < static_cast<size_t>(n)) return Corrupt(origin + ": .npy data is truncated");
    QCAL_RETURN_IF_ERROR(CheckTensorAllocation(DataType::kFloat32, shape, origin));
    Tensor t(DataType::kFloat32, shape);
    for (int64_t i = 0; i < n; ++i) {
      double v;
      std::memcpy(&v, payload.data() + i * 8, 8);
      t.data<float>()[i] = static_cast<float>(v);
    }
    return t;
  }
  for (const auto& nt : kNpyTypes) {
    if (nt.descr != descr && !(descr.size() == 3 && descr[0] == '|' && nt.descr.substr(1) == descr.substr(1) &&
                               DataTypeSize(nt.dtype) == 1)) {
      continue;
    }
    if (payload.size() / DataTypeSize(nt.dtype) < static_cast<size_t>(n)) {
      return Corrupt(origin + ": .npy data is truncated (" + std::to_string(payload.size()) + " bytes for " +
                     std::string(DataTypeName(nt.dtype)) + " " + ShapeToString(shape) + ")");
    }
    size_t need = static_cast<size_t>(n) * DataTypeSize(nt.dtype);
    QCAL_RETURN_IF_ERROR(CheckTensorAllocation(nt.dtype, shape, origin));
    Tensor t(nt.dtype, shape);
    if (need) std::memcpy(t.raw(), payload.data(), need);
    return t;
  }
  return Unsupported(origin + ": .npy dtype '" + descr + "' is not supported (use float32, uint8, int8, int32, int64 or bool)");
}

Result<Tensor> ReadNpyFile(const std::string& path) {
  QCAL_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseNpy(bytes, path);
}

std::string SerializeNpy(const Tensor& t) {
  std::string_view descr = "<f4";
  for (const auto& nt : kNpyTypes) if (nt.dtype == t.dtype()) descr = nt.descr;
  std::string shape = "(";
  for (size_t i = 0; i < t.shape().size(); ++i) shape += std::to_string(t.shape()[i]) + ", ";
  if (t.shape().size() > 1) shape.resize(shape.size() - 2);
  if (t.shape().size() == 1) shape.resize(shape.size() - 1);
  shape += ")";
  std::string header = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(static_cast<const char*>(t.raw()), t.nbytes());
  return out;
}

Status WriteNpyFile(const std::string& path, const Tensor& t) { return WriteFileAtomic(path, SerializeNpy(t)); }

}  // namespace qcal
