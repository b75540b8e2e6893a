#include "ir/npy.h"

#include <gtest/gtest.h>

namespace qcal {
namespace {

TEST(NpyTest, RoundTripsEveryDtype) {
  Tensor f = Tensor::FromVector<float>({1.5f, -2, 3, 4, 5, 6}, {2, 3});
  auto back = ParseNpy(SerializeNpy(f), "mem");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->shape(), f.shape());
  EXPECT_EQ(back->ToFloatVector(), f.ToFloatVector());
  Tensor i8 = Tensor::FromVector<int8_t>({-128, 0, 127}, {3});
  auto b2 = ParseNpy(SerializeNpy(i8), "mem");
  ASSERT_TRUE(b2.ok());
  EXPECT_EQ(b2->dtype(), DataType::kInt8);
  EXPECT_EQ(b2->ToInt64Vector(), (std::vector<int64_t>{-128, 0, 127}));
  Tensor s = Tensor::Scalar<int64_t>(7);
  auto b3 = ParseNpy(SerializeNpy(s), "mem");
  ASSERT_TRUE(b3.ok());
  EXPECT_EQ(b3->rank(), 0);
  EXPECT_EQ(b3->GetAsInt64(0), 7);
}

TEST(NpyTest, TruncatedAndGarbageAreErrors) {
  std::string bytes = SerializeNpy(Tensor::FromVector<float>({1, 2, 3, 4}, {4}));
  auto r = ParseNpy(bytes.substr(0, bytes.size() - 3), "x.npy");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("x.npy"), std::string::npos);
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos);
  EXPECT_FALSE(ParseNpy("garbage", "g.npy").ok());
  EXPECT_FALSE(ParseNpy(bytes.substr(0, 12), "h.npy").ok());
}

}  // namespace
}  // namespace qcal
