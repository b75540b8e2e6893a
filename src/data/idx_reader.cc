#include "data/idx_reader.h"

#include <zlib.h>

#include <filesystem>

#include "base/file.h"
#include "base/limits.h"

namespace qcal::data {
namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

// Inflates a gzip stream (possibly several members) in memory, refusing output
// larger than the tensor size limit (a "zip bomb").
Result<std::string> Gunzip(std::string_view gz, const std::string& path) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return Internal("zlib inflateInit2 failed");
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      std::string why = rc == Z_BUF_ERROR ? "truncated gzip stream" : (zs.msg ? zs.msg : "inflate error");
      size_t at = gz.size() - zs.avail_in;
      inflateEnd(&zs);
      return Corrupt(path + ": gzip data corrupt at compressed byte " + std::to_string(at) + " (" + why + ")");
    }
    out.append(buf, sizeof(buf) - zs.avail_out);
    Status size_ok = CheckTensorBytes(path + ": decompressed data", static_cast<int64_t>(out.size()));
    if (!size_ok.ok()) {
      inflateEnd(&zs);
      return size_ok;
    }
    if (rc == Z_STREAM_END && zs.avail_in > 0) {  // another gzip member follows
      inflateReset(&zs);
      rc = Z_OK;
    }
  }
  inflateEnd(&zs);
  return out;
}

namespace {

uint32_t BigEndian32(std::string_view b, size_t at) {
  auto u = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(b[at + i])); };
  return u(0) << 24 | u(1) << 16 | u(2) << 8 | u(3);
}

}  // namespace

Result<Tensor> ReadIdxFile(const std::string& path, int expected_rank) {
  QCAL_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  if (EndsWith(path, ".gz")) {
    QCAL_ASSIGN_OR_RETURN(bytes, Gunzip(bytes, path));
  }
  return ParseIdx(bytes, path, expected_rank);
}

Result<Tensor> ParseIdx(std::string_view bytes, const std::string& path, int expected_rank) {
  if (bytes.size() < 4) return Corrupt(path + ": truncated idx header (" + std::to_string(bytes.size()) + " bytes)");
  uint8_t type = static_cast<uint8_t>(bytes[2]), rank = static_cast<uint8_t>(bytes[3]);
  if (bytes[0] != 0 || bytes[1] != 0) {
    return Corrupt(path + ": bad idx magic at offset 0 (first two bytes must be 0; not an idx file" +
                   std::string(EndsWith(path, ".gz") ? ")" : ", or a gzip file without the .gz suffix)"));
  }
  if (type != 0x08) {
    return Unsupported(path + ": idx element type code " + std::to_string(type) +
                       " at offset 2; only unsigned byte (code 8) is supported");
  }
  if (rank != expected_rank) {
    return Corrupt(path + ": idx file has " + std::to_string(rank) + " dims (offset 3), expected " +
                   std::to_string(expected_rank));
  }
  size_t header = 4 + 4 * static_cast<size_t>(rank);
  if (bytes.size() < header) return Corrupt(path + ": truncated idx header (" + std::to_string(bytes.size()) + " bytes)");
  Shape shape;
  uint64_t count = 1;
  for (int i = 0; i < rank; ++i) {
    uint32_t d = BigEndian32(bytes, 4 + 4 * i);
    shape.push_back(d);
    count *= d;
    if (count > (uint64_t{1} << 40)) return Corrupt(path + ": idx dims too large (offset " + std::to_string(4 + 4 * i) + ")");
  }
  size_t have = bytes.size() - header;
  if (have < count) {
    return Corrupt(path + ": truncated idx data: " + ShapeToString(shape) + " needs " + std::to_string(count) +
                   " bytes after the " + std::to_string(header) + "-byte header, file has " + std::to_string(have) +
                   " (ends at offset " + std::to_string(bytes.size()) + ")");
  }
  if (have > count) {
    return Corrupt(path + ": " + std::to_string(have - count) + " unexpected trailing bytes at offset " +
                   std::to_string(header + count));
  }
  QCAL_RETURN_IF_ERROR(CheckTensorAllocation(DataType::kUint8, shape, path));
  Tensor t(DataType::kUint8, shape);
  std::copy(bytes.begin() + header, bytes.end(), t.data<uint8_t>());
  return t;
}

std::string IdxLabelsPathFor(const std::string& images_path) {
  std::string p = images_path;
  size_t at = p.rfind("images-idx3-ubyte");
  if (at == std::string::npos) return "";
  std::string stem = p.substr(0, at) + "labels-idx1-ubyte";
  for (const char* suffix : {"", ".gz"}) {
    if (std::filesystem::exists(stem + suffix)) return stem + suffix;
  }
  return "";
}

}  // namespace qcal::data
