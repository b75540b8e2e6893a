// Image preprocessing: expected numbers are computed by hand in the comments.
#include "data/preprocess.h"

#include <gtest/gtest.h>

namespace qcal::data {
namespace {

Image Make(int64_t h, int64_t w, int64_t c, std::vector<float> px) { return Image{h, w, c, std::move(px)}; }

void ExpectNear(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-5f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

TEST(DataPreprocessTest, ResizeBilinear2x2To4x4HalfPixel) {
  // src [[0,10],[20,30]]. Half-pixel source coordinate of dst d: (d+0.5)/2-0.5 =
  // -0.25, 0.25, 0.75, 1.25 -> clamped weights of the 2nd pixel 0, .25, .75, 1.
  // out[y][x] = 20*w[y] + 10*w[x].
  Image out = ResizeBilinear(Make(2, 2, 1, {0, 10, 20, 30}), 4, 4);
  EXPECT_EQ(out.height, 4);
  EXPECT_EQ(out.width, 4);
  ExpectNear(out.pixels, {0, 2.5f, 7.5f, 10,  //
                          5, 7.5f, 12.5f, 15,  //
                          15, 17.5f, 22.5f, 25,  //
                          20, 22.5f, 27.5f, 30});
}

TEST(DataPreprocessTest, ResizeDownscaleAndNonSquare) {
  // 1x4 row [0,10,20,30] -> 1x2: src x = (d+0.5)*2-0.5 = 0.5, 2.5 -> 5, 25.
  Image out = ResizeBilinear(Make(1, 4, 1, {0, 10, 20, 30}), 1, 2);
  ExpectNear(out.pixels, {5, 25});
  // 2 channels interleaved are resized independently: 1x2 -> 1x3, scale 2/3:
  // src x = -1/6 (clamp 0), 0.5, 7/6 (clamp 1) -> c0: 0,50,100; c1: 1,2,3 (1*(.5)+3*(.5)=2).
  Image two = ResizeBilinear(Make(1, 2, 2, {0, 1, 100, 3}), 1, 3);
  ExpectNear(two.pixels, {0, 1, 50, 2, 100, 3});
}

TEST(DataPreprocessTest, CenterCropTakesFloorOffset) {
  // 3x4 image values 0..11; crop 2x2: top = (3-2)/2 = 0, left = (4-2)/2 = 1 -> [[1,2],[5,6]].
  std::vector<float> px(12);
  for (int i = 0; i < 12; ++i) px[i] = static_cast<float>(i);
  auto out = CenterCrop(Make(3, 4, 1, px), 2, 2, "x.png");
  ASSERT_TRUE(out.ok());
  ExpectNear(out->pixels, {1, 2, 5, 6});
  auto too_big = CenterCrop(Make(3, 4, 1, px), 4, 4, "x.png");
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.status().message().find("x.png"), std::string::npos);
}

TEST(DataPreprocessTest, ScaleMeanStdBgrToNchw) {
  // One 1x2 RGB image: pixel0 = (10,20,30), pixel1 = (40,50,60).
  Image img = Make(1, 2, 3, {10, 20, 30, 40, 50, 60});
  auto opts = ParsePreprocessSpec("bgr; scale 1/10; mean 1,2,3; std 2, 4, 0.5");
  ASSERT_TRUE(opts.ok()) << opts.status().ToString();
  auto t = Preprocess(img, *opts, "img");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->shape(), (Shape{3, 1, 2}));
  // Channel 0 = B: (30/10-1)/2 = 1, (60/10-1)/2 = 2.5
  // Channel 1 = G: (20/10-2)/4 = 0, (50/10-2)/4 = 0.75
  // Channel 2 = R: (10/10-3)/0.5 = -4, (40/10-3)/0.5 = 2
  ExpectNear(t->ToFloatVector(), {1, 2.5f, 0, 0.75f, -4, 2});
}

TEST(DataPreprocessTest, StepsRunInFixedOrderResizeShorterThenCrop) {
  // 2x4 gray image -> resize shorter side to 4 (long side 4*4/2 = 8) -> 4x8, crop 2,2 at
  // top (4-2)/2 = 1, left (8-2)/2 = 3. Columns: src x = (d+0.5)/2-0.5 for d=3,4 -> 1.25, 1.75;
  // rows: d=1,2 -> 0.25, 0.75. Image value v(y,x) = 100*y + x (bilinear is exact on it).
  Image img = Make(2, 4, 1, {0, 1, 2, 3, 100, 101, 102, 103});
  auto opts = ParsePreprocessSpec("crop 2; resize 4");  // listed out of order on purpose
  ASSERT_TRUE(opts.ok());
  auto t = Preprocess(img, *opts, "img");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->shape(), (Shape{1, 2, 2}));
  ExpectNear(t->ToFloatVector(), {25 + 1.25f, 25 + 1.75f, 75 + 1.25f, 75 + 1.75f});
}

TEST(DataPreprocessTest, ChannelConversion) {
  // RGB (100, 200, 50) -> gray 0.299*100 + 0.587*200 + 0.114*50 = 153.0
  Image rgb = Make(1, 1, 3, {100, 200, 50});
  auto gray = Preprocess(rgb, *ParsePreprocessSpec("channels 1"), "rgb");
  ASSERT_TRUE(gray.ok());
  ExpectNear(gray->ToFloatVector(), {153.0f}, 1e-3f);
  // Gray replicated to 3 channels; gray+alpha keeps gray and drops alpha by default.
  auto three = Preprocess(Make(1, 1, 1, {7}), *ParsePreprocessSpec("channels 3"), "g");
  ASSERT_TRUE(three.ok());
  ExpectNear(three->ToFloatVector(), {7, 7, 7});
  auto ga = Preprocess(Make(1, 1, 2, {9, 255}), PreprocessOptions{}, "ga");
  ASSERT_TRUE(ga.ok());
  EXPECT_EQ(ga->shape(), (Shape{1, 1, 1}));
  ExpectNear(ga->ToFloatVector(), {9});
  auto rgba = Preprocess(Make(1, 1, 4, {1, 2, 3, 255}), PreprocessOptions{}, "rgba");
  ASSERT_TRUE(rgba.ok());
  ExpectNear(rgba->ToFloatVector(), {1, 2, 3});
}

TEST(DataPreprocessTest, BadSpecsAndMismatchedMeanAreErrors) {
  EXPECT_FALSE(ParsePreprocessSpec("resize 0,4").ok());
  EXPECT_FALSE(ParsePreprocessSpec("resize a").ok());
  EXPECT_FALSE(ParsePreprocessSpec("scale 1/0").ok());
  EXPECT_FALSE(ParsePreprocessSpec("std 1,0,1").ok());
  EXPECT_FALSE(ParsePreprocessSpec("channels 2").ok());
  EXPECT_FALSE(ParsePreprocessSpec("rotate 90").ok());
  EXPECT_TRUE(ParsePreprocessSpec("").ok());
  auto opts = ParsePreprocessSpec("mean 1,2,3");
  ASSERT_TRUE(opts.ok());
  auto r = Preprocess(Make(1, 1, 1, {5}), *opts, "gray.png");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("gray.png"), std::string::npos);
  EXPECT_NE(r.status().message().find("3 values"), std::string::npos);
}

}  // namespace
}  // namespace qcal::data
