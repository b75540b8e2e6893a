// x86 pooling kernels (provider "x86": MaxPool, AveragePool, GlobalAveragePool,
// ReduceMean over H, W) vs the reference kernels: outputs must be bit-identical
// (same operations in the same order per element) with X and Y in every
// combination of NCHW and nChw8c, on odd shapes (odd H / W, channels not a
// multiple of 8, batch 2, asymmetric pads, ceil_mode, strides 1 / 2, kernels
// 2 / 3, dilations) and on inputs holding NaN, +-inf and signed zeros. The
// executor test runs the kernels between convs on nChw8c values.
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/dnnl_test_util.h"
#include "kernels/x86/x86_common.h"
#include "runtime/executor.h"

namespace qcal::testing {
namespace {

struct PoolCase {
  Shape x;
  std::vector<int64_t> kernel, strides = {1, 1}, pads = {0, 0, 0, 0}, dilations = {1, 1};
  int64_t ceil_mode = 0;
};

// Shapes chosen to reach every path: border columns, the 4-column interior groups,
// the 8-column transposes of the NCHW gather / scatter and their tails, the
// partial last channel block, and the multi-threaded split (the last case).
const std::vector<PoolCase>& Cases() {
  static const std::vector<PoolCase> cases = {
      {.x = {2, 13, 11, 9}, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}},
      {.x = {1, 8, 7, 10}, .kernel = {2, 2}},
      {.x = {2, 5, 9, 13}, .kernel = {3, 3}, .strides = {2, 2}, .pads = {0, 1, 2, 0}, .ceil_mode = 1},
      {.x = {1, 17, 12, 12}, .kernel = {3, 3}, .pads = {1, 1, 1, 1}},
      {.x = {1, 16, 15, 15}, .kernel = {2, 2}, .strides = {2, 2}, .ceil_mode = 1},
      {.x = {1, 9, 13, 11}, .kernel = {3, 2}, .strides = {1, 2}, .pads = {2, 1, 2, 0}, .dilations = {2, 3}},
      {.x = {1, 11, 20, 37}, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}},
      {.x = {2, 24, 56, 57}, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}},
  };
  return cases;
}

Node PoolNode(const std::string& op, const PoolCase& c, int64_t count_include_pad = 0) {
  Attributes a;
  a.Set("kernel_shape", c.kernel);
  a.Set("strides", c.strides);
  a.Set("pads", c.pads);
  a.Set("dilations", c.dilations);
  a.Set("ceil_mode", c.ceil_mode);
  if (op == "AveragePool") a.Set("count_include_pad", count_include_pad);
  return MakeNode(op, 1, a);
}

// Random values in [-4, 4) with NaN, +-inf, +-0 and the float extremes sprinkled in.
Tensor HardValues(const Shape& shape, uint32_t seed) {
  const float inf = std::numeric_limits<float>::infinity();
  const float special[] = {0.0f, -0.0f, inf, -inf, std::nanf(""), -std::numeric_limits<float>::max(), 1e-40f};
  Tensor t = RandomFloat(shape, seed, -4.0f, 4.0f);
  for (int64_t i = 0; i < t.numel(); i += 7) t.data<float>()[i] = special[(i / 7) % 7];
  return t;
}

// NCHW <-> nChw8c (padding channels zero / dropped).
Tensor ToBlocked(const Tensor& x) {
  const int64_t n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
  Tensor b(DataType::kFloat32, BlockedShape(x.shape()));
  std::memset(b.raw(), 0, static_cast<size_t>(b.numel()) * sizeof(float));
  const int64_t blocks = b.dim(1);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p)
        b.data<float>()[((i * blocks + ch / 8) * hw + p) * 8 + ch % 8] =
            x.data<float>()[(i * c + ch) * hw + p];
  return b;
}

// The logical NCHW tensor of a nChw8c one with c channels; fails the test when a padding lane is not 0.
Tensor FromBlocked(const Tensor& b, int64_t c) {
  const int64_t n = b.dim(0), blocks = b.dim(1), hw = b.dim(2) * b.dim(3);
  Tensor x(DataType::kFloat32, {n, c, b.dim(2), b.dim(3)});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < blocks * 8; ++ch)
      for (int64_t p = 0; p < hw; ++p) {
        const float v = b.data<float>()[((i * blocks + ch / 8) * hw + p) * 8 + ch % 8];
        if (ch < c) {
          x.data<float>()[(i * c + ch) * hw + p] = v;
        } else {
          EXPECT_EQ(v, 0.0f) << "padding channel " << ch;
        }
      }
  return x;
}

bool SameBytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.raw(), b.raw(), static_cast<size_t>(a.numel()) * sizeof(float)) == 0;
}

// The x86 kernel with X in layout xl and Y in layout yl (global pools: Y always NCHW); the logical output.
Tensor RunX86(const Node& node, const Tensor& x, Layout xl, Layout yl) {
  auto k = MakeKernel(node, {&x}, {false}, "x86");
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  if (!k.ok()) return Tensor();
  EXPECT_TRUE((*k)->AcceptsBlocked(0));
  const Status set = (*k)->SetLayouts({xl}, {yl});
  EXPECT_TRUE(set.ok()) << set.ToString();
  const Tensor xin = xl == Layout::kNChw8c ? ToBlocked(x) : x;
  std::vector<Tensor> out(1);
  const Status run = (*k)->Run({&xin}, out);
  EXPECT_TRUE(run.ok()) << run.ToString();
  if (!run.ok()) return Tensor();
  return yl == Layout::kNChw8c ? FromBlocked(out[0], x.dim(1)) : out[0];
}

Tensor RunRef(const Node& node, const Tensor& x) {
  auto k = MakeKernel(node, {&x}, {false}, "ref");
  EXPECT_TRUE(k.ok());
  auto y = RunKernel(**k, {&x});
  EXPECT_TRUE(y.ok()) << y.status().ToString();
  return y.ok() ? *y : Tensor();
}

// Every layout combination of a windowed pool against the reference, bytes compared.
void ExpectWindowPoolMatchesRef(const Node& node, const Tensor& x) {
  ASSERT_EQ(SelectedProvider(node, {&x}, {false}), "x86");
  const Tensor want = RunRef(node, x);
  const Layout P = Layout::kPlain, B = Layout::kNChw8c;
  for (auto [xl, yl] : {std::pair{P, P}, {B, B}, {B, P}, {P, B}}) {
    EXPECT_TRUE(SameBytes(RunX86(node, x, xl, yl), want))
        << node.op_type << " " << ShapeToString(x.shape()) << " X " << (xl == B ? "8c" : "plain") << " Y "
        << (yl == B ? "8c" : "plain");
  }
}

// The x86 pools take blocked values where the blocked layout is nChw8c; the
// fixture makes it that on AVX-512 (nChw16c) machines too.
class X86PoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!x86::HasAvx2()) GTEST_SKIP() << "the x86 pooling kernels need AVX2";
  }
  ScopedFloatBlockedLayout layout_{Layout::kNChw8c};
};

TEST_F(X86PoolTest, MaxPoolIsBitIdenticalToReference) {
  uint32_t seed = 1;
  for (const PoolCase& c : Cases())
    ExpectWindowPoolMatchesRef(PoolNode("MaxPool", c), HardValues(c.x, seed++));
}

TEST_F(X86PoolTest, MaxPoolOfAllNanOrMinusInfWindowIsLowestFloat) {
  // The reference starts from the lowest float and std::max never takes NaN or -inf over it.
  const PoolCase c{.x = {1, 3, 4, 5}, .kernel = {2, 2}, .strides = {2, 2}, .ceil_mode = 1};
  Tensor x(DataType::kFloat32, c.x);
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = i % 2 ? std::nanf("") : -std::numeric_limits<float>::infinity();
  const Tensor y = RunX86(PoolNode("MaxPool", c), x, Layout::kNChw8c, Layout::kNChw8c);
  ASSERT_EQ(y.shape(), (Shape{1, 3, 2, 3}));
  for (int64_t i = 0; i < y.numel(); ++i) EXPECT_EQ(y.data<float>()[i], std::numeric_limits<float>::lowest());
  ExpectWindowPoolMatchesRef(PoolNode("MaxPool", c), x);
}

TEST_F(X86PoolTest, AveragePoolIsBitIdenticalToReference) {
  uint32_t seed = 11;
  for (int64_t include_pad : {0, 1}) {
    for (const PoolCase& c : Cases()) {
      ExpectWindowPoolMatchesRef(PoolNode("AveragePool", c, include_pad),
                                 RandomFloat(c.x, seed++, -4.0f, 4.0f));
    }
  }
  const PoolCase hard = Cases()[0];
  ExpectWindowPoolMatchesRef(PoolNode("AveragePool", hard), HardValues(hard.x, 99));
}

TEST_F(X86PoolTest, GlobalMeansAreBitIdenticalToReference) {
  uint32_t seed = 21;
  for (const Shape& shape :
       {Shape{2, 13, 7, 7}, Shape{1, 16, 5, 3}, Shape{1, 3, 1, 1}, Shape{2, 29, 9, 11}}) {
    const Tensor x = RandomFloat(shape, seed++, -4.0f, 4.0f);
    std::vector<Node> nodes = {MakeNode("GlobalAveragePool", 1)};
    for (int64_t keepdims : {0, 1}) {
      Attributes a;
      a.Set("axes", std::vector<int64_t>{-1, 2});
      a.Set("keepdims", keepdims);
      nodes.push_back(MakeNode("ReduceMean", 1, a));
    }
    for (const Node& node : nodes) {
      ASSERT_EQ(SelectedProvider(node, {&x}, {false}), "x86");
      const Tensor want = RunRef(node, x);
      for (Layout xl : {Layout::kPlain, Layout::kNChw8c}) {
        EXPECT_TRUE(SameBytes(RunX86(node, x, xl, Layout::kPlain), want))
            << node.op_type << " " << ShapeToString(shape) << (xl == Layout::kNChw8c ? " 8c" : " plain");
      }
    }
  }
}

TEST_F(X86PoolTest, OtherCasesStayOnOtherKernels) {
  Attributes a;
  a.Set("axes", std::vector<int64_t>{1, 2});  // not H x W
  const Tensor x = RandomFloat({1, 4, 5, 5}, 6);
  EXPECT_NE(SelectedProvider(MakeNode("ReduceMean", 1, a), {&x}, {false}), "x86");
  const Tensor xi = RandomInt<int8_t>({1, 8, 4, 4}, 1, -5, 5);  // int8 MaxPool: oneDNN
  EXPECT_EQ(SelectedProvider(PoolNode("MaxPool", {.x = {1, 8, 4, 4}, .kernel = {2, 2}}), {&xi}, {false}),
            "dnnl");
  Attributes k1;
  k1.Set("kernel_shape", std::vector<int64_t>{2});
  const Tensor x1 = RandomFloat({2, 3, 9}, 1);  // 1-D pooling
  EXPECT_EQ(SelectedProvider(MakeNode("MaxPool", 1, k1), {&x1}, {false}), "ref");
}

// Identity 1x1 convs (exact on any kernel) around the pools, so the executor's
// output must equal the reference-only run bit for bit while the pools read and
// write nChw8c values; 13 channels leave a partial block.
Graph PoolChain() {
  const int64_t c = 13;
  Graph g;
  g.name = "pools";
  g.inputs.push_back({"x", DataType::kFloat32, Shape{2, c, 15, 17}});
  Tensor eye(DataType::kFloat32, {c, c, 1, 1});
  for (int64_t i = 0; i < c * c; ++i) eye.data<float>()[i] = i % (c + 1) == 0 ? 1.0f : 0.0f;
  g.initializers["eye"] = eye;
  auto conv = [](const std::string& in, const std::string& out) {
    return Node{"conv_" + out, "Conv", "", {in, "eye"}, {out}, {}};
  };
  Node mp{"mp", "MaxPool", "", {"a"}, {"p"}, {}};
  mp.attrs.Set("kernel_shape", std::vector<int64_t>{3, 3});
  mp.attrs.Set("strides", std::vector<int64_t>{2, 2});
  mp.attrs.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  Node ap{"ap", "AveragePool", "", {"q"}, {"r"}, {}};
  ap.attrs.Set("kernel_shape", std::vector<int64_t>{2, 3});
  ap.attrs.Set("pads", std::vector<int64_t>{0, 1, 1, 0});
  ap.attrs.Set("count_include_pad", int64_t{1});
  g.nodes = {conv("x", "a"), mp,
             conv("p", "q"), ap,
             conv("r", "t"), Node{"gap", "GlobalAveragePool", "", {"t"}, {"y1"}, {}}};
  g.outputs.push_back({"y1", DataType::kFloat32, std::nullopt});
  g.outputs.push_back({"r", DataType::kFloat32, std::nullopt});  // r: plain (graph output) from 8c q
  return g;
}

TEST_F(X86PoolTest, ExecutorRunsPoolsOnBlockedValuesBitIdenticalToReference) {
  const Graph g = PoolChain();
  const Tensor x = RandomFloat({2, 13, 15, 17}, 31, -4.0f, 4.0f);
  KernelRegistry& reg = KernelRegistry::Global();
  reg.SetProviderEnabled("dnnl", false);
  reg.SetProviderEnabled("x86", false);
  auto ref = Executor::Create(g, {{"x", x.shape()}});
  reg.SetProviderEnabled("dnnl", true);
  reg.SetProviderEnabled("x86", true);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  TensorMap want;
  ASSERT_TRUE((*ref)->Run({{"x", x}}, &want).ok());

  auto ex = Executor::Create(g, {{"x", x.shape()}});
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  int x86_nodes = 0;
  for (const std::string& p : (*ex)->providers()) x86_nodes += p == "x86";
  EXPECT_EQ(x86_nodes, 3);
  EXPECT_GE((*ex)->blocked_values(), 4);  // a, p, q, t (the convs read and write nChw8c)
  for (int run = 0; run < 2; ++run) {     // the second run gets recycled, uncleared buffers
    TensorMap got;
    ASSERT_TRUE((*ex)->Run({{"x", x}}, &got).ok());
    for (const char* y : {"y1", "r"}) EXPECT_TRUE(SameBytes(got.at(y), want.at(y))) << y;
  }
}

}  // namespace
}  // namespace qcal::testing
