#include <gtest/gtest.h>

#include "kernels/nn_test_util.h"

namespace qcal::testing {
namespace {

struct ConvCase {
  int64_t group = 1;
  std::vector<int64_t> strides, dilations, pad_begin, pad_end;
};

// Direct definition: every output element is a sum over the group's input
// channels and the kernel window; taps outside the input are zero padding.
Tensor NaiveConv(const Tensor& x, const Tensor& w, const Tensor* b, const ConvCase& c) {
  const size_t r = static_cast<size_t>(x.rank()) - 2;
  const int64_t N = x.dim(0), C = x.dim(1), M = w.dim(0), CG = C / c.group, MG = M / c.group;
  Shape out = {N, M};
  for (size_t i = 0; i < r; ++i) {
    int64_t in = x.dim(2 + i), k = w.dim(2 + i);
    out.push_back((in + c.pad_begin[i] + c.pad_end[i] - c.dilations[i] * (k - 1) - 1) / c.strides[i] + 1);
  }
  Tensor y(DataType::kFloat32, out);
  std::vector<int64_t> oi(out.size(), 0);
  Shape ksh(w.shape().begin() + 2, w.shape().end());
  do {
    const int64_t n = oi[0], m = oi[1], g = m / MG;
    double sum = b ? b->data<float>()[m] : 0.0;
    for (int64_t ci = 0; ci < CG; ++ci) {
      std::vector<int64_t> k(r, 0);
      do {
        std::vector<int64_t> xi = {n, g * CG + ci};
        bool inside = true;
        for (size_t i = 0; i < r; ++i) {
          int64_t p = oi[2 + i] * c.strides[i] - c.pad_begin[i] + k[i] * c.dilations[i];
          inside = inside && p >= 0 && p < x.dim(2 + i);
          xi.push_back(p);
        }
        if (!inside) continue;
        std::vector<int64_t> wi = {m, ci};
        wi.insert(wi.end(), k.begin(), k.end());
        sum += double(x.data<float>()[Offset(x.shape(), xi)]) * w.data<float>()[Offset(w.shape(), wi)];
      } while (NextIndex(ksh, k));
    }
    y.data<float>()[Offset(out, oi)] = static_cast<float>(sum);
  } while (NextIndex(out, oi));
  return y;
}

Attributes ConvAttrs(const ConvCase& c) {
  Attributes a;
  a.Set("group", c.group);
  a.Set("strides", c.strides);
  a.Set("dilations", c.dilations);
  std::vector<int64_t> pads = c.pad_begin;
  pads.insert(pads.end(), c.pad_end.begin(), c.pad_end.end());
  a.Set("pads", pads);
  return a;
}

void ExpectConvMatchesNaive(const Shape& xs, const Shape& ws, bool bias, const ConvCase& c, uint32_t seed) {
  Tensor x = RandomFloat(xs, seed);
  Tensor w = RandomFloat(ws, seed + 1);
  Tensor b = RandomFloat({ws[0]}, seed + 2);
  Node node = MakeNode("Conv", bias ? 3 : 2, ConvAttrs(c));
  std::vector<const Tensor*> in = {&x, &w};
  if (bias) in.push_back(&b);
  auto y = RunOne(node, in);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_TRUE(AllClose(*y, NaiveConv(x, w, bias ? &b : nullptr, c), 1e-5, 1e-4));
}

TEST(ConvTest, HandComputedOnesKernelWithPadding) {
  // ONNX basic_conv_with_padding: x = 0..24 (5x5), w = ones(3x3), pads 1.
  std::vector<float> xv(25);
  for (int i = 0; i < 25; ++i) xv[i] = static_cast<float>(i);
  Tensor x = Tensor::FromVector(xv, {1, 1, 5, 5});
  Tensor w = Tensor::FromVector(std::vector<float>(9, 1.0f), {1, 1, 3, 3});
  Attributes a;
  a.Set("kernel_shape", std::vector<int64_t>{3, 3});
  a.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  auto y = RunOne(MakeNode("Conv", 2, a), {&x, &w});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  std::vector<float> want = {12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81,
                             93, 144, 153, 162, 111, 72, 111, 117, 123, 84};
  EXPECT_EQ(y->ToFloatVector(), want);
}

TEST(ConvTest, HandComputedStrideAndBias) {
  // 1x1x3x4 input, 1x1x2x2 kernel [[1,0],[0,-1]], stride 2, bias 0.5:
  // y[i][j] = x[2i][2j] - x[2i+1][2j+1] + 0.5.
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {1, 1, 3, 4});
  Tensor w = Tensor::FromVector<float>({1, 0, 0, -1}, {1, 1, 2, 2});
  Tensor b = Tensor::FromVector<float>({0.5f}, {1});
  Attributes a;
  a.Set("strides", std::vector<int64_t>{2, 2});
  auto y = RunOne(MakeNode("Conv", 3, a), {&x, &w, &b});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->shape(), (Shape{1, 1, 1, 2}));
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{1 - 6 + 0.5f, 3 - 8 + 0.5f}));
}

TEST(ConvTest, GroupsStrideDilationAsymmetricPads2d) {
  ConvCase c{3, {2, 2}, {2, 2}, {1, 0}, {2, 1}};
  ExpectConvMatchesNaive({2, 6, 7, 5}, {9, 2, 3, 2}, true, c, 1);
  ConvCase c2{3, {2, 1}, {1, 2}, {0, 2}, {1, 0}};
  ExpectConvMatchesNaive({1, 3, 9, 8}, {6, 1, 3, 3}, false, c2, 2);
}

TEST(ConvTest, Depthwise) {
  ConvCase c{4, {2, 2}, {1, 1}, {1, 1}, {1, 1}};
  ExpectConvMatchesNaive({1, 4, 8, 7}, {4, 1, 3, 3}, true, c, 3);
  // Channel multiplier 2.
  ExpectConvMatchesNaive({1, 4, 6, 6}, {8, 1, 3, 3}, true, c, 4);
}

TEST(ConvTest, OneDimensional) {
  ConvCase c{1, {3}, {2}, {2}, {1}};
  ExpectConvMatchesNaive({2, 3, 11}, {2, 3, 3}, true, c, 5);
}

TEST(ConvTest, ThreeDimensional) {
  ConvCase c{1, {1, 2, 1}, {2, 1, 1}, {1, 0, 1}, {0, 1, 2}};
  ExpectConvMatchesNaive({1, 2, 5, 4, 6}, {3, 2, 2, 3, 2}, true, c, 6);
}

TEST(ConvTest, LargerThanInputKernelWithPadding) {
  // Kernel taller than the input: only padding makes it fit.
  ConvCase c{1, {1, 1}, {1, 1}, {2, 0}, {2, 0}};
  ExpectConvMatchesNaive({1, 2, 2, 5}, {2, 2, 5, 1}, false, c, 7);
}

TEST(ConvTest, AutoPadSameAndValid) {
  // 7x5 input, 4x3 kernel, stride 2: SAME output ceil(7/2)=4 x ceil(5/2)=3.
  // Total pads: H (4-1)*2+4-7 = 3, W (3-1)*2+3-5 = 2.
  Tensor x = RandomFloat({1, 2, 7, 5}, 10);
  Tensor w = RandomFloat({3, 2, 4, 3}, 11);
  struct Mode {
    const char* auto_pad;
    ConvCase c;
  };
  const Mode modes[] = {
      {"SAME_UPPER", {1, {2, 2}, {1, 1}, {1, 1}, {2, 1}}},
      {"SAME_LOWER", {1, {2, 2}, {1, 1}, {2, 1}, {1, 1}}},
      {"VALID", {1, {2, 2}, {1, 1}, {0, 0}, {0, 0}}},
  };
  for (const Mode& m : modes) {
    Attributes a;
    a.Set("auto_pad", std::string(m.auto_pad));
    a.Set("strides", std::vector<int64_t>{2, 2});
    auto y = RunOne(MakeNode("Conv", 2, a), {&x, &w});
    ASSERT_TRUE(y.ok()) << m.auto_pad << ": " << y.status().ToString();
    EXPECT_TRUE(AllClose(*y, NaiveConv(x, w, nullptr, m.c))) << m.auto_pad;
  }
}

TEST(ConvTest, InferenceWithUnknownDims) {
  Attributes a;
  a.Set("strides", std::vector<int64_t>{2, 2});
  a.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  Node node = MakeNode("Conv", 2, a);
  auto t = InferTypes(node, {{DataType::kFloat32, {-1, 3, 32, -1}}, {DataType::kFloat32, {16, 3, 3, 3}}});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)[0].shape, (Shape{-1, 16, 16, -1}));
  // Unknown channel count in X is not an error.
  t = InferTypes(node, {{DataType::kFloat32, {1, -1, 8, 8}}, {DataType::kFloat32, {4, 3, 3, 3}}});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)[0].shape, (Shape{1, 4, 4, 4}));
}

TEST(ConvTest, ErrorsNameTheNode) {
  Node node = MakeNode("Conv", 2);
  auto t = InferTypes(node, {{DataType::kFloat32, {1, 4, 8, 8}}, {DataType::kFloat32, {2, 3, 3, 3}}});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("Conv 'n'"), std::string::npos) << t.status().message();
  EXPECT_NE(t.status().message().find("channels"), std::string::npos) << t.status().message();

  Attributes bad;
  bad.Set("strides", std::vector<int64_t>{0, 1});
  t = InferTypes(MakeNode("Conv", 2, bad), {{DataType::kFloat32, {1, 3, 8, 8}}, {DataType::kFloat32, {2, 3, 3, 3}}});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("strides"), std::string::npos) << t.status().message();

  Attributes ks;
  ks.Set("kernel_shape", std::vector<int64_t>{5, 5});
  t = InferTypes(MakeNode("Conv", 2, ks), {{DataType::kFloat32, {1, 3, 8, 8}}, {DataType::kFloat32, {2, 3, 3, 3}}});
  EXPECT_FALSE(t.ok());

  Attributes pad;
  pad.Set("auto_pad", std::string("SAME"));
  t = InferTypes(MakeNode("Conv", 2, pad), {{DataType::kFloat32, {1, 3, 8, 8}}, {DataType::kFloat32, {2, 3, 3, 3}}});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("auto_pad"), std::string::npos) << t.status().message();

  // Kernel larger than the unpadded input.
  t = InferTypes(MakeNode("Conv", 2), {{DataType::kFloat32, {1, 3, 2, 8}}, {DataType::kFloat32, {2, 3, 3, 3}}});
  EXPECT_FALSE(t.ok());
  // Group that does not divide the output channels.
  Attributes grp;
  grp.Set("group", int64_t{2});
  t = InferTypes(MakeNode("Conv", 2, grp), {{DataType::kFloat32, {1, 4, 8, 8}}, {DataType::kFloat32, {3, 2, 3, 3}}});
  EXPECT_FALSE(t.ok());
}

}  // namespace
}  // namespace qcal::testing
