// idx (MNIST) reading on the real shared test data and on broken files.
#include "data/idx_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "data/data_source.h"
#include "support/testdata.h"

namespace qcal::data {
namespace {

namespace fs = std::filesystem;

const char kMnistImages[] = "mnist_t10k_first5000/t10k-first5000-images-idx3-ubyte.gz";

TEST(DataIdxTest, MnistFirst5000ImagesAndLabels) {
  DataOptions o;
  o.path = qcal::testing::TestData(kMnistImages);
  auto src = OpenDataSource(o);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  ASSERT_EQ((*src)->size(), 5000);
  ASSERT_TRUE((*src)->has_labels());
  // Expected values read independently of qcal:
  //   /usr/bin/python3 -c "import gzip; d=gzip.open('t10k-first5000-labels-idx1-ubyte.gz').read(); print(list(d[8:18]))"
  //   -> [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
  //   i=gzip.open('t10k-first5000-images-idx3-ubyte.gz').read(); sum(i[16:16+784]) -> 18454,
  //   list(i[16+7*28+6:16+7*28+12]) -> [84, 185, 159, 151, 60, 36], sum of image 4999 -> 50057
  const std::vector<int64_t> first10 = {7, 2, 1, 0, 4, 1, 4, 9, 5, 9};
  auto batch = Batcher(**src, 10).GetBatch(0);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->labels, first10);
  EXPECT_EQ(batch->data.shape(), (Shape{10, 1, 28, 28}));
  std::vector<float> img0((*src)->Get(0)->data.ToFloatVector());
  double sum = 0;
  for (float v : img0) sum += v;
  EXPECT_EQ(sum, 18454);
  EXPECT_EQ(std::vector<float>(img0.begin() + 7 * 28 + 6, img0.begin() + 7 * 28 + 12),
            (std::vector<float>{84, 185, 159, 151, 60, 36}));
  double last_sum = 0;
  for (float v : (*src)->Get(4999)->data.ToFloatVector()) last_sum += v;
  EXPECT_EQ(last_sum, 50057);
  EXPECT_EQ((*src)->Get(4999)->origin, o.path + "[4999]");
}

TEST(DataIdxTest, MnistWithScaleMeanStd) {
  DataOptions o;
  o.path = qcal::testing::TestData(kMnistImages);
  o.preprocess = *ParsePreprocessSpec("scale 1/255; mean 0.5; std 0.5");
  auto src = OpenDataSource(o);
  ASSERT_TRUE(src.ok());
  std::vector<float> v = (*src)->Get(0)->data.ToFloatVector();
  EXPECT_NEAR(v[7 * 28 + 7], (185 / 255.0 - 0.5) / 0.5, 1e-6);  // pixel 185 (see above)
  EXPECT_NEAR(v[0], -1.0, 1e-6);                                 // background 0
}

class DataIdxErrorTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = qcal::testing::MakeTempDir(); }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& bytes) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::string WriteGz(const std::string& name, const std::string& bytes) {
    std::string path = dir_ + "/" + name;
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
    return path;
  }
  std::string dir_;
};

// idx3 header for n images of 2x2 then `data`.
std::string Idx3(uint8_t n, const std::string& data) {
  return std::string("\0\0\x08\x03\0\0\0", 7) + std::string(1, static_cast<char>(n)) +
         std::string("\0\0\0\x02\0\0\0\x02", 8) + data;
}

TEST_F(DataIdxErrorTest, ReadsPlainAndGzipAndPairsLabels) {
  std::string img = Idx3(2, std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  Write("t-images-idx3-ubyte", img);
  Write("t-labels-idx1-ubyte", std::string("\0\0\x08\x01\0\0\0\x02\x03\x09", 10));
  DataOptions o;
  o.path = dir_ + "/t-images-idx3-ubyte";
  auto src = OpenDataSource(o);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ((*src)->Get(1)->label, 9);
  EXPECT_EQ((*src)->Get(1)->data.ToFloatVector(), (std::vector<float>{5, 6, 7, 8}));
  auto gz = ReadIdxFile(WriteGz("u-images-idx3-ubyte.gz", img), 3);
  ASSERT_TRUE(gz.ok()) << gz.status().ToString();
  EXPECT_EQ(gz->shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(gz->ToInt64Vector()[7], 8);
  // Label count mismatch.
  Write("v-images-idx3-ubyte", img);
  Write("v-labels-idx1-ubyte", std::string("\0\0\x08\x01\0\0\0\x01\x03", 9));
  o.path = dir_ + "/v-images-idx3-ubyte";
  auto mismatch = OpenDataSource(o);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("holds 1 labels"), std::string::npos);
}

TEST_F(DataIdxErrorTest, BadMagicTruncatedAndCorruptGzip) {
  auto bad = ReadIdxFile(Write("bad-images-idx3-ubyte", "\x1f\x8b\x08\x03" + std::string(20, 'x')), 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad-images-idx3-ubyte: bad idx magic at offset 0"), std::string::npos)
      << bad.status().ToString();
  std::string img = Idx3(2, std::string("\x01\x02\x03\x04\x05", 5));
  auto cut = ReadIdxFile(Write("cut-images-idx3-ubyte", img), 3);
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("truncated idx data"), std::string::npos) << cut.status().ToString();
  EXPECT_NE(cut.status().message().find("offset 21"), std::string::npos) << cut.status().ToString();
  auto rank = ReadIdxFile(Write("r-labels-idx1-ubyte", std::string("\0\0\x08\x01\0\0\0\x01\x03", 9)), 3);
  ASSERT_FALSE(rank.ok());
  EXPECT_NE(rank.status().message().find("1 dims"), std::string::npos);
  // A gzip stream cut in half.
  std::string gz_path = WriteGz("z-images-idx3-ubyte.gz", Idx3(2, std::string(8, '\x05')));
  std::ifstream in(gz_path, std::ios::binary);
  std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto half = ReadIdxFile(Write("h-images-idx3-ubyte.gz", gz.substr(0, gz.size() / 2)), 3);
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find("h-images-idx3-ubyte.gz: gzip data corrupt"), std::string::npos)
      << half.status().ToString();
}

}  // namespace
}  // namespace qcal::data
