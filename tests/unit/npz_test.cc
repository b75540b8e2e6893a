#include "ir/npz.h"

#include <gtest/gtest.h>

#include "base/file.h"
#include "support/testdata.h"

namespace qcal {
namespace {

const char* kMnistCase = "mnist_cntk_onnx/test_data_0.npz";

TEST(NpzTest, ReadsNumpySavezArchive) {
  auto m = ReadNpzFile(testing::TestData(kMnistCase));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->size(), 2u);
  const Tensor& in = m->at("inputs");
  const Tensor& out = m->at("outputs");
  EXPECT_EQ(in.dtype(), DataType::kInt32);
  EXPECT_EQ(in.shape(), (Shape{1, 784}));
  EXPECT_EQ(out.shape(), (Shape{1, 10}));
  // test_data_0 is a "5": one-hot label at index 5, pixels in 0..255.
  EXPECT_EQ(out.ToInt64Vector(), (std::vector<int64_t>{0, 0, 0, 0, 0, 1, 0, 0, 0, 0}));
  auto px = in.ToInt64Vector();
  EXPECT_EQ(*std::max_element(px.begin(), px.end()), 255);
  EXPECT_EQ(*std::min_element(px.begin(), px.end()), 0);
}

TEST(NpzTest, TruncatedArchivesAreErrorsNotCrashes) {
  auto bytes = ReadFile(testing::TestData(kMnistCase));
  ASSERT_TRUE(bytes.ok());
  for (size_t n = 0; n < bytes->size(); n += 37) {
    auto m = ParseNpz(std::string_view(*bytes).substr(0, n), "cut.npz");
    EXPECT_FALSE(m.ok()) << "prefix " << n;
  }
  auto m = ParseNpz("definitely not a zip file, just some text of sufficient length", "t.npz");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("t.npz"), std::string::npos);
}

TEST(NpzTest, CompressedMemberIsUnsupported) {
  auto bytes = ReadFile(testing::TestData(kMnistCase));
  ASSERT_TRUE(bytes.ok());
  std::string b = *bytes;
  size_t cd = b.find("PK\x01\x02");
  ASSERT_NE(cd, std::string::npos);
  b[cd + 10] = 8;  // compression method: deflate
  auto m = ParseNpz(b, "c.npz");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(m.status().message().find("compressed"), std::string::npos) << m.status().message();
}

}  // namespace
}  // namespace qcal
