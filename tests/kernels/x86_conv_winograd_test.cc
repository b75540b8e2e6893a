// The Winograd F(2x2, 3x3) nChw8c convolution (kernels/x86/conv_winograd.h)
// against the reference FusedConv kernel (kernels/ref) on odd shapes: odd
// OH / OW (partial tiles), pads 0, 1, 2 and asymmetric, IC / OC 8, 16, 24, 72
// (1, 2 and 3 blocks in the last register tile), batch 2, several tile chunks,
// bias or not, a sum input Z (also in place), Relu / Clip, 1 and 2 threads.
// Then the dnnl FusedConv kernel and an executor running a Conv graph with
// QCAL_WINOGRAD on and off.
//
// Tolerance: Winograd's error is not bounded by the output's magnitude but by
// the magnitudes it cancels. Per output, with S = sum |x * w| + |b| + |z| (the
// reference conv on absolute values) and u = 2^-24: the input transform
// (2 roundings of sums of 4 inputs), the rounded U (computed in double), the
// IC-term FMA chain of the GEMM and the output transform (2 roundings of sums
// of 9 points) give |err| <= c * (IC + 8) * u * S', where S' also counts the
// input pixels of the 4x4 tile outside the output's 3x3 window (their terms
// cancel only in exact arithmetic; with random data S' ~ 16/9 S) and c ~ 2
// bounds the transforms' coefficients (|G| <= 1/2 per tap, |B|, |A| <= 1).
// So kTolPerTerm = 4 u per input channel (plus 8), times S.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/dnnl_test_util.h"
#include "kernels/nchw8c_test_util.h"
#include "kernels/x86/conv_winograd.h"
#include "kernels/x86/x86_common.h"
#include "runtime/executor.h"

namespace qcal::testing {
namespace {

constexpr double kTolPerTerm = 4.0 / (1 << 24);

double Tolerance(int64_t ic) { return kTolPerTerm * static_cast<double>(ic + 8); }

struct WinoCase {
  int64_t n, ic, ih, iw, oc;
  int64_t pt, pl, pb, pr;
};

enum class SumMode { kNone, kSeparate, kInPlace };

// A FusedConv node with 3x3 weights, the case's pads, and activation `act`
// ("" for none; Clip with [lo, hi]).
Node FusedConvNode(const WinoCase& c, bool has_z, const std::string& act, float lo, float hi) {
  Attributes a;
  a.Set("pads", std::vector<int64_t>{c.pt, c.pl, c.pb, c.pr});
  if (!act.empty()) a.Set("activation", act);
  if (act == "Clip") a.Set("activation_params", std::vector<float>{lo, hi});
  Node node = MakeNode("FusedConv", has_z ? 4 : 3, a);
  node.domain = "com.microsoft";
  return node;
}

Tensor Abs(const Tensor& t) {
  Tensor r(DataType::kFloat32, t.shape());
  for (int64_t i = 0; i < t.numel(); ++i) r.data<float>()[i] = std::fabs(t.data<float>()[i]);
  return r;
}

Tensor RunRef(const Node& node, const std::vector<const Tensor*>& in) {
  std::vector<bool> is_const(in.size(), false);
  auto k = MakeKernel(node, in, is_const, "ref");
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  auto y = RunKernel(**k, in);
  EXPECT_TRUE(y.ok()) << y.status().ToString();
  return *y;
}

void Check(const WinoCase& c, bool bias, SumMode sum, const std::string& act, float lo, float hi,
           int threads) {
  SCOPED_TRACE(::testing::Message() << "n " << c.n << " ic " << c.ic << " " << c.ih << "x" << c.iw << " oc "
                                    << c.oc << " pads " << c.pt << c.pl << c.pb << c.pr << " bias " << bias
                                    << " sum " << static_cast<int>(sum) << " act " << act << " threads "
                                    << threads);
  const int64_t oh = c.ih + c.pt + c.pb - 2, ow = c.iw + c.pl + c.pr - 2;
  const Tensor x = RandomFloat({c.n, c.ic, c.ih, c.iw}, 1), w = RandomFloat({c.oc, c.ic, 3, 3}, 2);
  const Tensor b = bias ? RandomFloat({c.oc}, 3) : Tensor(DataType::kFloat32, {c.oc});  // zeros
  const Tensor z = RandomFloat({c.n, c.oc, oh, ow}, 4);
  const bool has_z = sum != SumMode::kNone;
  const Node node = FusedConvNode(c, has_z, act, lo, hi);
  std::vector<const Tensor*> in = {&x, &w, &b};
  if (has_z) in.push_back(&z);
  const Tensor want = RunRef(node, in);
  // S = conv(|x|, |w|) + |b| + |z|: the scale of the rounding errors.
  const Tensor ax = Abs(x), aw = Abs(w), ab = Abs(b), az = Abs(z);
  std::vector<const Tensor*> abs_in = {&ax, &aw, &ab};
  if (has_z) abs_in.push_back(&az);
  const Tensor scale = RunRef(FusedConvNode(c, has_z, "", 0, 0), abs_in);

  x86::ConvNchw8cShape s{c.ic, c.ih, c.iw, c.oc, oh, ow, 3, 3, 1, 1, c.pt, c.pl};
  ASSERT_TRUE(x86::ConvWinogradSupports(s));
  std::vector<float> u(static_cast<size_t>(x86::WinogradPackedWeightsSize(s)));
  x86::PackConvWeightsWinograd(w.data<float>(), s, u.data());
  const auto xb = ToBlocked(Values(x), c.n, c.ic, c.ih * c.iw);
  const auto zb = ToBlocked(Values(z), c.n, c.oc, oh * ow);
  // Y starts as garbage, or as Z when the sum is in place.
  std::vector<float> yb = sum == SumMode::kInPlace ? zb : Random(zb.size(), 5);
  x86::ConvNchw8cPost post{nullptr, lo, hi};
  if (sum == SumMode::kSeparate) post.z = zb.data();
  if (sum == SumMode::kInPlace) post.z = yb.data();
  x86::WinogradScratch scratch;
  x86::ConvWinograd(s, c.n, xb.data(), u.data(), bias ? b.data<float>() : nullptr, post, yb.data(), threads,
                    scratch);
  const auto got = FromBlocked(yb, c.n, c.oc, oh * ow);
  ASSERT_EQ(static_cast<int64_t>(got.size()), want.numel());
  const double tol = Tolerance(c.ic);
  for (int64_t i = 0; i < want.numel(); ++i) {
    const double err = std::fabs(double{got[i]} - want.data<float>()[i]);
    ASSERT_LE(err, tol * scale.data<float>()[i])
        << "at " << i << ": " << got[i] << " vs " << want.data<float>()[i];
  }
}

const WinoCase kCases[] = {
    {2, 16, 7, 9, 24, 1, 1, 1, 1},    // batch 2, odd OH / OW: partial tiles in both directions
    {1, 8, 6, 5, 8, 0, 0, 0, 0},      // no pads, OH 4, OW 3
    {1, 24, 9, 8, 16, 0, 1, 2, 0},    // asymmetric pads
    {1, 72, 5, 6, 72, 1, 1, 1, 1},    // 9 blocks (3 full register tiles)
    {1, 16, 4, 4, 8, 2, 2, 2, 2},     // pads 2: tiles reading only pads
    {2, 72, 19, 20, 40, 1, 1, 1, 1},  // 2 x 100 tiles: several chunks and items; 5 blocks (3 + 2)
    {1, 8, 3, 3, 56, 1, 0, 0, 1},     // a single 2x2 tile per image; 7 blocks (3 + 3 + 1)
};

TEST(X86ConvWinogradTest, AgreesWithReferenceConv) {
  if (!x86::HasAvx2Fma()) GTEST_SKIP() << "no AVX2 + FMA";
  constexpr float inf = std::numeric_limits<float>::infinity();
  for (const WinoCase& c : kCases) {
    Check(c, /*bias=*/true, SumMode::kNone, "", -inf, inf, 1);
    Check(c, /*bias=*/false, SumMode::kSeparate, "Relu", 0.0f, inf, 2);
    Check(c, /*bias=*/true, SumMode::kInPlace, "Clip", -0.5f, 0.75f, 2);
  }
}

TEST(X86ConvWinogradTest, SupportsOnly3x3Stride1) {
  x86::ConvNchw8cShape s{16, 8, 8, 16, 8, 8, 3, 3, 1, 1, 1, 1};
  EXPECT_TRUE(x86::ConvWinogradSupports(s));
  s.stride_w = 2;
  EXPECT_FALSE(x86::ConvWinogradSupports(s));
  s.stride_w = 1;
  s.kh = 5;
  EXPECT_FALSE(x86::ConvWinogradSupports(s));
  s.kh = 3;
  s.ic = 12;
  EXPECT_FALSE(x86::ConvWinogradSupports(s));
}

// x(8) -> Conv 3x3 (16) + Relu -> a -> Conv 3x3 (16) + a -> Relu -> r -> Conv 3x3 (24, pads 0 / 1) -> y.
// After fusion the middle conv is a FusedConv with blocked X, Z and Y (a Winograd candidate).
Graph ResidualGraph() {
  Graph g;
  g.name = "residual";
  g.inputs.push_back({"x", DataType::kFloat32, Shape{2, 8, 13, 11}});
  g.initializers["w1"] = RandomFloat({16, 8, 3, 3}, 1);
  g.initializers["b1"] = RandomFloat({16}, 2);
  g.initializers["w2"] = RandomFloat({16, 16, 3, 3}, 3, -0.3f, 0.3f);
  g.initializers["b2"] = RandomFloat({16}, 4);
  g.initializers["w3"] = RandomFloat({24, 16, 3, 3}, 5, -0.3f, 0.3f);
  auto conv = [](const std::string& name, std::vector<std::string> in, const std::string& out,
                 std::vector<int64_t> pads) {
    Node n{name, "Conv", "", std::move(in), {out}, {}};
    n.attrs.Set("pads", std::move(pads));
    return n;
  };
  g.nodes = {
      conv("c1", {"x", "w1", "b1"}, "t1", {1, 1, 1, 1}), Node{"r1", "Relu", "", {"t1"}, {"a"}, {}},
      conv("c2", {"a", "w2", "b2"}, "t2", {1, 1, 1, 1}), Node{"add", "Add", "", {"t2", "a"}, {"s"}, {}},
      Node{"r2", "Relu", "", {"s"}, {"r"}, {}},          conv("c3", {"r", "w3"}, "y", {0, 1, 1, 0})};
  g.outputs.push_back({"y", DataType::kFloat32, std::nullopt});
  return g;
}

Tensor RunGraph(const Graph& g, const Tensor& x, const char* winograd) {
  ScopedEnv env("QCAL_WINOGRAD", winograd);          // read when the kernels are created
  ScopedFloatBlockedLayout layout(Layout::kNChw8c);  // the x86 kernels' layout, on any machine
  auto ex = Executor::Create(g, {{"x", x.shape()}});
  EXPECT_TRUE(ex.ok()) << ex.status().ToString();
  EXPECT_GE((*ex)->blocked_values(), 2);  // a and r
  TensorMap out;
  EXPECT_TRUE((*ex)->Run({{"x", x}}, &out).ok());
  return out.at("y");
}

TEST(X86ConvWinogradTest, ExecutorWithWinogradOnAndOffAgree) {
  if (!x86::HasAvx2Fma()) GTEST_SKIP() << "no AVX2 + FMA";
  const Graph g = ResidualGraph();
  const Tensor x = RandomFloat({2, 8, 13, 11}, 7);
  const Tensor on = RunGraph(g, x, "1"), off = RunGraph(g, x, "0");
  // The two runs sum in different orders: not bit-identical (so Winograd ran),
  // but within the Winograd tolerance for 16 input channels, here relative to
  // 1 + |y| (the weights keep S within a few times |y| + 1 on this graph).
  ASSERT_EQ(on.shape(), off.shape());
  EXPECT_NE(std::memcmp(on.raw(), off.raw(), on.nbytes()), 0);
  EXPECT_TRUE(Agree(on, off, 1e-4));
}

// The dnnl FusedConv kernel on blocked X, Z, Y (Y in Z's buffer) takes the
// Winograd path with QCAL_WINOGRAD=1 (its result differs from oneDNN's in the
// last bits) and agrees with the reference kernel.
TEST(X86ConvWinogradTest, DnnlFusedConvInBlockedLayout) {
  if (!x86::HasAvx2Fma()) GTEST_SKIP() << "no AVX2 + FMA";
  const WinoCase c{1, 32, 9, 7, 24, 1, 1, 1, 1};
  const Node node = FusedConvNode(c, true, "Relu", 0, 0);
  const Tensor x = RandomFloat({1, 32, 9, 7}, 1), w = RandomFloat({24, 32, 3, 3}, 2, -0.2f, 0.2f);
  const Tensor b = RandomFloat({24}, 3), z = RandomFloat({1, 24, 9, 7}, 4);
  Tensor got, onednn;
  {
    ScopedEnv env("QCAL_WINOGRAD", "1");
    RunDnnlFusedConvBlocked(node, x, w, b, z, &got);
  }
  {
    ScopedEnv env("QCAL_WINOGRAD", "0");
    RunDnnlFusedConvBlocked(node, x, w, b, z, &onednn);
  }
  if (::testing::Test::HasFatalFailure()) return;
  EXPECT_NE(std::memcmp(got.raw(), onednn.raw(), got.nbytes()), 0);
  EXPECT_TRUE(Agree(got, RunRef(node, {&x, &w, &b, &z})));
}

}  // namespace
}  // namespace qcal::testing
