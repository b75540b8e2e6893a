// oneDNN MaxPool / AveragePool vs the reference kernels (tolerance: kDnnlTol in dnnl_test_util.h).
#include "kernels/dnnl_test_util.h"

namespace qcal::testing {
namespace {

struct PoolCase {
  Shape x;
  std::vector<int64_t> kernel, strides = {1, 1}, pads = {0, 0, 0, 0}, dilations = {1, 1};
  int64_t ceil_mode = 0, count_include_pad = 0;
  std::string auto_pad = "";
};

Node PoolNode(const std::string& op, const PoolCase& c) {
  Attributes a;
  a.Set("kernel_shape", c.kernel);
  a.Set("strides", c.strides);
  if (c.auto_pad.empty()) {
    a.Set("pads", c.pads);
  } else {
    a.Set("auto_pad", c.auto_pad);
  }
  a.Set("ceil_mode", c.ceil_mode);
  if (op == "AveragePool") a.Set("count_include_pad", c.count_include_pad);
  if (c.dilations != std::vector<int64_t>{1, 1}) a.Set("dilations", c.dilations);
  return MakeNode(op, 1, a);
}

void CheckPool(const std::string& op, const PoolCase& c) {
  Tensor x = RandomFloat(c.x, 5);
  ExpectDnnlAgreesWithRef(PoolNode(op, c), {&x}, {false});
}

const std::vector<PoolCase>& Cases() {
  static const std::vector<PoolCase> cases = {
      {.x = {3, 5, 7, 9}, .kernel = {3, 3}},
      {.x = {3, 5, 7, 9}, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 0, 1, 2}},
      {.x = {3, 5, 7, 9}, .kernel = {2, 3}, .strides = {2, 2}, .pads = {0, 1, 1, 0}, .ceil_mode = 1},
      {.x = {3, 5, 8, 9}, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}, .ceil_mode = 1},
      {.x = {2, 16, 9, 9}, .kernel = {3, 3}, .strides = {2, 2}, .auto_pad = "SAME_UPPER"},
      {.x = {2, 16, 9, 9}, .kernel = {2, 2}, .strides = {1, 1}, .auto_pad = "SAME_LOWER"},
      {.x = {3, 5, 11, 9}, .kernel = {2, 2}, .strides = {1, 2}, .pads = {1, 1, 0, 1}, .dilations = {2, 3}},
  };
  return cases;
}

TEST(DnnlPoolTest, MaxPool) {
  for (const PoolCase& c : Cases()) CheckPool("MaxPool", c);
}

TEST(DnnlPoolTest, AveragePoolExcludePad) {
  for (const PoolCase& c : Cases()) CheckPool("AveragePool", c);
}

TEST(DnnlPoolTest, AveragePoolIncludePad) {
  for (PoolCase c : Cases()) {
    c.count_include_pad = 1;
    CheckPool("AveragePool", c);
  }
}

TEST(DnnlPoolTest, BatchSizeChangesBetweenRuns) {
  const PoolCase c{
      .x = {3, 8, 7, 9}, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}, .ceil_mode = 1};
  const Node node = PoolNode("MaxPool", c);
  Tensor x0 = RandomFloat(c.x, 1);
  auto dk = MakeKernel(node, {&x0}, {false}, "dnnl");
  ASSERT_TRUE(dk.ok()) << dk.status().ToString();
  for (int64_t n : {3, 1, 4}) {
    Tensor x = RandomFloat({n, 8, 7, 9}, static_cast<uint32_t>(n));
    auto y = RunKernel(**dk, {&x});
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    auto rk = MakeKernel(node, {&x}, {false}, "ref");
    ASSERT_TRUE(rk.ok());
    auto r = RunKernel(**rk, {&x});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(Agree(*y, *r)) << "batch " << n;
  }
}

TEST(DnnlPoolTest, GlobalAveragePoolAndReduceMeanOverSpatialDims) {
  for (const Shape& shape : {Shape{1, 13, 7, 7}, Shape{2, 5, 3, 8}}) {
    Tensor x = RandomFloat(shape, 5);
    ExpectDnnlAgreesWithRef(MakeNode("GlobalAveragePool", 1), {&x}, {false});
    for (int64_t keepdims : {0, 1}) {
      Attributes a;
      a.Set("axes", std::vector<int64_t>{3, -2});
      a.Set("keepdims", keepdims);
      ExpectDnnlAgreesWithRef(MakeNode("ReduceMean", 1, a), {&x}, {false});
    }
  }
  Attributes a;
  a.Set("axes", std::vector<int64_t>{1, 2});  // not H x W: reference
  Tensor x = RandomFloat({1, 4, 5, 5}, 6);
  EXPECT_EQ(SelectedProvider(MakeNode("ReduceMean", 1, a), {&x}, {false}), "ref");
}

TEST(DnnlPoolTest, UnsupportedCasesFallBackToRef) {
  Attributes a;
  a.Set("kernel_shape", std::vector<int64_t>{2});
  Node node = MakeNode("MaxPool", 1, a);
  Tensor x1 = RandomFloat({2, 3, 9}, 1);  // 1-D pooling
  EXPECT_EQ(SelectedProvider(node, {&x1}, {false}), "ref");
  a.Set("kernel_shape", std::vector<int64_t>{2, 2});
  Node node2 = MakeNode("MaxPool", 1, a);
  Tensor xi = RandomInt<int8_t>({1, 2, 4, 4}, 1, -5, 5);  // int8 MaxPool
  EXPECT_EQ(SelectedProvider(node2, {&xi}, {false}), "ref");
  auto y = EvaluateNode(node2, {&xi});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->at(0).shape(), (Shape{1, 2, 3, 3}));
}

}  // namespace
}  // namespace qcal::testing
