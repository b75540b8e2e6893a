// FusedConv: Y = activation(Conv(X, W, B) + Z).
// The reference kernel is checked against the reference Conv plus an
// independently written sum and activation; the oneDNN kernel (post-ops)
// against the reference within kDnnlTol (dnnl_test_util.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/dnnl_test_util.h"
#include "kernels/fused_activation.h"

namespace qcal::testing {
namespace {

struct Case {
  Shape x, w;
  int64_t group = 1;
  std::vector<int64_t> strides = {1, 1}, pads = {0, 0, 0, 0};
  bool bias = true, sum = true;
  std::string activation;  // "" = none
  std::vector<float> params;
};

Attributes ConvAttrs(const Case& c) {
  Attributes a;
  a.Set("group", c.group);
  a.Set("strides", c.strides);
  a.Set("pads", c.pads);
  return a;
}

Node FusedNode(const Case& c) {
  Attributes a = ConvAttrs(c);
  if (!c.activation.empty()) a.Set("activation", c.activation);
  if (!c.params.empty()) a.Set("activation_params", c.params);
  Node n = MakeNode("FusedConv", 4, a);
  n.domain = "com.microsoft";
  if (!c.bias) n.inputs[2] = "";
  if (!c.sum) n.inputs.resize(3);
  return n;
}

// The activation written out here, independent of kernels/fused_activation.cc.
float Activate(const Case& c, float v) {
  if (c.activation == "Relu") return v > 0 ? v : 0;
  if (c.activation == "LeakyRelu") return v > 0 ? v : c.params[0] * v;
  if (c.activation == "Clip") return v < c.params[0] ? c.params[0] : (v > c.params[1] ? c.params[1] : v);
  if (c.activation == "Sigmoid") return 1 / (1 + std::exp(-v));
  if (c.activation == "Tanh") return std::tanh(v);
  return v;
}

struct Inputs {
  Tensor x, w, b, z;
  std::vector<const Tensor*> ptrs;
};

Inputs MakeInputs(const Case& c, uint32_t seed) {
  Inputs in;
  in.x = RandomFloat(c.x, seed);
  in.w = RandomFloat(c.w, seed + 1);
  in.b = RandomFloat({c.w[0]}, seed + 2);
  auto y =
      InferTypes(MakeNode("Conv", 2, ConvAttrs(c)), {{DataType::kFloat32, c.x}, {DataType::kFloat32, c.w}});
  EXPECT_TRUE(y.ok()) << y.status().ToString();
  in.z = RandomFloat((*y)[0].shape, seed + 3);
  in.ptrs = {&in.x, &in.w, c.bias ? &in.b : nullptr};
  if (c.sum) in.ptrs.push_back(&in.z);
  return in;
}

// Runs the node on the reference kernel ("ref"), whatever provider would be picked.
Tensor RunRef(const Node& node, const std::vector<const Tensor*>& in) {
  auto k = MakeKernel(node, in, std::vector<bool>(in.size(), false), "ref");
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  if (!k.ok()) return Tensor();
  auto y = RunKernel(**k, in);
  EXPECT_TRUE(y.ok()) << y.status().ToString();
  return y.ok() ? *y : Tensor();
}

void CheckRefSemantics(const Case& c) {
  Inputs in = MakeInputs(c, 11);
  Tensor want = RunRef(MakeNode("Conv", 3, ConvAttrs(c)), {&in.x, &in.w, c.bias ? &in.b : nullptr});
  for (int64_t i = 0; i < want.numel(); ++i) {
    float v = want.data<float>()[i] + (c.sum ? in.z.data<float>()[i] : 0.0f);
    want.data<float>()[i] = Activate(c, v);
  }
  EXPECT_TRUE(AllClose(RunRef(FusedNode(c), in.ptrs), want, 1e-6, 1e-6));
}

void CheckDnnl(const Case& c) {
  Inputs in = MakeInputs(c, 21);
  ExpectDnnlAgreesWithRef(FusedNode(c), in.ptrs, {false, true, true, false});
}

const Case kCases[] = {
    {.x = {1, 5, 7, 9}, .w = {6, 5, 3, 3}, .pads = {1, 1, 1, 1}, .activation = "Relu"},
    {.x = {2, 5, 7, 9}, .w = {6, 5, 3, 3}, .strides = {2, 2}, .pads = {0, 1, 2, 1}, .activation = "Relu"},
    {.x = {1, 3, 11, 6}, .w = {7, 3, 1, 1}, .bias = false, .activation = "LeakyRelu", .params = {0.13f}},
    {.x = {1, 5, 8, 7},
     .w = {10, 1, 3, 3},
     .group = 5,
     .pads = {1, 1, 1, 1},
     .activation = "Clip",
     .params = {-0.2f, 0.6f}},
    {.x = {1, 16, 9, 7},
     .w = {16, 1, 3, 3},
     .group = 16,
     .strides = {2, 2},
     .pads = {1, 1, 1, 1},
     .sum = false,
     .activation = "Relu"},
    {.x = {1, 6, 5, 7}, .w = {4, 3, 3, 3}, .group = 2, .pads = {2, 1, 0, 1}, .activation = "Sigmoid"},
    {.x = {1, 5, 6, 6}, .w = {3, 5, 2, 2}, .activation = "Tanh"},
    {.x = {1, 5, 6, 6}, .w = {3, 5, 3, 3}, .pads = {1, 1, 1, 1}},  // sum only
    {.x = {1, 5, 6, 6},
     .w = {3, 5, 3, 3},
     .sum = false,
     .activation = "Clip",
     .params = {0.0f, std::numeric_limits<float>::max()}},
};

TEST(FusedConvTest, ReferenceIsConvPlusSumPlusActivation) {
  for (const Case& c : kCases) {
    SCOPED_TRACE("activation " + c.activation + " x " + ShapeToString(c.x));
    CheckRefSemantics(c);
  }
}

TEST(FusedConvTest, DnnlPostOpsAgreeWithReference) {
  for (const Case& c : kCases) {
    SCOPED_TRACE("activation " + c.activation + " x " + ShapeToString(c.x));
    CheckDnnl(c);
  }
}

// NCHW <-> nChw8c (padding lanes 0), for the layout cases below.
// x (NCHW) to / from the machine's blocked float layout (FloatBlockedLayout: 8 or 16 channels per block).
Tensor Blocked(const Tensor& x, bool to_blocked, int64_t channels) {
  const int64_t k = LayoutBlock(FloatBlockedLayout());
  const int64_t n = x.dim(0), h = x.dim(2), w = x.dim(3), cb = (channels + k - 1) / k;
  Tensor y(DataType::kFloat32, to_blocked ? Shape{n, cb, h, w, k} : Shape{n, channels, h, w});
  std::fill(y.data<float>(), y.data<float>() + y.numel(), 0.0f);
  for (int64_t i = 0; i < n * channels * h * w; ++i) {
    const int64_t p = i % (h * w), ch = i / (h * w) % channels, b = i / (h * w * channels);
    const int64_t blocked = ((b * cb + ch / k) * h * w + p) * k + ch % k;
    (to_blocked ? y.data<float>()[blocked] : y.data<float>()[i]) =
        to_blocked ? x.data<float>()[i] : x.data<float>()[blocked];
  }
  return y;
}

// With qcal_exact_sum the oneDNN FusedConv equals, bit for bit, the oneDNN Conv
// followed by the sum and the activation (Relu or none) as separate float
// operations, in every mix of NCHW / the machine's blocked layout for Z and Y
// (the plain-layout primitive picks that same blocked kernel).
TEST(FusedConvTest, DnnlExactSumIsBitIdenticalToConvThenAddThenRelu) {
  const Case cases[] = {
      {.x = {1, 5, 7, 9}, .w = {6, 5, 3, 3}, .pads = {1, 1, 1, 1}, .activation = "Relu"},
      {.x = {2, 8, 6, 5}, .w = {16, 8, 1, 1}, .bias = false},
      {.x = {1, 12, 9, 7},
       .w = {12, 1, 3, 3},
       .group = 12,
       .strides = {2, 2},
       .pads = {1, 1, 1, 1},
       .activation = "Relu"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("x " + ShapeToString(c.x) + " w " + ShapeToString(c.w) + " " + c.activation);
    Inputs in = MakeInputs(c, 31);
    Node conv = MakeNode("Conv", 3, ConvAttrs(c));
    if (!c.bias) conv.inputs[2] = "";
    auto ck = MakeKernel(conv, {in.ptrs[0], in.ptrs[1], in.ptrs[2]}, {false, true, true}, "dnnl");
    ASSERT_TRUE(ck.ok()) << ck.status().ToString();
    auto y0 = RunKernel(**ck, {in.ptrs[0], in.ptrs[1], in.ptrs[2]});
    ASSERT_TRUE(y0.ok()) << y0.status().ToString();
    float* z = in.z.data<float>();
    for (int64_t i = 0; i < in.z.numel(); ++i) {  // exact cancellation, signed zeros, infinities
      if (i % 5 == 0) z[i] = -y0->data<float>()[i];
      if (i % 11 == 1) z[i] = -0.0f;
      if (i % 13 == 2) z[i] = i % 2 ? INFINITY : -INFINITY;
    }
    Node fused = FusedNode(c);
    fused.attrs.Set(kExactSumAttr, int64_t{1});
    const int64_t m = c.w[0];
    const Layout blocked = FloatBlockedLayout();
    for (Layout yl : {Layout::kPlain, blocked}) {
      // The Conv with Y in the same layout: oneDNN may pick another kernel (another
      // summation order) per destination layout, and the claim is per primitive.
      auto yk = MakeKernel(conv, {in.ptrs[0], in.ptrs[1], in.ptrs[2]}, {false, true, true}, "dnnl");
      ASSERT_TRUE(yk.ok()) << yk.status().ToString();
      if (yl != Layout::kPlain && !(*yk)->ProducesBlocked(0)) continue;  // the planner would not ask
      ASSERT_TRUE((*yk)->SetLayouts({Layout::kPlain, Layout::kPlain, Layout::kPlain}, {yl}).ok());
      auto yc = RunKernel(**yk, {in.ptrs[0], in.ptrs[1], in.ptrs[2]});
      ASSERT_TRUE(yc.ok()) << yc.status().ToString();
      Tensor want = yl == Layout::kPlain ? *yc : Blocked(*yc, false, m);
      for (int64_t i = 0; i < want.numel(); ++i)
        want.data<float>()[i] = Activate(c, want.data<float>()[i] + z[i]);
      for (Layout zl : {Layout::kPlain, blocked}) {
        SCOPED_TRACE(std::string(zl == Layout::kPlain ? "Z nchw" : "Z blocked") +
                     (yl == Layout::kPlain ? ", Y nchw" : ", Y blocked"));
        auto k = MakeKernel(fused, in.ptrs, {false, true, true, false}, "dnnl");
        ASSERT_TRUE(k.ok()) << k.status().ToString();
        ASSERT_TRUE((*k)->SetLayouts({Layout::kPlain, Layout::kPlain, Layout::kPlain, zl}, {yl}).ok());
        const Tensor zb = zl == Layout::kPlain ? in.z : Blocked(in.z, true, m);
        std::vector<const Tensor*> ptrs = in.ptrs;
        ptrs[3] = &zb;
        auto y = RunKernel(**k, ptrs);
        ASSERT_TRUE(y.ok()) << y.status().ToString();
        const Tensor got = yl == Layout::kPlain ? *y : Blocked(*y, false, m);
        ASSERT_EQ(got.shape(), want.shape());
        EXPECT_EQ(std::memcmp(got.raw(), want.raw(), static_cast<size_t>(want.nbytes())), 0);
        if (zl != yl) continue;
        // Y handed Z's buffer (the executor's in-place output): the kernel must
        // still add the Z it was given, not the convolution it wrote over it.
        const Tensor shared = zb.Clone();
        ptrs[3] = &shared;
        std::vector<Tensor> outs = {shared};
        ASSERT_TRUE((*k)->Run(ptrs, outs).ok());
        ASSERT_EQ(outs[0].raw(), shared.raw());
        const Tensor in_place = yl == Layout::kPlain ? outs[0] : Blocked(outs[0], false, m);
        EXPECT_EQ(std::memcmp(in_place.raw(), want.raw(), static_cast<size_t>(want.nbytes())), 0);
      }
    }
  }
}

TEST(FusedConvTest, RejectsUnknownActivationAndWrongParamsAndZShape) {
  Case c{.x = {1, 2, 4, 4}, .w = {3, 2, 3, 3}, .activation = "Swish"};
  Inputs in = MakeInputs(c, 1);
  auto r = RunOne(FusedNode(c), in.ptrs);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Swish"), std::string::npos) << r.status().ToString();
  c.activation = "Clip";
  c.params = {0.0f};
  EXPECT_FALSE(RunOne(FusedNode(c), in.ptrs).ok());
  c.activation = "Relu";
  c.params = {};
  Tensor bad_z = RandomFloat({1, 3, 3, 2}, 5);
  in.ptrs[3] = &bad_z;
  EXPECT_FALSE(RunOne(FusedNode(c), in.ptrs).ok());
}

}  // namespace
}  // namespace qcal::testing
