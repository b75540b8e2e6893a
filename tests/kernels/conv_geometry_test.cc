#include "kernels/ref/conv_geometry.h"

#include <gtest/gtest.h>

namespace qcal::ref {
namespace {

WindowParams Params(std::vector<int64_t> k, std::vector<int64_t> s, std::vector<int64_t> d, std::vector<int64_t> pads,
                    AutoPad ap = AutoPad::kNotSet, bool ceil = false) {
  WindowParams p;
  p.kernel = std::move(k);
  p.strides = std::move(s);
  p.dilations = std::move(d);
  p.pads = std::move(pads);
  p.auto_pad = ap;
  p.ceil_mode = ceil;
  return p;
}

TEST(ConvGeometryTest, ExplicitPadsFloorAndCeil) {
  // in 7, k 3, d 2 (extent 5), s 2, pads 1/2: (7+3-5)/2 = 2.5 -> floor 3 outputs, ceil 4.
  auto g = ComputeWindowGeometry({7}, Params({3}, {2}, {2}, {1, 2}));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->out, (std::vector<int64_t>{3}));
  EXPECT_EQ(g->pad_begin, (std::vector<int64_t>{1}));
  EXPECT_EQ(g->pad_end, (std::vector<int64_t>{2}));
  g = ComputeWindowGeometry({7}, Params({3}, {2}, {2}, {1, 2}, AutoPad::kNotSet, true));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->out, (std::vector<int64_t>{4}));  // last window starts at 6-1 = 5 < 7
  // ONNX maxpool_2d_ceil_output_size_reduce_by_one: in 2, k 1, s 2: ceil would give 2,
  // but the second window would start at 2 (past the input): 1.
  g = ComputeWindowGeometry({2}, Params({1}, {2}, {1}, {0, 0}, AutoPad::kNotSet, true));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->out, (std::vector<int64_t>{1}));
}

TEST(ConvGeometryTest, SameAndValid) {
  // in 8, k 4, s 3: out ceil(8/3) = 3, total pad (3-1)*3+4-8 = 2 -> 1/1.
  // in 7, k 2, s 1: out 7, total 1 -> UPPER 0/1, LOWER 1/0.
  auto up = ComputeWindowGeometry({8, 7}, Params({4, 2}, {3, 1}, {1, 1}, {0, 0, 0, 0}, AutoPad::kSameUpper));
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->out, (std::vector<int64_t>{3, 7}));
  EXPECT_EQ(up->pad_begin, (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(up->pad_end, (std::vector<int64_t>{1, 1}));
  auto lo = ComputeWindowGeometry({8, 7}, Params({4, 2}, {3, 1}, {1, 1}, {0, 0, 0, 0}, AutoPad::kSameLower));
  ASSERT_TRUE(lo.ok());
  EXPECT_EQ(lo->pad_begin, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(lo->pad_end, (std::vector<int64_t>{1, 0}));
  // SAME never pads negatively: in 9, k 1, s 3 -> out 3, total max(0, 6+1-9) = 0.
  auto z = ComputeWindowGeometry({9}, Params({1}, {3}, {1}, {0, 0}, AutoPad::kSameUpper));
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->out, (std::vector<int64_t>{3}));
  EXPECT_EQ(z->pad_end, (std::vector<int64_t>{0}));
  auto v = ComputeWindowGeometry({8}, Params({4}, {3}, {1}, {0, 0}, AutoPad::kValid));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->out, (std::vector<int64_t>{2}));
}

TEST(ConvGeometryTest, UnknownDimsAndErrors) {
  auto g = ComputeWindowGeometry({-1, 9}, Params({3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->out, (std::vector<int64_t>{-1, 5}));
  EXPECT_FALSE(ComputeWindowGeometry({2}, Params({3}, {1}, {1}, {0, 0})).ok());
  EXPECT_FALSE(ParseAutoPad("SAME").ok());
  EXPECT_TRUE(ParseAutoPad("").ok());

  Node n;
  n.op_type = "Conv";
  n.attrs.Set("dilations", std::vector<int64_t>{1});
  EXPECT_FALSE(ReadWindowParams(n, 2, {3, 3}, false).ok());
  n.attrs.Erase("dilations");
  n.attrs.Set("ceil_mode", int64_t{1});
  EXPECT_FALSE(ReadWindowParams(n, 2, {3, 3}, false).ok());
  EXPECT_TRUE(ReadWindowParams(n, 2, {3, 3}, true).ok());
  n.attrs.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  n.attrs.Set("auto_pad", std::string("SAME_UPPER"));
  EXPECT_FALSE(ReadWindowParams(n, 2, {3, 3}, true).ok());
}

TEST(ConvGeometryTest, ValidRange) {
  int64_t lo, hi;
  // i*2 - 1 in [0, 7) for i in [0, 5): i = 1..3.
  ValidRange(-1, 2, 7, 5, &lo, &hi);
  EXPECT_EQ(lo, 1);
  EXPECT_EQ(hi, 4);
  ValidRange(10, 1, 7, 5, &lo, &hi);
  EXPECT_EQ(lo, hi);
}

}  // namespace
}  // namespace qcal::ref
