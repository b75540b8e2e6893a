// oneDNN Conv vs the reference Conv (tolerance: kDnnlTol in dnnl_test_util.h).
#include "kernels/dnnl_test_util.h"

namespace qcal::testing {
namespace {

struct Case {
  Shape x, w;
  int64_t group = 1;
  std::vector<int64_t> strides = {1, 1}, dilations = {1, 1}, pads = {0, 0, 0, 0};
  std::string auto_pad = "";  // empty: explicit pads
  bool bias = true;
};

Node ConvNode(const Case& c) {
  Attributes a;
  a.Set("group", c.group);
  a.Set("strides", c.strides);
  a.Set("dilations", c.dilations);
  if (c.auto_pad.empty()) {
    a.Set("pads", c.pads);
  } else {
    a.Set("auto_pad", c.auto_pad);
  }
  return MakeNode("Conv", c.bias ? 3 : 2, a);
}

void CheckCase(const Case& c, bool const_weights = true, uint32_t seed = 1) {
  Tensor x = RandomFloat(c.x, seed), w = RandomFloat(c.w, seed + 1), b = RandomFloat({c.w[0]}, seed + 2);
  std::vector<const Tensor*> in = {&x, &w};
  if (c.bias) in.push_back(&b);
  ExpectDnnlAgreesWithRef(ConvNode(c), in, {false, const_weights, const_weights});
}

TEST(DnnlConvTest, Plain3x3WithBias) {
  CheckCase({.x = {3, 5, 7, 9}, .w = {4, 5, 3, 3}, .pads = {1, 1, 1, 1}});
}

TEST(DnnlConvTest, StrideDilationAsymmetricPads) {
  CheckCase(
      {.x = {3, 5, 7, 9}, .w = {6, 5, 3, 3}, .strides = {2, 2}, .dilations = {2, 2}, .pads = {0, 1, 2, 1}});
  CheckCase(
      {.x = {3, 5, 7, 9}, .w = {6, 5, 3, 2}, .strides = {1, 2}, .dilations = {2, 1}, .pads = {2, 0, 1, 3}});
}

TEST(DnnlConvTest, OneByOneStride2NoBias) {
  CheckCase({.x = {3, 5, 7, 9}, .w = {7, 5, 1, 1}, .strides = {2, 2}, .bias = false});
}

TEST(DnnlConvTest, DepthwiseWithChannelMultiplier) {
  CheckCase({.x = {3, 5, 7, 9}, .w = {10, 1, 3, 3}, .group = 5, .strides = {2, 2}, .pads = {1, 0, 1, 2}});
  CheckCase({.x = {2, 16, 9, 7}, .w = {16, 1, 3, 3}, .group = 16, .pads = {1, 1, 1, 1}});
}

TEST(DnnlConvTest, GroupedNonDepthwise) {
  CheckCase({.x = {3, 6, 7, 9}, .w = {4, 3, 3, 3}, .group = 2, .dilations = {2, 2}, .pads = {2, 2, 2, 2}});
}

TEST(DnnlConvTest, AutoPadSame) {
  CheckCase({.x = {3, 5, 7, 9}, .w = {4, 5, 3, 3}, .strides = {2, 2}, .auto_pad = "SAME_UPPER"});
  CheckCase({.x = {3, 5, 7, 9}, .w = {4, 5, 4, 2}, .strides = {2, 1}, .auto_pad = "SAME_LOWER"});
  CheckCase({.x = {3, 5, 7, 9}, .w = {4, 5, 3, 3}, .auto_pad = "VALID"});
}

// Channel counts where oneDNN picks blocked (nChw8c/16c) layouts internally,
// exercising the NCHW <-> blocked reorders at the kernel boundary.
TEST(DnnlConvTest, BlockedLayoutChannels) {
  CheckCase({.x = {2, 16, 14, 14}, .w = {32, 16, 3, 3}, .pads = {1, 1, 1, 1}});
  CheckCase({.x = {2, 3, 15, 15}, .w = {16, 3, 3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}});
  CheckCase({.x = {1, 32, 8, 8}, .w = {24, 32, 1, 1}});
}

TEST(DnnlConvTest, NonConstantWeightsAndBias) {
  CheckCase({.x = {3, 5, 7, 9}, .w = {4, 5, 3, 3}, .pads = {1, 1, 1, 1}}, /*const_weights=*/false);
  CheckCase({.x = {2, 16, 14, 14}, .w = {32, 16, 3, 3}, .pads = {1, 1, 1, 1}}, /*const_weights=*/false);
}

// One kernel instance, created for batch 3, run on batches 3, 1, 5, 3.
TEST(DnnlConvTest, BatchSizeChangesBetweenRuns) {
  const Case c{.x = {3, 16, 7, 9}, .w = {8, 16, 3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}};
  Tensor w = RandomFloat(c.w, 11), b = RandomFloat({c.w[0]}, 12);
  Tensor x0 = RandomFloat(c.x, 10);
  const Node node = ConvNode(c);
  auto dk = MakeKernel(node, {&x0, &w, &b}, {false, true, true}, "dnnl");
  ASSERT_TRUE(dk.ok()) << dk.status().ToString();
  for (int64_t n : {3, 1, 5, 3}) {
    Tensor x = RandomFloat({n, 16, 7, 9}, static_cast<uint32_t>(20 + n));
    auto y = RunKernel(**dk, {&x, &w, &b});
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    auto rk = MakeKernel(node, {&x, &w, &b}, {false, true, true}, "ref");
    ASSERT_TRUE(rk.ok());
    auto ref = RunKernel(**rk, {&x, &w, &b});
    ASSERT_TRUE(ref.ok());
    EXPECT_TRUE(Agree(*y, *ref)) << "batch " << n;
  }
}

TEST(DnnlConvTest, UnsupportedCasesFallBackToRef) {
  // 3-D conv (1-D and 3-D spatial ranks are not handled by the dnnl kernel).
  Tensor x3 = RandomFloat({2, 3, 5, 6, 7}, 1), w3 = RandomFloat({4, 3, 3, 3, 3}, 2);
  Node n3 = MakeNode("Conv", 2);
  EXPECT_EQ(SelectedProvider(n3, {&x3, &w3}, {false, true}), "ref");
  EXPECT_FALSE(MakeKernel(n3, {&x3, &w3}, {false, true}, "dnnl").ok());
  auto y3 = EvaluateNode(n3, {&x3, &w3});
  ASSERT_TRUE(y3.ok()) << y3.status().ToString();
  EXPECT_EQ(y3->at(0).shape(), (Shape{2, 4, 3, 4, 5}));
  // 1-D conv.
  Tensor x1 = RandomFloat({2, 3, 9}, 3), w1 = RandomFloat({4, 3, 3}, 4);
  EXPECT_EQ(SelectedProvider(n3, {&x1, &w1}, {false, true}), "ref");
}

}  // namespace
}  // namespace qcal::testing
