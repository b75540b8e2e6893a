// The x86 depthwise int8 convolution (kernels/x86/int8_depthwise.cc) vs the
// reference QcalQConv / QLinearConv kernels: outputs bit-identical on odd
// shapes, in every layout mix the planner may choose (X, Y, Z, Yq NCHW / NHWC),
// with the residual input Z, the quantized copy Yq and an absent Y, at 1 and 2
// threads; and in an executor run of a small quantized graph.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>

#include "kernels/dnnl_test_util.h"
#include "kernels/threads.h"
#include "runtime/executor.h"

namespace qcal::testing {
namespace {

enum class Out { kInt8, kUint8, kFloat };

struct DwCase {
  Shape x;  // [N, C, H, W]
  int64_t k = 3;
  std::vector<int64_t> strides = {1, 1}, pads = {1, 1, 1, 1}, dilations = {1, 1};
  DataType x_type = DataType::kUint8;
  int x_zp = 0;
  bool per_channel = true;
  bool bias = true;
  Out out = Out::kUint8;
  std::optional<float> act_min = std::nullopt, act_max = std::nullopt;
};

std::string Describe(const DwCase& c) {
  return "x " + ShapeToString(c.x) + " k " + std::to_string(c.k) + " stride " + std::to_string(c.strides[0]) +
         " " + std::string(DataTypeName(c.x_type)) + " zp " + std::to_string(c.x_zp);
}

// The node's inputs (all constant except x and Z), owned here.
struct DwInputs {
  Tensor x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, bias, z, q_scale, q_zp;
  std::vector<const Tensor*> List(const DwCase& c, size_t count) const {
    const bool q = c.out != Out::kFloat;
    std::vector<const Tensor*> in = {&x,
                                     &x_scale,
                                     &x_zp,
                                     &w,
                                     &w_scale,
                                     &w_zp,
                                     q ? &y_scale : nullptr,
                                     q ? &y_zp : nullptr,
                                     c.bias ? &bias : nullptr};
    if (count > 9) in.push_back(z.numel() ? &z : nullptr);
    if (count > 10) in.insert(in.end(), {&q_scale, &q_zp});
    in.resize(count);
    return in;
  }
};

DwInputs MakeInputs(const DwCase& c, uint32_t seed) {
  DwInputs in;
  const int64_t ch = c.x[1];
  const bool u8 = c.x_type == DataType::kUint8;
  in.x = u8 ? RandomInt<uint8_t>(c.x, seed, 0, 255) : RandomInt<int8_t>(c.x, seed, -128, 127);
  in.x_zp = u8 ? Tensor::Scalar<uint8_t>(static_cast<uint8_t>(c.x_zp))
               : Tensor::Scalar<int8_t>(static_cast<int8_t>(c.x_zp));
  in.x_scale = Tensor::Scalar<float>(0.02f);
  in.w = RandomInt<int8_t>({ch, 1, c.k, c.k}, seed + 1, -128, 127);
  std::vector<float> ws;
  for (int64_t m = 0; m < (c.per_channel ? ch : 1); ++m) ws.push_back(0.001f * (1 + m % 5) + 0.0003f * m);
  in.w_scale = c.per_channel ? Tensor::FromVector<float>(ws, {ch}) : Tensor::Scalar<float>(ws[0]);
  in.w_zp = Tensor(DataType::kInt8, in.w_scale.shape());  // zeros
  in.y_scale = Tensor::Scalar<float>(0.02f * 0.002f * static_cast<float>(c.k) * 70.0f * 70.0f / 40.0f);
  in.y_zp = c.out == Out::kInt8 ? Tensor::Scalar<int8_t>(-5) : Tensor::Scalar<uint8_t>(121);
  in.bias = RandomInt<int32_t>({ch}, seed + 2, -20000, 20000);
  in.q_scale = Tensor::Scalar<float>(0.03f);
  in.q_zp = Tensor::Scalar<uint8_t>(100);
  return in;
}

Node DwNode(const std::string& op, const DwCase& c, size_t inputs, size_t outputs = 1) {
  Attributes a;
  if (op == "QcalQConv" && c.act_min) a.Set("activation_min", *c.act_min);
  if (op == "QcalQConv" && c.act_max) a.Set("activation_max", *c.act_max);
  a.Set("group", c.x[1]);
  a.Set("strides", c.strides);
  a.Set("pads", c.pads);
  a.Set("dilations", c.dilations);
  return MakeNode(op, inputs, a, outputs);
}

std::vector<bool> ConstFlags(size_t n) {
  std::vector<bool> f(n, true);
  f[0] = false;
  if (n > 9) f[9] = false;
  return f;
}

// A 4-D tensor of any dtype from NCHW to NHWC (to_nhwc) or back: element order only.
Tensor Transposed(const Tensor& t, bool to_nhwc) {
  const Shape& s = t.shape();
  const int64_t n = s[0], c = to_nhwc ? s[1] : s[3], h = to_nhwc ? s[2] : s[1], w = to_nhwc ? s[3] : s[2];
  Tensor out(t.dtype(), to_nhwc ? Shape{n, h, w, c} : Shape{n, c, h, w});
  const size_t e = DataTypeSize(t.dtype());
  const auto* src = static_cast<const uint8_t*>(t.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  for (int64_t i = 0; i < n * c * h * w; ++i) {
    const int64_t x = i % w, y = i / w % h, ch = i / (w * h) % c, b = i / (w * h * c);
    const int64_t nhwc = ((b * h + y) * w + x) * c + ch;
    std::memcpy(dst + (to_nhwc ? nhwc : i) * e, src + (to_nhwc ? i : nhwc) * e, e);
  }
  return out;
}

::testing::AssertionResult BitExact(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) {
    return ::testing::AssertionFailure() << DataTypeName(a.dtype()) << ShapeToString(a.shape()) << " vs "
                                         << DataTypeName(b.dtype()) << ShapeToString(b.shape());
  }
  if (std::memcmp(a.raw(), b.raw(), static_cast<size_t>(a.numel()) * DataTypeSize(a.dtype())) == 0) {
    return ::testing::AssertionSuccess();
  }
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (a.GetAsDouble(i) != b.GetAsDouble(i)) {
      return ::testing::AssertionFailure()
             << "element " << i << ": " << a.GetAsDouble(i) << " vs " << b.GetAsDouble(i);
    }
  }
  return ::testing::AssertionFailure() << "bit patterns differ (signed zeros, NaN payloads)";
}

// The reference kernel's outputs for the node.
std::vector<Tensor> RunRef(const Node& node, const std::vector<const Tensor*>& in) {
  auto k = MakeKernel(node, in, ConstFlags(in.size()), "ref");
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  std::vector<Tensor> out(node.outputs.size());
  if (!k.ok()) return out;
  const Status s = (*k)->Run(in, out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

struct LayoutMix {
  Layout x = Layout::kPlain, y = Layout::kPlain, z = Layout::kPlain, yq = Layout::kPlain;
};

std::string Describe(const LayoutMix& l) {
  const auto s = [](Layout v) { return v == Layout::kNhwc ? "nhwc" : "nchw"; };
  return std::string("X ") + s(l.x) + ", Y " + s(l.y) + ", Z " + s(l.z) + ", Yq " + s(l.yq);
}

// The x86 kernel (which must be the one selected) with layouts l gives the reference outputs `want`
// (outputs whose name is empty are not compared); twice, at 1 and 2 threads.
void ExpectMatches(const Node& node, const std::vector<const Tensor*>& in, const std::vector<Tensor>& want,
                   const LayoutMix& l) {
  SCOPED_TRACE(Describe(l));
  const std::vector<bool> flags = ConstFlags(in.size());
  EXPECT_EQ(SelectedProvider(node, in, flags), "x86");
  auto k = MakeKernel(node, in, flags, "x86");
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  std::vector<Layout> ins(in.size(), Layout::kPlain), outs(node.outputs.size(), Layout::kPlain);
  ins[0] = l.x;
  if (in.size() > 9) ins[9] = l.z;
  outs[0] = l.y;
  if (outs.size() > 1) outs[1] = l.yq;
  ASSERT_TRUE((*k)->SetLayouts(ins, outs).ok());
  std::vector<const Tensor*> run = in;
  const Tensor x = l.x == Layout::kNhwc ? Transposed(*in[0], true) : Tensor();
  const Tensor z = in.size() > 9 && in[9] && l.z == Layout::kNhwc ? Transposed(*in[9], true) : Tensor();
  if (l.x == Layout::kNhwc) run[0] = &x;
  if (z.numel()) run[9] = &z;
  for (int threads : {1, 2}) {
    const ScopedNumThreads scoped(threads);
    for (int rep = 0; rep < 2; ++rep) {
      std::vector<Tensor> out(node.outputs.size());
      const Status s = (*k)->Run(run, out);
      ASSERT_TRUE(s.ok()) << s.ToString();
      for (size_t o = 0; o < out.size(); ++o) {
        if (node.outputs[o].empty()) continue;
        const bool nhwc = (o == 0 ? l.y : l.yq) == Layout::kNhwc;
        EXPECT_TRUE(BitExact(nhwc ? Transposed(out[o], false) : out[o], want[o]))
            << "output " << o << ", " << threads << " threads";
      }
    }
  }
}

// QcalQConv (and QLinearConv when it applies) in every X / Y layout.
void CheckDepthwise(const DwCase& c, uint32_t seed = 7) {
  SCOPED_TRACE(Describe(c));
  const DwInputs in = MakeInputs(c, seed);
  std::vector<Node> nodes = {DwNode("QcalQConv", c, 9)};
  if (c.out != Out::kFloat && !c.act_min && !c.act_max) nodes.push_back(DwNode("QLinearConv", c, 9));
  for (const Node& node : nodes) {
    SCOPED_TRACE(node.op_type);
    const std::vector<const Tensor*> list = in.List(c, 9);
    const std::vector<Tensor> want = RunRef(node, list);
    for (Layout xl : {Layout::kPlain, Layout::kNhwc}) {
      for (Layout yl : {Layout::kPlain, Layout::kNhwc}) ExpectMatches(node, list, want, {xl, yl});
    }
  }
}

TEST(X86Int8DepthwiseTest, OddChannelCounts3x3) {
  for (int64_t ch : {1, 7, 24, 33, 100}) {
    CheckDepthwise({.x = {1, ch, 7, 6}, .x_zp = 131});
    CheckDepthwise({.x = {2, ch, 5, 9}, .x_type = DataType::kInt8, .x_zp = -7, .out = Out::kInt8});
  }
}

TEST(X86Int8DepthwiseTest, Kernel5x5StridesAndAsymmetricPads) {
  CheckDepthwise({.x = {2, 33, 11, 9}, .k = 5, .pads = {2, 2, 2, 2}, .x_zp = 17});
  CheckDepthwise({.x = {1, 24, 12, 13}, .k = 5, .strides = {2, 2}, .pads = {1, 2, 3, 0}, .x_zp = 250});
  CheckDepthwise({.x = {2, 7, 9, 8},
                  .strides = {2, 2},
                  .pads = {0, 1, 1, 0},
                  .x_type = DataType::kInt8,
                  .x_zp = 100,
                  .per_channel = false});
  CheckDepthwise({.x = {1, 100, 8, 8}, .strides = {2, 1}, .pads = {0, 0, 0, 0}, .bias = false});
}

TEST(X86Int8DepthwiseTest, OtherKernelSizesAndDilation) {
  CheckDepthwise({.x = {1, 19, 6, 7}, .k = 1, .pads = {0, 0, 0, 0}, .x_zp = 3});
  CheckDepthwise({.x = {2, 17, 9, 9}, .k = 7, .pads = {3, 3, 3, 3}, .x_type = DataType::kInt8, .x_zp = -128});
  CheckDepthwise({.x = {1, 18, 9, 10}, .pads = {2, 2, 2, 2}, .dilations = {2, 2}, .x_zp = 9});
}

// Channels a multiple of 16, X NHWC and stride 2: windows read from X itself, the border ones
// from padded strips.
TEST(X86Int8DepthwiseTest, ChannelsMultipleOf16StrideTwo) {
  CheckDepthwise({.x = {2, 16, 9, 11}, .strides = {2, 2}, .x_zp = 131});
  CheckDepthwise({.x = {1, 32, 12, 13},
                  .strides = {2, 2},
                  .pads = {0, 1, 1, 0},
                  .x_type = DataType::kInt8,
                  .x_zp = -9,
                  .out = Out::kInt8});
  CheckDepthwise({.x = {1, 48, 11, 10}, .k = 5, .strides = {2, 2}, .pads = {2, 1, 2, 3}, .x_zp = 77});
  CheckDepthwise({.x = {2, 16, 3, 2},
                  .k = 5,
                  .strides = {2, 2},
                  .pads = {2, 2, 2, 2},
                  .x_zp = 5});  // no window inside X
  CheckDepthwise(
      {.x = {1, 32, 9, 9}, .strides = {2, 2}, .pads = {2, 2, 2, 2}, .dilations = {2, 2}, .x_zp = 200});
  CheckDepthwise({.x = {1, 16, 6, 7}, .strides = {2, 2}, .pads = {0, 0, 0, 0}, .out = Out::kFloat});
  CheckDepthwise({.x = {2, 64, 20, 24}, .strides = {2, 2}, .x_zp = 3});  // two threads
  CheckDepthwise({.x = {1, 16, 9, 8}, .x_zp = 1});                       // stride 1: the padded copy
}

TEST(X86Int8DepthwiseTest, ActivationBoundsAndFloatOutput) {
  CheckDepthwise({.x = {1, 33, 6, 5}, .x_zp = 40, .act_min = 0.0f, .act_max = 0.3f});
  CheckDepthwise(
      {.x = {2, 24, 6, 5}, .x_type = DataType::kInt8, .x_zp = 5, .out = Out::kFloat, .act_min = 0.0f});
  CheckDepthwise({.x = {1, 7, 5, 5}, .x_zp = 0, .per_channel = false, .out = Out::kFloat});
}

TEST(X86Int8DepthwiseTest, LargeEnoughForTwoThreads) {
  CheckDepthwise({.x = {2, 33, 24, 20}, .x_zp = 128});
  CheckDepthwise({.x = {1, 100, 30, 30},
                  .k = 5,
                  .strides = {2, 2},
                  .pads = {2, 2, 2, 2},
                  .x_type = DataType::kInt8,
                  .x_zp = -1,
                  .out = Out::kInt8});
}

// Worst-case products: all x at the top of the range, weights -128 / 127, 5x5 taps.
TEST(X86Int8DepthwiseTest, WorstCaseOperandsStayExact) {
  for (DataType t : {DataType::kUint8, DataType::kInt8}) {
    for (int8_t wv : {int8_t{-128}, int8_t{127}}) {
      DwCase c{.x = {1, 20, 6, 6}, .k = 5, .pads = {2, 2, 2, 2}, .x_type = t, .out = Out::kInt8};
      DwInputs in = MakeInputs(c, 3);
      for (int64_t i = 0; i < in.x.numel(); ++i) {
        if (t == DataType::kUint8) {
          in.x.data<uint8_t>()[i] = 255;
        } else {
          in.x.data<int8_t>()[i] = -128;
        }
      }
      for (int64_t i = 0; i < in.w.numel(); ++i) in.w.data<int8_t>()[i] = i % 25 == 3 ? -wv : wv;
      in.y_scale = Tensor::Scalar<float>(0.02f * 0.001f * 255.0f * 128.0f * 25.0f / 100.0f);
      const Node node = DwNode("QcalQConv", c, 9);
      const std::vector<const Tensor*> list = in.List(c, 9);
      ExpectMatches(node, list, RunRef(node, list), {Layout::kNhwc, Layout::kNhwc});
    }
  }
}

// QcalQConv's float output with the residual Z (and Relu) and / or the quantized
// copy Yq, in every Z / Y / Yq layout, and without Y.
void ResidualQuantizedCopyAndAbsentY(int64_t ch) {
  SCOPED_TRACE(std::to_string(ch) + " channels");
  const DwCase c{.x = {2, ch, 7, 6}, .x_zp = 77, .out = Out::kFloat};
  DwInputs in = MakeInputs(c, 11);
  in.z = RandomFloat({2, ch, 7, 6}, 12, -1.0f, 1.0f);
  in.z.data<float>()[5] = -0.0f;
  const std::vector<Layout> kBoth = {Layout::kPlain, Layout::kNhwc};
  for (bool with_z : {false, true}) {
    for (bool with_q : {false, true}) {
      SCOPED_TRACE(std::string(with_z ? "Z" : "") + (with_q ? " Yq" : ""));
      const size_t count = with_q ? 12 : with_z ? 10 : 9;
      Node node = DwNode("QcalQConv", c, count, with_q ? 2 : 1);
      if (with_z) node.attrs.Set("residual_activation", std::string("Relu"));
      DwInputs local = in;
      if (!with_z) local.z = Tensor();
      const std::vector<const Tensor*> list = local.List(c, count);
      const std::vector<Tensor> want = RunRef(node, list);
      for (Layout zl : with_z ? kBoth : std::vector<Layout>{Layout::kPlain}) {
        for (Layout yl : kBoth) {
          for (Layout ql : with_q ? kBoth : std::vector<Layout>{Layout::kPlain}) {
            ExpectMatches(node, list, want, {Layout::kNhwc, yl, zl, ql});
          }
        }
        if (!with_q) continue;
        Node no_y = node;
        no_y.outputs[0].clear();
        for (Layout ql : kBoth) ExpectMatches(no_y, list, want, {Layout::kPlain, Layout::kPlain, zl, ql});
      }
    }
  }
}

TEST(X86Int8DepthwiseTest, ResidualQuantizedCopyAndAbsentY) {
  for (int64_t ch : {33, 32}) ResidualQuantizedCopyAndAbsentY(ch);
}

// Declined: grouped (not depthwise) convs, channel multiplier 2, the switch off.
TEST(X86Int8DepthwiseTest, DeclinesOtherConvs) {
  DwCase c{.x = {1, 8, 5, 5}};
  DwInputs in = MakeInputs(c, 5);
  Node grouped = DwNode("QcalQConv", c, 9);
  grouped.attrs.Set("group", int64_t{4});
  in.w = RandomInt<int8_t>({8, 2, 3, 3}, 9, -10, 10);
  EXPECT_NE(SelectedProvider(grouped, in.List(c, 9), ConstFlags(9)), "x86");
  Node multiplier = DwNode("QcalQConv", c, 9);
  in.w = RandomInt<int8_t>({16, 1, 3, 3}, 9, -10, 10);
  in.w_scale = Tensor::Scalar<float>(0.01f);
  in.w_zp = Tensor::Scalar<int8_t>(0);
  in.bias = RandomInt<int32_t>({16}, 3, -5, 5);
  EXPECT_NE(SelectedProvider(multiplier, in.List(c, 9), ConstFlags(9)), "x86");
  KernelRegistry::Global().SetProviderEnabled("x86", false);
  const DwInputs ok = MakeInputs(c, 5);
  EXPECT_EQ(SelectedProvider(DwNode("QcalQConv", c, 9), ok.List(c, 9), ConstFlags(9)), "dnnl");
  KernelRegistry::Global().SetProviderEnabled("x86", true);
  EXPECT_EQ(SelectedProvider(DwNode("QcalQConv", c, 9), ok.List(c, 9), ConstFlags(9)), "x86");
}

// ---- executor: pointwise -> depthwise (stride 2) -> pointwise, int8 NHWC in between ----

void AddConv(Graph& g, const std::string& name, const std::string& x, const std::string& y, int64_t cin,
             int64_t cout, bool depthwise, int64_t stride, bool float_out, uint32_t seed) {
  const std::string p = name + "_";
  g.initializers[p + "xs"] = Tensor::Scalar<float>(0.02f);
  g.initializers[p + "xz"] = Tensor::Scalar<uint8_t>(static_cast<uint8_t>(seed * 17));
  g.initializers[p + "w"] =
      RandomInt<int8_t>({cout, depthwise ? 1 : cin, depthwise ? 3 : 1, depthwise ? 3 : 1}, seed, -127, 127);
  std::vector<float> ws;
  for (int64_t m = 0; m < cout; ++m) ws.push_back(0.002f + 0.0001f * m);
  g.initializers[p + "ws"] = Tensor::FromVector<float>(ws, {cout});
  g.initializers[p + "wz"] = Tensor(DataType::kInt8, {cout});
  g.initializers[p + "b"] = RandomInt<int32_t>({cout}, seed + 1, -3000, 3000);
  std::vector<std::string> in = {x, p + "xs", p + "xz", p + "w", p + "ws", p + "wz"};
  if (float_out) {
    in.insert(in.end(), {"", ""});
  } else {
    g.initializers[p + "ys"] = Tensor::Scalar<float>(depthwise ? 0.3f : 0.15f);
    g.initializers[p + "yz"] = Tensor::Scalar<uint8_t>(static_cast<uint8_t>(seed * 29));
    in.insert(in.end(), {p + "ys", p + "yz"});
  }
  in.push_back(p + "b");
  Node n{name, "QcalQConv", "", in, {y}, {}};
  if (depthwise) {
    n.attrs.Set("group", cout);
    n.attrs.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
    n.attrs.Set("strides", std::vector<int64_t>{stride, stride});
  }
  g.nodes.push_back(std::move(n));
}

// optimized false: the reference kernels only. providers: each node's kernel provider.
Result<TensorMap> RunGraph(const Graph& g, const Tensor& x, bool optimized,
                           std::vector<std::string>* providers = nullptr) {
  for (const char* provider : {"dnnl", "x86"})
    KernelRegistry::Global().SetProviderEnabled(provider, optimized);
  auto ex = Executor::Create(g, {{"x", x.shape()}});
  for (const char* provider : {"dnnl", "x86"}) KernelRegistry::Global().SetProviderEnabled(provider, true);
  QCAL_RETURN_IF_ERROR(ex.status());
  if (providers) *providers = (*ex)->providers();
  TensorMap out;
  QCAL_RETURN_IF_ERROR((*ex)->Run({{"x", x}}, &out));
  QCAL_RETURN_IF_ERROR((*ex)->Run({{"x", x}}, &out));  // recycled buffers
  return out;
}

TEST(X86Int8DepthwiseTest, ExecutorGraphIsBitIdenticalToReference) {
  Graph g;
  g.name = "dw_block";
  g.inputs.push_back({"x", DataType::kUint8, Shape{-1, 5, 11, 9}});
  AddConv(g, "pw1", "x", "t1", 5, 37, false, 1, false, 1);
  AddConv(g, "dw", "t1", "t2", 37, 37, true, 2, false, 2);
  AddConv(g, "pw2", "t2", "y", 37, 6, false, 1, true, 3);
  g.outputs.push_back({"y", DataType::kFloat32, std::nullopt});
  for (int64_t batch : {1, 2}) {
    const Tensor x = RandomInt<uint8_t>({batch, 5, 11, 9}, 40 + static_cast<uint32_t>(batch), 0, 255);
    std::vector<std::string> providers;
    auto got = RunGraph(g, x, true, &providers);
    auto want = RunGraph(g, x, false);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    EXPECT_TRUE(BitExact(got->at("y"), want->at("y")));
    EXPECT_EQ(providers, (std::vector<std::string>{"dnnl", "x86", "dnnl"}));
  }
}

}  // namespace
}  // namespace qcal::testing
