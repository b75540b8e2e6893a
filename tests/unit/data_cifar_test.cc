// The CIFAR-10 JPEG folder of the shared test data with its labels.csv.
#include <gtest/gtest.h>

#include <map>

#include "data/data_source.h"
#include "support/testdata.h"

namespace qcal::data {
namespace {

TEST(DataCifarTest, FolderWithLabelsCsv) {
  DataOptions o;
  o.path = qcal::testing::TestData("cifar10_test_jpg");
  o.labels_path = qcal::testing::TestData("cifar10_test_jpg/labels.csv");
  auto src = OpenDataSource(o);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  ASSERT_EQ((*src)->size(), 5000);
  ASSERT_TRUE((*src)->has_labels());
  // Labels only (no decoding): 500 per class.
  std::map<int64_t, int> counts;
  Batcher batcher(**src, 1000);
  auto first = batcher.GetBatch(0);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->data.shape(), (Shape{1000, 3, 32, 32}));
  for (int64_t i = 0; i < (*src)->size(); i += 1) {
    // Get() decodes; 5000 tiny JPEGs take well under a second.
    auto s = (*src)->Get(i);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ++counts[*s->label];
  }
  ASSERT_EQ(counts.size(), 10u);
  for (const auto& [label, n] : counts) EXPECT_EQ(n, 500) << "class " << label;
  // Sorted path order: airplane (0) first, dog (5) starts at 2500, truck (9) last.
  EXPECT_EQ(first->labels[0], 0);
  EXPECT_EQ((*src)->Get(2500)->label, 5);
  EXPECT_EQ((*src)->Get(2500)->origin, o.path + "/dog/0000.jpg");
  EXPECT_EQ((*src)->Get(4999)->label, 9);
}

TEST(DataCifarTest, PixelsAgreeWithPil) {
  // Independent reference: Debian python3-pil (libjpeg) on cat/0000.jpg:
  //   a = numpy.asarray(Image.open('cat/0000.jpg').convert('RGB'))
  //   a[0,0] = (167,107,47), a[7,5] = (159,122,54), a[31,31] = (27,79,129),
  //   per-channel mean = (110.075, 110.396, 104.628).
  // qcal decodes JPEG with libjpeg-turbo set up like PIL (ISLOW IDCT, fancy upsampling): exact.
  DataOptions o;
  o.path = qcal::testing::TestData("cifar10_test_jpg/cat/0000.jpg");
  auto src = OpenDataSource(o);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  auto s = (*src)->Get(0);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->data.shape(), (Shape{3, 32, 32}));
  std::vector<float> v = s->data.ToFloatVector();
  auto px = [&](int c, int y, int x) { return v[c * 1024 + y * 32 + x]; };
  const int kPoints[3][2] = {{0, 0}, {7, 5}, {31, 31}};
  const float kPil[3][3] = {{167, 107, 47}, {159, 122, 54}, {27, 79, 129}};
  for (int p = 0; p < 3; ++p) {
    for (int c = 0; c < 3; ++c) EXPECT_EQ(px(c, kPoints[p][0], kPoints[p][1]), kPil[p][c]) << p << "," << c;
  }
  const double kPilMean[3] = {110.075, 110.396, 104.628};
  for (int c = 0; c < 3; ++c) {
    double sum = 0;
    for (int i = 0; i < 1024; ++i) sum += v[c * 1024 + i];
    EXPECT_NEAR(sum / 1024, kPilMean[c], 1e-3) << "channel " << c;
  }
}

}  // namespace
}  // namespace qcal::data
