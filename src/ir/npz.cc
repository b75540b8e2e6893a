#include "ir/npz.h"

#include <cstring>

#include "base/file.h"
#include "ir/npy.h"

namespace qcal {
namespace {

constexpr uint32_t kEndOfCentralDirSig = 0x06054b50;
constexpr uint32_t kCentralDirSig = 0x02014b50;
constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr size_t kEndOfCentralDirSize = 22;
constexpr size_t kCentralDirEntrySize = 46;
constexpr size_t kLocalHeaderSize = 30;
constexpr uint16_t kZip64ExtraId = 0x0001;

// Little-endian reads with bounds checks against the whole archive.
class Reader {
 public:
  Reader(std::string_view bytes, const std::string& origin) : b_(bytes), origin_(origin) {}
  bool Has(size_t off, size_t n) const { return off <= b_.size() && n <= b_.size() - off; }
  uint16_t U16(size_t off) const { return static_cast<uint16_t>(U(off, 2)); }
  uint32_t U32(size_t off) const { return static_cast<uint32_t>(U(off, 4)); }
  uint64_t U64(size_t off) const { return U(off, 8); }
  std::string_view Slice(size_t off, size_t n) const { return b_.substr(off, n); }
  size_t size() const { return b_.size(); }
  Status Truncated(size_t off, const std::string& what) const {
    return Corrupt(origin_ + ": truncated zip archive (" + what + " at offset " + std::to_string(off) + ")");
  }

 private:
  uint64_t U(size_t off, int n) const {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b_[off + static_cast<size_t>(i)]);
    return v;
  }
  std::string_view b_;
  const std::string& origin_;
};

struct Member {
  std::string name;
  uint16_t method = 0;
  uint64_t compressed_size = 0;
  uint64_t local_offset = 0;
};

Result<size_t> FindEndOfCentralDir(const Reader& r, const std::string& origin) {
  if (r.size() < kEndOfCentralDirSize) return Corrupt(origin + ": not a zip/.npz archive (too short)");
  // The end record is the last 22 bytes plus a comment of up to 64 KiB.
  size_t last = r.size() - kEndOfCentralDirSize;
  size_t first = last > 0xFFFF ? last - 0xFFFF : 0;
  for (size_t off = last + 1; off-- > first;) {
    if (r.U32(off) == kEndOfCentralDirSig) return off;
  }
  return Corrupt(origin + ": not a zip/.npz archive (no end-of-central-directory record)");
}

// Applies a zip64 extended-information extra field to sizes/offsets saturated at 0xFFFFFFFF.
void ApplyZip64Extra(const Reader& r, size_t extra, size_t extra_len, uint64_t uncompressed, Member& m) {
  size_t p = extra;
  while (p + 4 <= extra + extra_len && r.Has(p, 4)) {
    uint16_t id = r.U16(p);
    uint16_t len = r.U16(p + 2);
    size_t q = p + 4;
    if (id == kZip64ExtraId) {
      auto next = [&](uint64_t& field) {
        if (field == 0xFFFFFFFFu && q + 8 <= p + 4 + len && r.Has(q, 8)) {
          field = r.U64(q);
          q += 8;
        }
      };
      next(uncompressed);
      next(m.compressed_size);
      next(m.local_offset);
    }
    p += 4 + len;
  }
}

Result<std::vector<Member>> ReadCentralDirectory(const Reader& r, const std::string& origin) {
  QCAL_ASSIGN_OR_RETURN(size_t eocd, FindEndOfCentralDir(r, origin));
  uint16_t count = r.U16(eocd + 10);
  size_t off = r.U32(eocd + 16);
  std::vector<Member> members;
  for (uint16_t i = 0; i < count; ++i) {
    if (!r.Has(off, kCentralDirEntrySize) || r.U32(off) != kCentralDirSig) {
      return r.Truncated(off, "central directory entry " + std::to_string(i));
    }
    Member m;
    m.method = r.U16(off + 10);
    m.compressed_size = r.U32(off + 20);
    uint64_t uncompressed = r.U32(off + 24);
    size_t name_len = r.U16(off + 28);
    size_t extra_len = r.U16(off + 30);
    size_t comment_len = r.U16(off + 32);
    m.local_offset = r.U32(off + 42);
    if (!r.Has(off + kCentralDirEntrySize, name_len + extra_len + comment_len)) {
      return r.Truncated(off, "central directory entry " + std::to_string(i));
    }
    m.name = std::string(r.Slice(off + kCentralDirEntrySize, name_len));
    ApplyZip64Extra(r, off + kCentralDirEntrySize + name_len, extra_len, uncompressed, m);
    members.push_back(std::move(m));
    off += kCentralDirEntrySize + name_len + extra_len + comment_len;
  }
  return members;
}

Result<std::string_view> MemberData(const Reader& r, const Member& m, const std::string& origin) {
  size_t off = static_cast<size_t>(m.local_offset);
  if (!r.Has(off, kLocalHeaderSize) || r.U32(off) != kLocalHeaderSig) {
    return r.Truncated(off, "local header of '" + m.name + "'");
  }
  size_t data = off + kLocalHeaderSize + r.U16(off + 26) + r.U16(off + 28);
  if (!r.Has(data, static_cast<size_t>(m.compressed_size))) return r.Truncated(data, "data of '" + m.name + "'");
  return r.Slice(data, static_cast<size_t>(m.compressed_size));
}

}  // namespace

Result<std::map<std::string, Tensor>> ParseNpz(std::string_view bytes, const std::string& origin) {
  Reader r(bytes, origin);
  QCAL_ASSIGN_OR_RETURN(auto members, ReadCentralDirectory(r, origin));
  std::map<std::string, Tensor> out;
  for (const Member& m : members) {
    if (m.method != 0) {
      return Unsupported(origin + ": member '" + m.name + "' is compressed (method " + std::to_string(m.method) +
                         "); only numpy.savez (stored) archives are supported, not savez_compressed");
    }
    QCAL_ASSIGN_OR_RETURN(std::string_view data, MemberData(r, m, origin));
    std::string key = m.name;
    if (key.size() > 4 && key.compare(key.size() - 4, 4, ".npy") == 0) key.resize(key.size() - 4);
    QCAL_ASSIGN_OR_RETURN(Tensor t, ParseNpy(data, origin + ":" + m.name));
    out[key] = std::move(t);
  }
  return out;
}

Result<std::map<std::string, Tensor>> ReadNpzFile(const std::string& path) {
  QCAL_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseNpz(bytes, path);
}

}  // namespace qcal
