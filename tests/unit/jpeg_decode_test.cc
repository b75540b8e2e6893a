// JPEG decoding (libjpeg-turbo) against PIL's pixels, and decode errors as Status.
#include <gtest/gtest.h>

#include "base/file.h"
#include "data/data_source.h"
#include "data/image_decode.h"
#include "ir/npy.h"
#include "support/testdata.h"

namespace qcal::data {
namespace {

std::string Here(const std::string& name) { return qcal::testing::SourceDir("tests/testdata/jpeg/" + name); }

// Every pixel equals the reference (uint8 [H,W,C] from PIL, tests/testdata/jpeg/make_reference.py).
void ExpectSamePixels(const Image& img, const Tensor& ref, const std::string& what) {
  ASSERT_EQ(ref.rank(), 3) << what;
  ASSERT_EQ(img.height, ref.dim(0)) << what;
  ASSERT_EQ(img.width, ref.dim(1)) << what;
  ASSERT_EQ(img.channels, ref.dim(2)) << what;
  const uint8_t* want = ref.data<uint8_t>();
  int64_t differing = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) differing += img.pixels[i] != want[i];
  EXPECT_EQ(differing, 0) << what << ": pixels differ from PIL";
}

TEST(JpegDecodeTest, CifarImagesMatchPilExactly) {
  const char* kFiles[] = {"airplane/0000.jpg", "cat/0000.jpg", "dog/0123.jpg", "truck/0499.jpg"};
  auto ref = ReadNpyFile(Here("pil_cifar.npy"));
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  ASSERT_EQ(ref->shape(), (Shape{4, 32, 32, 3}));
  for (int k = 0; k < 4; ++k) {
    auto img = ReadImageFile(qcal::testing::TestData(std::string("cifar10_test_jpg/") + kFiles[k]));
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    Tensor one(DataType::kUint8, {32, 32, 3});
    std::copy_n(ref->data<uint8_t>() + k * one.numel(), one.numel(), one.data<uint8_t>());
    ExpectSamePixels(*img, one, kFiles[k]);
  }
}

TEST(JpegDecodeTest, OddSizesSubsamplingAndGrayMatchPil) {
  for (const char* name : {"odd_420", "odd_422", "gray"}) {
    auto img = ReadImageFile(Here(std::string(name) + ".jpg"));
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    auto ref = ReadNpyFile(Here(std::string("pil_") + name + ".npy"));
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    ExpectSamePixels(*img, *ref, name);
  }
}

void ExpectError(const Result<Image>& r, StatusCode code, const std::string& needle) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().ToString();
}

TEST(JpegDecodeTest, CorruptAndTruncatedFilesAreErrorsNamingTheFile) {
  auto bytes = ReadFile(qcal::testing::TestData("cifar10_test_jpg/cat/0000.jpg"));
  ASSERT_TRUE(bytes.ok());
  // Cut in the middle of the entropy-coded data: libjpeg only warns, we fail.
  ExpectError(DecodeImage(bytes->substr(0, bytes->size() / 2), "half.jpg"), StatusCode::kCorrupt,
              "half.jpg: cannot decode JPEG");
  // Cut inside the headers.
  ExpectError(DecodeImage(bytes->substr(0, 40), "head.jpg"), StatusCode::kCorrupt,
              "head.jpg: cannot decode JPEG");
  // A JPEG signature followed by garbage.
  std::string junk = std::string("\xFF\xD8\xFF", 3) + std::string(200, '\x5A');
  ExpectError(DecodeImage(junk, "junk.jpg"), StatusCode::kCorrupt, "junk.jpg: cannot decode JPEG");
  ExpectError(ReadImageFile(Here("cmyk.jpg")), StatusCode::kUnsupported,
              "cmyk.jpg: CMYK JPEG is not supported");
}

TEST(JpegDecodeTest, CorruptFileInAFolderFailsTheSampleNotTheProcess) {
  std::string dir = qcal::testing::MakeTempDir();
  auto bytes = ReadFile(qcal::testing::TestData("cifar10_test_jpg/cat/0000.jpg"));
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/a.jpg", *bytes).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/b.jpg", bytes->substr(0, 300)).ok());
  DataOptions o;
  o.path = dir;
  auto src = OpenDataSource(o);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_TRUE((*src)->Get(0).ok());
  auto bad = (*src)->Get(1);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(dir + "/b.jpg"), std::string::npos) << bad.status().ToString();
}

}  // namespace
}  // namespace qcal::data
