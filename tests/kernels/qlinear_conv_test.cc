// QLinearConv and ConvInteger vs a naive formula written here (independent of
// int_conv.cc), and QLinearConv vs dequantize -> float conv -> quantize (1 LSB).
#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>

#include "kernels/quant_test_util.h"

namespace qcal::quant_testing {
namespace {

// A 2-D convolution case with explicit pads (top, left, bottom, right).
struct Conv2dCase {
  int64_t n, c, h, w, m, kh, kw, group, stride_h, stride_w, dil_h, dil_w;
  int64_t pad_t, pad_l, pad_b, pad_r;
  int64_t OutH() const { return (h + pad_t + pad_b - ((kh - 1) * dil_h + 1)) / stride_h + 1; }
  int64_t OutW() const { return (w + pad_l + pad_r - ((kw - 1) * dil_w + 1)) / stride_w + 1; }
  Attributes Attrs() const {
    Attributes a;
    a.Set("group", group);
    a.Set("strides", std::vector<int64_t>{stride_h, stride_w});
    a.Set("dilations", std::vector<int64_t>{dil_h, dil_w});
    a.Set("pads", std::vector<int64_t>{pad_t, pad_l, pad_b, pad_r});
    a.Set("kernel_shape", std::vector<int64_t>{kh, kw});
    return a;
  }
};

// Naive grouped conv on real-valued "centered" inputs: value(n,c,y,x) returns
// the input (0 in the padding), weight(m,ci,ky,kx) the weight. Output [n][m][oy][ox].
template <typename V, typename XF, typename WF>
std::vector<V> NaiveConv(const Conv2dCase& k, XF value, WF weight) {
  std::vector<V> out;
  const int64_t cg = k.c / k.group, mg = k.m / k.group;
  for (int64_t n = 0; n < k.n; ++n) {
    for (int64_t m = 0; m < k.m; ++m) {
      for (int64_t oy = 0; oy < k.OutH(); ++oy) {
        for (int64_t ox = 0; ox < k.OutW(); ++ox) {
          V sum = 0;
          for (int64_t ci = 0; ci < cg; ++ci) {
            int64_t c = (m / mg) * cg + ci;
            for (int64_t ky = 0; ky < k.kh; ++ky) {
              for (int64_t kx = 0; kx < k.kw; ++kx) {
                int64_t y = oy * k.stride_h - k.pad_t + ky * k.dil_h;
                int64_t x = ox * k.stride_w - k.pad_l + kx * k.dil_w;
                bool inside = y >= 0 && y < k.h && x >= 0 && x < k.w;
                sum += (inside ? value(n, c, y, x) : V(0)) * weight(m, ci, ky, kx);
              }
            }
          }
          out.push_back(sum);
        }
      }
    }
  }
  return out;
}

struct QConvData {
  Tensor x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, bias;
  std::vector<const Tensor*> Inputs() {
    return {&x, &x_scale, &x_zp, &w, &w_scale, &w_zp, &y_scale, &y_zp, &bias};
  }
};

template <typename XT, typename WT, typename YT>
QConvData MakeQConvData(const Conv2dCase& k, uint32_t seed, int x_zp, int y_zp) {
  QConvData d;
  d.x = RandomInts<XT>({k.n, k.c, k.h, k.w}, seed, std::numeric_limits<XT>::min(),
                       std::numeric_limits<XT>::max());
  d.x_scale = Tensor::Scalar<float>(0.021f);
  d.x_zp = Tensor::Scalar<XT>(static_cast<XT>(x_zp));
  d.w = RandomInts<WT>({k.m, k.c / k.group, k.kh, k.kw}, seed + 1, std::numeric_limits<WT>::min(),
                       std::numeric_limits<WT>::max());
  std::vector<float> ws;
  for (int64_t m = 0; m < k.m; ++m) ws.push_back(0.003f + 0.0011f * static_cast<float>(m));
  d.w_scale = Tensor::FromVector<float>(ws, {k.m});
  int wz_lo = std::is_signed_v<WT> ? -4 : 120, wz_hi = std::is_signed_v<WT> ? 4 : 135;
  d.w_zp = RandomInts<WT>({k.m}, seed + 2, wz_lo, wz_hi);
  d.y_scale = Tensor::Scalar<float>(0.35f);
  d.y_zp = Tensor::Scalar<YT>(static_cast<YT>(y_zp));
  d.bias = RandomInts<int32_t>({k.m}, seed + 3, -3000, 3000);
  return d;
}

// The expected QLinearConv output by the ONNX Runtime formula, rounding with
// std::nearbyint (FE_TONEAREST) instead of quant_math.h.
template <typename XT, typename WT, typename YT>
std::vector<int64_t> ExpectedQLinearConv(const Conv2dCase& k, const QConvData& d) {
  const XT* x = d.x.data<XT>();
  const WT* w = d.w.data<WT>();
  const int64_t xz = d.x_zp.GetAsInt64(0);
  auto acc = NaiveConv<int64_t>(
      k,
      [&](int64_t n, int64_t c, int64_t y, int64_t xx) {
        return x[((n * k.c + c) * k.h + y) * k.w + xx] - xz;
      },
      [&](int64_t m, int64_t ci, int64_t ky, int64_t kx) {
        return w[((m * (k.c / k.group) + ci) * k.kh + ky) * k.kw + kx] - d.w_zp.GetAsInt64(m);
      });
  EXPECT_EQ(std::fegetround(), FE_TONEAREST);
  std::vector<int64_t> out;
  const int64_t plane = k.OutH() * k.OutW();
  for (size_t i = 0; i < acc.size(); ++i) {
    int64_t m = static_cast<int64_t>(i) / plane % k.m;
    float mult = d.x_scale.data<float>()[0] * d.w_scale.data<float>()[m] / d.y_scale.data<float>()[0];
    int64_t a = acc[i] + d.bias.data<int32_t>()[m];
    int64_t q = static_cast<int64_t>(std::nearbyint(static_cast<float>(a) * mult)) + d.y_zp.GetAsInt64(0);
    out.push_back(std::clamp<int64_t>(q, std::numeric_limits<YT>::min(), std::numeric_limits<YT>::max()));
  }
  return out;
}

// Dequantize everything, convolve in float (double), quantize the result.
template <typename XT, typename WT, typename YT>
std::vector<int64_t> FloatPathQLinearConv(const Conv2dCase& k, const QConvData& d) {
  const float xs = d.x_scale.data<float>()[0], ys = d.y_scale.data<float>()[0];
  const XT* x = d.x.data<XT>();
  const WT* w = d.w.data<WT>();
  auto y = NaiveConv<double>(
      k,
      [&](int64_t n, int64_t c, int64_t yy, int64_t xx) {
        return xs * double(x[((n * k.c + c) * k.h + yy) * k.w + xx] - d.x_zp.GetAsInt64(0));
      },
      [&](int64_t m, int64_t ci, int64_t ky, int64_t kx) {
        return d.w_scale.data<float>()[m] *
               double(w[((m * (k.c / k.group) + ci) * k.kh + ky) * k.kw + kx] - d.w_zp.GetAsInt64(m));
      });
  std::vector<int64_t> out;
  const int64_t plane = k.OutH() * k.OutW();
  for (size_t i = 0; i < y.size(); ++i) {
    int64_t m = static_cast<int64_t>(i) / plane % k.m;
    double v = y[i] + d.bias.data<int32_t>()[m] * double(xs) * d.w_scale.data<float>()[m];
    int64_t q = std::llround(v / ys) + d.y_zp.GetAsInt64(0);
    out.push_back(std::clamp<int64_t>(q, std::numeric_limits<YT>::min(), std::numeric_limits<YT>::max()));
  }
  return out;
}

template <typename XT, typename WT, typename YT>
void CheckQLinearConv(const Conv2dCase& k, int x_zp, int y_zp, uint32_t seed) {
  QConvData d = MakeQConvData<XT, WT, YT>(k, seed, x_zp, y_zp);
  auto y = RunNode(QNode("QLinearConv", 9, k.Attrs()), d.Inputs());
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  ASSERT_EQ(y->shape(), (Shape{k.n, k.m, k.OutH(), k.OutW()}));
  ASSERT_EQ(y->dtype(), DataTypeOf<YT>::value);
  std::vector<int64_t> got = Ints(*y);
  EXPECT_EQ(got, (ExpectedQLinearConv<XT, WT, YT>(k, d)));
  std::vector<int64_t> fp = FloatPathQLinearConv<XT, WT, YT>(k, d);
  int64_t saturated = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_LE(std::abs(got[i] - fp[i]), 1) << "element " << i;
    saturated += got[i] == std::numeric_limits<YT>::min() || got[i] == std::numeric_limits<YT>::max();
  }
  EXPECT_LT(saturated, static_cast<int64_t>(got.size()) / 4)
      << "test data saturates too much to be meaningful";
}

// 3 groups, stride 2, dilation 2, asymmetric pads, per-channel weight scales and zero points.
const Conv2dCase kOddCase = {2, 6, 11, 9, 9, 3, 2, 3, 2, 2, 2, 2, 1, 0, 2, 1};

TEST(QLinearConvTest, U8ActivationsS8WeightsGroupedStridedDilated) {
  CheckQLinearConv<uint8_t, int8_t, uint8_t>(kOddCase, 131, 117, 10);
}

TEST(QLinearConvTest, S8ActivationsU8WeightsS8Output) {
  CheckQLinearConv<int8_t, uint8_t, int8_t>(kOddCase, -7, 5, 20);
}

TEST(QLinearConvTest, DepthwiseUnitStride) {
  const Conv2dCase dw = {1, 5, 6, 7, 5, 3, 3, 5, 1, 1, 1, 1, 1, 1, 1, 1};
  CheckQLinearConv<uint8_t, uint8_t, uint8_t>(dw, 128, 128, 30);
}

TEST(QLinearConvTest, SameUpperAutoPadMatchesExplicitPads) {
  // in 8, kernel 3, stride 2: out 4, total pad (4-1)*2+3-8 = 1 -> begin 0, end 1 (SAME_UPPER).
  Conv2dCase k = {1, 2, 8, 8, 3, 3, 3, 1, 2, 2, 1, 1, 0, 0, 1, 1};
  QConvData d = MakeQConvData<uint8_t, int8_t, uint8_t>(k, 40, 100, 128);
  Attributes a;
  a.Set("strides", std::vector<int64_t>{2, 2});
  a.Set("auto_pad", std::string("SAME_UPPER"));
  auto y = RunNode(QNode("QLinearConv", 9, a), d.Inputs());
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(Ints(*y), (ExpectedQLinearConv<uint8_t, int8_t, uint8_t>(k, d)));
  // SAME_LOWER puts the odd pad at the beginning.
  Conv2dCase lower = k;
  lower.pad_t = lower.pad_l = 1;
  lower.pad_b = lower.pad_r = 0;
  a.Set("auto_pad", std::string("SAME_LOWER"));
  auto yl = RunNode(QNode("QLinearConv", 9, a), d.Inputs());
  ASSERT_TRUE(yl.ok()) << yl.status().ToString();
  EXPECT_EQ(Ints(*yl), (ExpectedQLinearConv<uint8_t, int8_t, uint8_t>(lower, d)));
}

TEST(QLinearConvTest, PerTensorWeightParamsWithoutBias) {
  Conv2dCase k = {1, 3, 5, 5, 4, 2, 2, 1, 1, 1, 1, 1, 0, 0, 0, 0};
  QConvData d = MakeQConvData<uint8_t, int8_t, uint8_t>(k, 50, 90, 60);
  d.w_scale = Tensor::FromVector<float>({0.004f}, {1});
  d.w_zp = Tensor::FromVector<int8_t>({3}, {1});
  auto inputs = d.Inputs();
  inputs.pop_back();                         // no bias
  d.bias = Tensor(DataType::kInt32, {k.m});  // zeros for the expected value
  auto y = RunNode(QNode("QLinearConv", 8, k.Attrs()), inputs);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  std::vector<float> ws(4, 0.004f);
  d.w_scale = Tensor::FromVector<float>(ws, {4});
  d.w_zp = Tensor::FromVector<int8_t>({3, 3, 3, 3}, {4});
  EXPECT_EQ(Ints(*y), (ExpectedQLinearConv<uint8_t, int8_t, uint8_t>(k, d)));
}

TEST(QLinearConvTest, InferenceValidatesParamsAndPropagatesUnknownDims) {
  Node n = QNode("QLinearConv", 9);
  std::vector<TensorType> t = {{DataType::kUint8, {-1, 4, -1, 10}},
                               {DataType::kFloat32, {}},
                               {DataType::kUint8, {}},
                               {DataType::kInt8, {6, 4, 3, 3}},
                               {DataType::kFloat32, {6}},
                               {DataType::kInt8, {6}},
                               {DataType::kFloat32, {}},
                               {DataType::kInt8, {}},
                               {DataType::kInt32, {6}}};
  auto ok = InferFromTypes(n, t);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)[0].dtype, DataType::kInt8);
  EXPECT_EQ((*ok)[0].shape, (Shape{-1, 6, -1, 8}));
  auto bad = t;
  bad[4].shape = {5};  // w_scale length != M
  auto r = InferFromTypes(n, bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("QLinearConv 'q'"), std::string::npos);
  EXPECT_NE(r.status().message().find("w_scale"), std::string::npos);
  bad = t;
  bad[1].shape = {4};  // per-channel x_scale is not allowed
  EXPECT_FALSE(InferFromTypes(n, bad).ok());
  bad = t;
  bad[2].dtype = DataType::kInt8;  // x_zero_point type differs from x
  EXPECT_FALSE(InferFromTypes(n, bad).ok());
  bad = t;
  bad[8].shape = {5};
  EXPECT_FALSE(InferFromTypes(n, bad).ok());
  bad = t;
  bad[3].shape = {6, 3, 3, 3};  // C/group mismatch
  EXPECT_FALSE(InferFromTypes(n, bad).ok());
}

// ConvInteger: exact int32 vs the naive formula, per-channel w zero points.
TEST(ConvIntegerTest, MatchesNaiveFormulaExactly) {
  const Conv2dCase& k = kOddCase;
  Tensor x = RandomInts<uint8_t>({k.n, k.c, k.h, k.w}, 60, 0, 255);
  Tensor w = RandomInts<int8_t>({k.m, k.c / k.group, k.kh, k.kw}, 61, -128, 127);
  Tensor x_zp = Tensor::Scalar<uint8_t>(77);
  Tensor w_zp = RandomInts<int8_t>({k.m}, 62, -5, 5);
  auto y = RunNode(QNode("ConvInteger", 4, k.Attrs()), {&x, &w, &x_zp, &w_zp});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->dtype(), DataType::kInt32);
  auto expected = NaiveConv<int64_t>(
      k,
      [&](int64_t n, int64_t c, int64_t yy, int64_t xx) {
        return int64_t{x.data<uint8_t>()[((n * k.c + c) * k.h + yy) * k.w + xx]} - 77;
      },
      [&](int64_t m, int64_t ci, int64_t ky, int64_t kx) {
        return int64_t{w.data<int8_t>()[((m * (k.c / k.group) + ci) * k.kh + ky) * k.kw + kx]} -
               w_zp.data<int8_t>()[m];
      });
  EXPECT_EQ(Ints(*y), expected);
}

TEST(ConvIntegerTest, HandComputed1dAnd3d) {
  // 1-D: (x - 1) = [0,1,2,3,4] with w = [1,-1]; dilation 2 -> x[i] - x[i+2].
  Tensor x = Tensor::FromVector<uint8_t>({1, 2, 3, 4, 5}, {1, 1, 5});
  Tensor w = Tensor::FromVector<int8_t>({1, -1}, {1, 1, 2});
  Tensor x_zp = Tensor::Scalar<uint8_t>(1);
  auto y = RunNode(QNode("ConvInteger", 3), {&x, &w, &x_zp});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(Ints(*y), (std::vector<int64_t>{-1, -1, -1, -1}));
  Attributes dil;
  dil.Set("dilations", std::vector<int64_t>{2});
  auto yd = RunNode(QNode("ConvInteger", 3, dil), {&x, &w, &x_zp});
  ASSERT_TRUE(yd.ok());
  EXPECT_EQ(Ints(*yd), (std::vector<int64_t>{-2, -2, -2}));

  // 3-D: a 2x2x2 cube of ones, 2x2x2 kernel of ones, pads 1: counts of overlap.
  Tensor x3 = Tensor::FromVector<int8_t>(std::vector<int8_t>(8, 1), {1, 1, 2, 2, 2});
  Tensor w3 = Tensor::FromVector<int8_t>(std::vector<int8_t>(8, 1), {1, 1, 2, 2, 2});
  Attributes p;
  p.Set("pads", std::vector<int64_t>{1, 1, 1, 1, 1, 1});
  auto y3 = RunNode(QNode("ConvInteger", 2, p), {&x3, &w3});
  ASSERT_TRUE(y3.ok()) << y3.status().ToString();
  ASSERT_EQ(y3->shape(), (Shape{1, 1, 3, 3, 3}));
  auto v = Ints(*y3);
  EXPECT_EQ(v[0], 1);   // corner
  EXPECT_EQ(v[1], 2);   // edge
  EXPECT_EQ(v[4], 4);   // face center
  EXPECT_EQ(v[13], 8);  // center
  EXPECT_EQ(v[26], 1);
}

TEST(ConvIntegerTest, PaddingUsesZeroPoint) {
  // ONNX test_convinteger_with_padding: x 3x3 = 2..10, x_zp 1, w 2x2 ones, pads 1.
  Tensor x = Tensor::FromVector<uint8_t>({2, 3, 4, 5, 6, 7, 8, 9, 10}, {1, 1, 3, 3});
  Tensor w = Tensor::FromVector<uint8_t>({1, 1, 1, 1}, {1, 1, 2, 2});
  Tensor x_zp = Tensor::Scalar<uint8_t>(1);
  Attributes p;
  p.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  auto y = RunNode(QNode("ConvInteger", 3, p), {&x, &w, &x_zp});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  // x - 1 = [[1,2,3],[4,5,6],[7,8,9]]; 2x2 window sums over the zero-padded grid.
  EXPECT_EQ(Ints(*y), (std::vector<int64_t>{1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9}));
}

}  // namespace
}  // namespace qcal::quant_testing
