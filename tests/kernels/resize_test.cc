#include <gtest/gtest.h>

#include <cmath>

#include "kernels/nn_test_util.h"

namespace qcal::testing {
namespace {

Tensor Scales(std::vector<float> v) { return Tensor::FromVector(v, {static_cast<int64_t>(v.size())}); }
Tensor Sizes(std::vector<int64_t> v) { return Tensor::FromVector(v, {static_cast<int64_t>(v.size())}); }
const Tensor kEmpty(DataType::kFloat32, {0});

Result<Tensor> RunResize(const Tensor& x, const Tensor* scales, const Tensor* sizes, const std::string& mode,
                         const std::string& ctm, const std::string& nearest = "round_prefer_floor") {
  Attributes a;
  a.Set("mode", mode);
  a.Set("coordinate_transformation_mode", ctm);
  a.Set("nearest_mode", nearest);
  return RunOne(MakeNode("Resize", sizes ? 4 : 3, a), {&x, &kEmpty, scales ? scales : &kEmpty, sizes});
}

TEST(ResizeTest, HandComputedNearestAndLinear) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor s2 = Scales({1, 1, 2, 2});
  auto y = RunResize(x, &s2, nullptr, "nearest", "asymmetric", "floor");
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));

  // half_pixel linear, [0, 4] -> 4: sources -0.25, 0.25, 0.75, 1.25 clamp to 0, .25, .75, 1.
  Tensor r = Tensor::FromVector<float>({0, 4}, {1, 2});
  Tensor s1 = Scales({1, 2});
  y = RunResize(r, &s1, nullptr, "linear", "half_pixel");
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{0, 1, 3, 4}));
  // align_corners, [0, 3] -> 4 values: 0, 1, 2, 3.
  Tensor r3 = Tensor::FromVector<float>({0, 3}, {1, 2});
  Tensor sz = Sizes({1, 4});
  y = RunResize(r3, nullptr, &sz, "linear", "align_corners");
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{0, 1, 2, 3}));
  // Nearest downsampling 4 -> 2 with half_pixel: sources 0.5 and 2.5; prefer_floor -> 0, 2;
  // prefer_ceil -> 1, 3.
  Tensor q = Tensor::FromVector<float>({10, 11, 12, 13}, {4});
  Tensor half = Scales({0.5f});
  y = RunResize(q, &half, nullptr, "nearest", "half_pixel", "round_prefer_floor");
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{10, 12}));
  y = RunResize(q, &half, nullptr, "nearest", "half_pixel", "round_prefer_ceil");
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{11, 13}));
}

// Independent N-D reference: for each output element, source coordinates per axis,
// then the tensor-product sum over the 2^rank corner neighbours (linear) or the
// nearest element.
double Source(const std::string& ctm, int64_t o, int64_t in, int64_t out, double scale) {
  if (ctm == "half_pixel") return (o + 0.5) / scale - 0.5;
  if (ctm == "pytorch_half_pixel") return out > 1 ? (o + 0.5) / scale - 0.5 : 0;
  if (ctm == "align_corners") return out > 1 ? o * double(in - 1) / double(out - 1) : 0;
  if (ctm == "asymmetric") return o / scale;
  return (o + 0.5) / scale;  // tf_half_pixel_for_nearest
}

int64_t Nearest(const std::string& mode, double x) {
  if (mode == "floor") return static_cast<int64_t>(std::floor(x));
  if (mode == "ceil") return static_cast<int64_t>(std::ceil(x));
  const bool tie = x - std::floor(x) == 0.5;
  if (tie) return static_cast<int64_t>(mode == "round_prefer_floor" ? std::floor(x) : std::ceil(x));
  return static_cast<int64_t>(std::round(x));
}

Tensor NaiveResize(const Tensor& x, const Shape& out, const std::vector<double>& scales, const std::string& mode,
                   const std::string& ctm, const std::string& nearest) {
  const size_t r = out.size();
  Tensor y(DataType::kFloat32, out);
  std::vector<int64_t> oi(r, 0);
  do {
    std::vector<double> src(r);
    for (size_t d = 0; d < r; ++d) src[d] = Source(ctm, oi[d], x.dim(d), out[d], scales[d]);
    double v = 0;
    if (mode == "nearest") {
      std::vector<int64_t> xi(r);
      for (size_t d = 0; d < r; ++d) xi[d] = std::clamp<int64_t>(Nearest(nearest, src[d]), 0, x.dim(d) - 1);
      v = x.data<float>()[Offset(x.shape(), xi)];
    } else {
      for (int64_t corner = 0; corner < (int64_t{1} << r); ++corner) {
        std::vector<int64_t> xi(r);
        double w = 1;
        for (size_t d = 0; d < r; ++d) {
          double c = std::clamp(src[d], 0.0, double(x.dim(d) - 1));
          int64_t lo = static_cast<int64_t>(std::floor(c));
          double frac = c - lo;
          bool upper = (corner >> d) & 1;
          xi[d] = std::min(lo + (upper ? 1 : 0), x.dim(d) - 1);
          w *= upper ? frac : 1 - frac;
        }
        v += w * x.data<float>()[Offset(x.shape(), xi)];
      }
    }
    y.data<float>()[Offset(out, oi)] = static_cast<float>(v);
  } while (NextIndex(out, oi));
  return y;
}

TEST(ResizeTest, AllModesFromScalesAndSizesMatchNaive) {
  Tensor x = RandomFloat({1, 2, 5, 7}, 1);
  const char* ctms[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nearest"};
  const char* nearests[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  const std::vector<float> scale_sets[] = {{1, 1, 2, 1.5f}, {1, 1, 0.6f, 0.5f}, {1, 2, 1.4f, 3}};
  for (const char* ctm : ctms) {
    for (const auto& sv : scale_sets) {
      Tensor s = Scales(sv);
      Shape out = x.shape();
      std::vector<double> scales;
      for (size_t d = 0; d < 4; ++d) {
        out[d] = static_cast<int64_t>(std::floor(x.dim(d) * double(sv[d])));
        scales.push_back(sv[d]);
      }
      auto y = RunResize(x, &s, nullptr, "linear", ctm);
      ASSERT_TRUE(y.ok()) << y.status().ToString();
      EXPECT_TRUE(AllClose(*y, NaiveResize(x, out, scales, "linear", ctm, ""))) << ctm << " " << sv[2];
      for (const char* nm : nearests) {
        y = RunResize(x, &s, nullptr, "nearest", ctm, nm);
        ASSERT_TRUE(y.ok()) << y.status().ToString();
        EXPECT_TRUE(AllClose(*y, NaiveResize(x, out, scales, "nearest", ctm, nm), 0, 0)) << ctm << " " << nm;
      }
    }
    // sizes: scale = out / in; includes an output dim of 1.
    Tensor sz = Sizes({1, 2, 1, 11});
    std::vector<double> scales = {1, 1, 1.0 / 5, 11.0 / 7};
    auto y = RunResize(x, nullptr, &sz, "linear", ctm);
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    EXPECT_TRUE(AllClose(*y, NaiveResize(x, {1, 2, 1, 11}, scales, "linear", ctm, ""))) << ctm;
  }
}

TEST(ResizeTest, NearestOnInt8AndAxes) {
  Tensor x = RandomInt<int8_t>({1, 1, 3, 4}, 2, -128, 127);
  Tensor s = Scales({1, 1, 2, 0.5f});
  Attributes a;
  a.Set("mode", std::string("nearest"));
  auto y = RunOne(MakeNode("Resize", 3, a), {&x, &kEmpty, &s});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  ASSERT_EQ(y->shape(), (Shape{1, 1, 6, 2}));
  EXPECT_EQ(y->dtype(), DataType::kInt8);
  // half_pixel + round_prefer_floor: rows (o+0.5)/2-0.5 = -0.25, 0.25, ..., 2.25 -> 0,0,1,1,2,2;
  // cols (o+0.5)*2-0.5 = 0.5, 2.5 (ties, prefer floor) -> 0, 2.
  const int64_t rows[] = {0, 0, 1, 1, 2, 2}, cols[] = {0, 2};
  for (int i = 0; i < 6; ++i) {
    for (int j = 0; j < 2; ++j) EXPECT_EQ(y->data<int8_t>()[i * 2 + j], x.data<int8_t>()[rows[i] * 4 + cols[j]]);
  }
  // opset-18 axes: sizes for (W, H) only.
  Tensor xf = RandomFloat({1, 2, 5, 7}, 3);
  Attributes ax;
  ax.Set("mode", std::string("linear"));
  ax.Set("axes", std::vector<int64_t>{3, -2});
  Tensor sz = Sizes({9, 3});
  auto yf = RunOne(MakeNode("Resize", 4, ax), {&xf, nullptr, nullptr, &sz}, 18);
  ASSERT_TRUE(yf.ok()) << yf.status().ToString();
  EXPECT_TRUE(AllClose(*yf, NaiveResize(xf, {1, 2, 3, 9}, {1, 1, 3.0 / 5, 9.0 / 7}, "linear", "half_pixel", "")));
}

TEST(ResizeTest, TfCropAndResizeExtrapolates) {
  // 1-D [0, 10, 20, 30], roi [0.5, 1.5] -> 3 outputs: sources 1.5, 3, 4.5 -> 15, 30, extrapolated.
  Tensor x = Tensor::FromVector<float>({0, 10, 20, 30}, {4});
  Tensor roi = Tensor::FromVector<float>({0.5f, 1.5f}, {2});
  Tensor sz = Sizes({3});
  Attributes a;
  a.Set("mode", std::string("linear"));
  a.Set("coordinate_transformation_mode", std::string("tf_crop_and_resize"));
  a.Set("extrapolation_value", -1.0f);
  auto y = RunOne(MakeNode("Resize", 4, a), {&x, &roi, nullptr, &sz});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{15, 30, -1}));
}

TEST(ResizeTest, InferenceAndErrors) {
  Tensor s = Scales({1, 1, 2, 2});
  Node node = MakeNode("Resize", 3);
  std::vector<TensorType> types = {{DataType::kFloat32, {-1, 3, 8, 10}}, {DataType::kFloat32, {0}}, {DataType::kFloat32, {4}}};
  auto t = InferTypes(node, types, {nullptr, nullptr, &s});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)[0].shape, (Shape{-1, 3, 16, 20}));
  t = InferTypes(node, types);  // scales not constant: unknown dims, known rank
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)[0].shape, (Shape{-1, -1, -1, -1}));

  Attributes cubic;
  cubic.Set("mode", std::string("cubic"));
  t = InferTypes(MakeNode("Resize", 3, cubic), types, {nullptr, nullptr, &s});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(t.status().message().find("Resize 'n'"), std::string::npos) << t.status().message();
  Tensor bad = Scales({1, 2});
  t = InferTypes(node, types, {nullptr, nullptr, &bad});
  EXPECT_FALSE(t.ok());
  t = InferTypes(MakeNode("Resize", 2), {types[0], types[2]});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("opset-10"), std::string::npos) << t.status().message();
}

}  // namespace
}  // namespace qcal::testing
