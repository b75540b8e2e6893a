// oneDNN MaxPool / AveragePool vs the reference kernels (tolerance: kDnnlTol in dnnl_test_util.h).
// The x86 pooling kernels (x86_pool_test.cc) rank above oneDNN's, so they are disabled here.
#include <cstring>

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

class DnnlPoolTest : public ::testing::Test {
 protected:
  void SetUp() override { KernelRegistry::Global().SetProviderEnabled("x86", false); }
  void TearDown() override { KernelRegistry::Global().SetProviderEnabled("x86", true); }
};

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

TEST_F(DnnlPoolTest, MaxPool) {
  for (const PoolCase& c : Cases()) CheckPool("MaxPool", c);
}

TEST_F(DnnlPoolTest, AveragePoolExcludePad) {
  for (const PoolCase& c : Cases()) CheckPool("AveragePool", c);
}

TEST_F(DnnlPoolTest, AveragePoolIncludePad) {
  for (PoolCase c : Cases()) {
    c.count_include_pad = 1;
    CheckPool("AveragePool", c);
  }
}

TEST_F(DnnlPoolTest, BatchSizeChangesBetweenRuns) {
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

TEST_F(DnnlPoolTest, GlobalAveragePoolAndReduceMeanOverSpatialDims) {
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

TEST_F(DnnlPoolTest, UnsupportedCasesFallBackToRef) {
  Attributes a;
  a.Set("kernel_shape", std::vector<int64_t>{2});
  Node node = MakeNode("MaxPool", 1, a);
  Tensor x1 = RandomFloat({2, 3, 9}, 1);  // 1-D pooling
  EXPECT_EQ(SelectedProvider(node, {&x1}, {false}), "ref");
  a.Set("kernel_shape", std::vector<int64_t>{2, 2});
  Node node2 = MakeNode("MaxPool", 1, a);
  Tensor xi = RandomInt<int32_t>({1, 2, 4, 4}, 1, -5, 5);  // int32 MaxPool
  EXPECT_EQ(SelectedProvider(node2, {&xi}, {false}), "ref");
  Tensor xa = RandomInt<int8_t>({1, 2, 4, 4}, 1, -5, 5);  // int8 AveragePool
  EXPECT_EQ(SelectedProvider(PoolNode("AveragePool", {.x = {1, 2, 4, 4}, .kernel = {2, 2}}), {&xa}, {false}),
            "ref");
}

// ---- int8 / uint8 MaxPool: bit-identical to the reference, NCHW and NHWC ----

// x [N, C, H, W] <-> [N, H, W, C] (1-byte elements).
Tensor ToNhwc(const Tensor& x) {
  const int64_t n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
  Tensor y(x.dtype(), NhwcShape(x.shape()));
  const auto* src = static_cast<const uint8_t*>(x.raw());
  auto* dst = static_cast<uint8_t*>(y.raw());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p) dst[(i * hw + p) * c + ch] = src[(i * c + ch) * hw + p];
  return y;
}

Tensor FromNhwc(const Tensor& y, const Shape& nchw) {
  const int64_t n = nchw[0], c = nchw[1], hw = nchw[2] * nchw[3];
  Tensor x(y.dtype(), nchw);
  const auto* src = static_cast<const uint8_t*>(y.raw());
  auto* dst = static_cast<uint8_t*>(x.raw());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p) dst[(i * c + ch) * hw + p] = src[(i * hw + p) * c + ch];
  return x;
}

::testing::AssertionResult SameBytes(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) {
    return ::testing::AssertionFailure() << ShapeToString(a.shape()) << " vs " << ShapeToString(b.shape());
  }
  if (std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0) return ::testing::AssertionSuccess();
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (a.GetAsDouble(i) != b.GetAsDouble(i)) {
      return ::testing::AssertionFailure()
             << "element " << i << ": " << a.GetAsDouble(i) << " vs " << b.GetAsDouble(i);
    }
  }
  return ::testing::AssertionFailure() << "bytes differ";
}

// The dnnl kernel on x with X and Y in `layout` (kPlain or kNhwc) vs the reference, bytes compared.
void CheckInt8MaxPool(const PoolCase& c, const Tensor& x, Layout layout) {
  SCOPED_TRACE(ShapeToString(c.x) + " " + std::string(DataTypeName(x.dtype())) +
               (layout == Layout::kNhwc ? " nhwc" : " nchw"));
  const Node node = PoolNode("MaxPool", c);
  ASSERT_EQ(SelectedProvider(node, {&x}, {false}), "dnnl");
  auto dk = MakeKernel(node, {&x}, {false}, "dnnl");
  ASSERT_TRUE(dk.ok()) << dk.status().ToString();
  if (layout != Layout::kPlain) {
    // oneDNN's int8 pooling JIT has no dilations: such a pool stays NCHW (the executor plans kPlain).
    const bool jit = c.dilations == std::vector<int64_t>{1, 1};
    ASSERT_EQ((*dk)->AcceptsBlocked(0) && (*dk)->ProducesBlocked(0), jit);
    if (!jit) return;
  }
  ASSERT_TRUE((*dk)->SetLayouts({layout}, {layout}).ok());
  auto rk = MakeKernel(node, {&x}, {false}, "ref");
  ASSERT_TRUE(rk.ok());
  auto want = RunKernel(**rk, {&x});
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  const Tensor x_in = layout == Layout::kNhwc ? ToNhwc(x) : x;
  auto got = RunKernel(**dk, {&x_in});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(SameBytes(layout == Layout::kNhwc ? FromNhwc(*got, want->shape()) : *got, *want));
}

TEST_F(DnnlPoolTest, Int8MaxPoolIsBitExactInNchwAndNhwc) {
  for (const PoolCase& c : Cases()) {
    for (Layout layout : {Layout::kPlain, Layout::kNhwc}) {
      CheckInt8MaxPool(c, RandomInt<int8_t>(c.x, 11, -128, 127), layout);
      CheckInt8MaxPool(c, RandomInt<uint8_t>(c.x, 12, 0, 255), layout);
    }
  }
}

// Every value at the type's minimum: the padding (-inf in the reference) must never win.
TEST_F(DnnlPoolTest, Int8MaxPoolPaddingNeverWins) {
  const PoolCase c{
      .x = {1, 19, 6, 7}, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}, .ceil_mode = 1};
  for (Layout layout : {Layout::kPlain, Layout::kNhwc}) {
    CheckInt8MaxPool(c, RandomInt<int8_t>(c.x, 1, -128, -128), layout);
    CheckInt8MaxPool(c, RandomInt<uint8_t>(c.x, 2, 0, 0), layout);
  }
}

}  // namespace
}  // namespace qcal::testing
