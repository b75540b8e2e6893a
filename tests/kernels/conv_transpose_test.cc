#include <gtest/gtest.h>

#include "kernels/nn_test_util.h"

namespace qcal::testing {
namespace {

struct CtCase {
  int64_t group = 1;
  std::vector<int64_t> strides, dilations, pad_begin, pad_end, output_padding;
};

// Direct definition as a gather: y[n, m, o] sums x[n, c, i] * w[c, m', k] over all
// (c, i, k) with i*stride - pad_begin + k*dilation == o.
Tensor NaiveConvTranspose(const Tensor& x, const Tensor& w, const Tensor* b, const CtCase& c) {
  const size_t r = static_cast<size_t>(x.rank()) - 2;
  const int64_t C = x.dim(1), MG = w.dim(1), M = MG * c.group, CG = C / c.group;
  Shape out = {x.dim(0), M};
  for (size_t i = 0; i < r; ++i) {
    out.push_back(c.strides[i] * (x.dim(2 + i) - 1) + c.output_padding[i] + (w.dim(2 + i) - 1) * c.dilations[i] + 1 -
                  c.pad_begin[i] - c.pad_end[i]);
  }
  Tensor y(DataType::kFloat32, out);
  Shape xsp(x.shape().begin() + 2, x.shape().end());
  Shape ksh(w.shape().begin() + 2, w.shape().end());
  std::vector<int64_t> oi(out.size(), 0);
  do {
    const int64_t n = oi[0], m = oi[1], g = m / MG;
    double sum = b ? b->data<float>()[m] : 0.0;
    for (int64_t ci = g * CG; ci < (g + 1) * CG; ++ci) {
      std::vector<int64_t> ii(r, 0);
      do {
        std::vector<int64_t> k(r, 0);
        do {
          bool hit = true;
          for (size_t d = 0; d < r; ++d) {
            hit = hit && ii[d] * c.strides[d] - c.pad_begin[d] + k[d] * c.dilations[d] == oi[2 + d];
          }
          if (!hit) continue;
          std::vector<int64_t> xi = {n, ci}, wi = {ci, m - g * MG};
          xi.insert(xi.end(), ii.begin(), ii.end());
          wi.insert(wi.end(), k.begin(), k.end());
          sum += double(x.data<float>()[Offset(x.shape(), xi)]) * w.data<float>()[Offset(w.shape(), wi)];
        } while (NextIndex(ksh, k));
      } while (NextIndex(xsp, ii));
    }
    y.data<float>()[Offset(out, oi)] = static_cast<float>(sum);
  } while (NextIndex(out, oi));
  return y;
}

Attributes CtAttrs(const CtCase& c) {
  Attributes a;
  a.Set("group", c.group);
  a.Set("strides", c.strides);
  a.Set("dilations", c.dilations);
  std::vector<int64_t> pads = c.pad_begin;
  pads.insert(pads.end(), c.pad_end.begin(), c.pad_end.end());
  a.Set("pads", pads);
  a.Set("output_padding", c.output_padding);
  return a;
}

void ExpectMatchesNaive(const Shape& xs, const Shape& ws, const CtCase& c, uint32_t seed) {
  Tensor x = RandomFloat(xs, seed);
  Tensor w = RandomFloat(ws, seed + 1);
  Tensor b = RandomFloat({ws[1] * c.group}, seed + 2);
  auto y = RunOne(MakeNode("ConvTranspose", 3, CtAttrs(c)), {&x, &w, &b});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_TRUE(AllClose(*y, NaiveConvTranspose(x, w, &b, c), 1e-5, 1e-4));
}

TEST(ConvTransposeTest, HandComputed1d) {
  // x = [1, 2], w = [1, 10, 100], stride 2: y = [1, 10, 102, 20, 200].
  Tensor x = Tensor::FromVector<float>({1, 2}, {1, 1, 2});
  Tensor w = Tensor::FromVector<float>({1, 10, 100}, {1, 1, 3});
  Attributes a;
  a.Set("strides", std::vector<int64_t>{2});
  auto y = RunOne(MakeNode("ConvTranspose", 2, a), {&x, &w});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{1, 10, 102, 20, 200}));
}

TEST(ConvTransposeTest, GroupsStridesPadsOutputPadding2d) {
  ExpectMatchesNaive({2, 6, 4, 3}, {6, 2, 3, 2}, {3, {2, 3}, {1, 2}, {1, 0}, {0, 2}, {1, 1}}, 1);
  ExpectMatchesNaive({1, 4, 5, 5}, {4, 1, 3, 3}, {4, {2, 2}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, 2);  // depthwise
}

TEST(ConvTransposeTest, OneAndThreeDimensional) {
  ExpectMatchesNaive({1, 2, 7}, {2, 3, 4}, {1, {3}, {1}, {2}, {2}, {1}}, 3);
  ExpectMatchesNaive({1, 2, 3, 4, 3}, {2, 2, 2, 3, 2}, {1, {1, 2, 2}, {2, 1, 1}, {0, 1, 1}, {0, 1, 0}, {0, 1, 0}}, 4);
}

TEST(ConvTransposeTest, OutputShapeAndAutoPad) {
  // 5x5, k3, s2: natural output 2*4+3 = 11; output_shape 10 -> total pad 1.
  // NOTSET/SAME_LOWER put it at the beginning, SAME_UPPER at the end.
  Tensor x = RandomFloat({1, 2, 5, 5}, 5);
  Tensor w = RandomFloat({2, 3, 3, 3}, 6);
  struct Mode {
    const char* auto_pad;
    bool output_shape;
    int64_t begin, end;
  };
  for (const Mode& m : {Mode{"NOTSET", true, 1, 0}, Mode{"SAME_LOWER", false, 1, 0}, Mode{"SAME_UPPER", false, 0, 1}}) {
    Attributes a;
    a.Set("strides", std::vector<int64_t>{2, 2});
    a.Set("auto_pad", std::string(m.auto_pad));
    if (m.output_shape) a.Set("output_shape", std::vector<int64_t>{10, 10});
    auto y = RunOne(MakeNode("ConvTranspose", 2, a), {&x, &w});
    ASSERT_TRUE(y.ok()) << m.auto_pad << ": " << y.status().ToString();
    CtCase c{1, {2, 2}, {1, 1}, {m.begin, m.begin}, {m.end, m.end}, {0, 0}};
    EXPECT_TRUE(AllClose(*y, NaiveConvTranspose(x, w, nullptr, c))) << m.auto_pad;
  }
}

TEST(ConvTransposeTest, InferenceAndErrors) {
  Attributes a;
  a.Set("strides", std::vector<int64_t>{2, 2});
  a.Set("group", int64_t{2});
  auto t = InferTypes(MakeNode("ConvTranspose", 2, a),
                      {{DataType::kFloat32, {-1, 4, 8, -1}}, {DataType::kFloat32, {4, 3, 3, 3}}});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)[0].shape, (Shape{-1, 6, 17, -1}));
  t = InferTypes(MakeNode("ConvTranspose", 2, a), {{DataType::kFloat32, {1, 5, 8, 8}}, {DataType::kFloat32, {4, 3, 3, 3}}});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("ConvTranspose 'n'"), std::string::npos) << t.status().message();
  a.Set("output_padding", std::vector<int64_t>{2, 0});
  t = InferTypes(MakeNode("ConvTranspose", 2, a), {{DataType::kFloat32, {1, 4, 8, 8}}, {DataType::kFloat32, {4, 3, 3, 3}}});
  EXPECT_FALSE(t.ok());
}

}  // namespace
}  // namespace qcal::testing
