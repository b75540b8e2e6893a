// Data files declaring absurd sizes are refused before allocating.
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "base/file.h"
#include "base/limits.h"
#include "data/file_sources.h"
#include "data/idx_reader.h"
#include "data/image_decode.h"
#include "ir/npy.h"
#include "support/testdata.h"

namespace qcal {
namespace {

void ExpectError(const Status& s, StatusCode code, const std::string& part) {
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(part), std::string::npos) << s.ToString();
}

std::string NpyWithHeader(const std::string& dict, const std::string& payload) {
  std::string header = dict;
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + payload;
}

TEST(HostileDataTest, NpyHugeShapeWithTinyPayloadIsTruncated) {
  // 2^61 float64 values: the byte count overflows 64 bits if computed naively.
  auto t = ParseNpy(NpyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }",
                                  std::string(16, '\0')),
                    "huge.npy");
  ExpectError(t.status(), StatusCode::kCorrupt, "truncated");
  auto u = ParseNpy(NpyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387905,), }",
                                  std::string(4, '\0')),
                    "huge4.npy");
  ExpectError(u.status(), StatusCode::kCorrupt, "truncated");
}

TEST(HostileDataTest, NpyAboveTheTensorLimitIsOutOfRange) {
  ResourceLimits limits;
  limits.max_tensor_bytes = 64;
  ScopedResourceLimits scoped(limits);
  auto t = ParseNpy(NpyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (32,), }",
                                  std::string(128, '\0')),
                    "big.npy");
  ExpectError(t.status(), StatusCode::kOutOfRange, "big.npy (float32 [32]): 128 bytes exceeds the limit of 64");
}

TEST(HostileDataTest, GzipBombIsRefused) {
  ResourceLimits limits;
  limits.max_tensor_bytes = 1 << 20;
  ScopedResourceLimits scoped(limits);
  std::string zeros(8 << 20, '\0');
  z_stream zs{};
  ASSERT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string gz(deflateBound(&zs, zeros.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(zeros.data());
  zs.avail_in = static_cast<uInt>(zeros.size());
  zs.next_out = reinterpret_cast<Bytef*>(gz.data());
  zs.avail_out = static_cast<uInt>(gz.size());
  ASSERT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  gz.resize(zs.total_out);
  deflateEnd(&zs);
  ASSERT_LT(gz.size(), 64u << 10);  // 8 MiB of zeros in a few KiB
  ExpectError(data::Gunzip(gz, "bomb.gz").status(), StatusCode::kOutOfRange, "bomb.gz: decompressed data");
}

TEST(HostileDataTest, IdxHugeDimsAreRefused) {
  std::string idx = {0, 0, 8, 3, 0, 0x10, 0, 0, 0, 0x10, 0, 0, 0, 0x10, 0, 0};  // 2^20 x 2^20 x 2^20
  ExpectError(data::ParseIdx(idx, "huge-idx3-ubyte", 3).status(), StatusCode::kCorrupt, "idx dims too large");
}

// The start of an RGB PNG of `width` x `height` pixels (no pixel data).
std::string PngHeader(uint32_t width, uint32_t height) {
  std::string png("\x89PNG\r\n\x1a\n", 8);
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  std::string ihdr = "IHDR" + be32(width) + be32(height) + std::string("\x08\x02\x00\x00\x00", 5);
  uLong crc = crc32(0, reinterpret_cast<const Bytef*>(ihdr.data()), static_cast<uInt>(ihdr.size()));
  png += be32(13) + ihdr + be32(static_cast<uint32_t>(crc));
  return png;
}

TEST(HostileDataTest, HugeImageIsRefusedFromItsHeader) {
  ResourceLimits limits;
  limits.max_image_pixels = 10000;
  ScopedResourceLimits scoped(limits);
  auto img = data::DecodeImage(PngHeader(200, 100), "big.png");
  ExpectError(img.status(), StatusCode::kOutOfRange,
              "big.png: image of 200x100 pixels: 20000 pixels exceeds the limit of 10000 pixels");
}

TEST(HostileDataTest, AbsurdImageHeaderIsAnError) {
  // 100000 x 100000 RGB would be 30 GB (stb refuses this one itself).
  auto img = data::DecodeImage(PngHeader(100000, 100000), "huge.png");
  ASSERT_FALSE(img.ok());
  EXPECT_NE(img.status().message().find("huge.png"), std::string::npos);
}

TEST(HostileDataTest, HugeResizeIsRefused) {
  auto pre = data::ParsePreprocessSpec("resize 1000000000");
  ASSERT_TRUE(pre.ok());
  data::Image img{2, 3, 1, std::vector<float>(6, 1.0f)};
  ExpectError(data::Preprocess(img, *pre, "small.png").status(), StatusCode::kOutOfRange, "QCAL_MAX_IMAGE_PIXELS");
  data::Image empty{0, 3, 1, {}};
  ExpectError(data::Preprocess(empty, {}, "empty[0]").status(), StatusCode::kInvalidArgument, "image has no pixels");
}

TEST(HostileDataTest, BinAboveTheTensorLimitIsRefused) {
  ResourceLimits limits;
  limits.max_tensor_bytes = 1024;
  ScopedResourceLimits scoped(limits);
  std::string dir = testing::MakeTempDir();
  ASSERT_TRUE(WriteFileAtomic(dir + "/a.bin", std::string(4096, '\0')).ok());
  data::DataOptions options;
  options.input_shape = {-1, 4};
  ExpectError(data::OpenBinFiles({dir + "/a.bin"}, dir, {}, options).status(), StatusCode::kOutOfRange,
              "a.bin: 4096 bytes exceeds the limit of 1024 bytes");
  options.input_shape = {-1, int64_t{1} << 40, int64_t{1} << 40};  // sample size overflows
  ExpectError(data::OpenBinFiles({dir + "/a.bin"}, dir, {}, options).status(), StatusCode::kOutOfRange,
              "--input-shape sample");
}

}  // namespace
}  // namespace qcal
