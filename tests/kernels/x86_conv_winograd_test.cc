// The Winograd F(2x2, 3x3) convolutions (kernels/x86/conv_winograd.h), nChw8c
// (AVX2) and nChw16c (AVX-512F), against the reference FusedConv kernel
// (kernels/ref) on odd shapes: odd OH / OW (partial tiles), pads 0, 1, 2 and
// asymmetric, IC / OC of 1 to 9 blocks (1, 2 and 3 blocks in the last register
// tile), batch 2, several tile chunks, bias or not, a sum input Z (also in
// place), Relu / Clip, 1 and 2 threads. Then the dnnl FusedConv kernel and an
// executor running a Conv graph with QCAL_WINOGRAD on and off, in each layout.
// The 16c tests skip on CPUs without AVX-512F.
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
#include "kernels/fused_activation.h"
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

// One block size of the kernel (conv_winograd.h).
struct Variant {
  Layout layout;
  int64_t block;
  bool (*cpu_has_isa)();
  bool (*supports)(const x86::ConvNchw8cShape&);
  void (*pack)(const float*, const x86::ConvNchw8cShape&, float*);
  void (*run)(const x86::ConvNchw8cShape&, int64_t, const float*, const float*, const float*,
              const x86::ConvNchw8cPost&, float*, int, x86::WinogradScratch&);
};
const Variant k8c{
    Layout::kNChw8c,  8, x86::HasAvx2Fma, x86::ConvWinogradSupports, x86::PackConvWeightsWinograd,
    x86::ConvWinograd};
const Variant k16c{
    Layout::kNChw16c,   16, x86::HasAvx512F, x86::ConvWinograd16Supports, x86::PackConvWeightsWinograd16,
    x86::ConvWinograd16};

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

void Check(const Variant& k, const WinoCase& c, bool bias, SumMode sum, const std::string& act, float lo,
           float hi, int threads) {
  SCOPED_TRACE(::testing::Message() << "block " << k.block << " n " << c.n << " ic " << c.ic << " " << c.ih
                                    << "x" << c.iw << " oc " << c.oc << " pads " << c.pt << c.pl << c.pb
                                    << c.pr << " bias " << bias << " sum " << static_cast<int>(sum) << " act "
                                    << act << " threads " << threads);
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
  ASSERT_TRUE(k.supports(s));
  std::vector<float> u(static_cast<size_t>(x86::WinogradPackedWeightsSize(s)));
  k.pack(w.data<float>(), s, u.data());
  const auto xb = ToBlocked(Values(x), c.n, c.ic, c.ih * c.iw, k.block);
  const auto zb = ToBlocked(Values(z), c.n, c.oc, oh * ow, k.block);
  // Y starts as garbage, or as Z when the sum is in place.
  std::vector<float> yb = sum == SumMode::kInPlace ? zb : Random(zb.size(), 5);
  x86::ConvNchw8cPost post{nullptr, lo, hi};
  if (sum == SumMode::kSeparate) post.z = zb.data();
  if (sum == SumMode::kInPlace) post.z = yb.data();
  x86::WinogradScratch scratch;
  k.run(s, c.n, xb.data(), u.data(), bias ? b.data<float>() : nullptr, post, yb.data(), threads, scratch);
  const auto got = FromBlocked(yb, c.n, c.oc, oh * ow, k.block);
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

// kCases with channels in blocks of 16 (same block counts and register tiles).
WinoCase Doubled(WinoCase c) {
  c.ic *= 2;
  c.oc *= 2;
  return c;
}

void CheckAll(const Variant& k, WinoCase (*adapt)(WinoCase)) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  for (const WinoCase& c8 : kCases) {
    const WinoCase c = adapt(c8);
    Check(k, c, /*bias=*/true, SumMode::kNone, "", -inf, inf, 1);
    Check(k, c, /*bias=*/false, SumMode::kSeparate, "Relu", 0.0f, inf, 2);
    Check(k, c, /*bias=*/true, SumMode::kInPlace, "Clip", -0.5f, 0.75f, 2);
  }
}

TEST(X86ConvWinogradTest, AgreesWithReferenceConv) {
  if (!x86::HasAvx2Fma()) GTEST_SKIP() << "no AVX2 + FMA";
  CheckAll(k8c, [](WinoCase c) { return c; });
}

TEST(X86ConvWinogradTest, Nchw16cAgreesWithReferenceConv) {
  if (!x86::HasAvx512F()) GTEST_SKIP() << "no AVX-512F";
  CheckAll(k16c, Doubled);
  // Tile counts around the AVX-512 register tiles (24 / 12 / 8 tiles for 1 / 2 / 3 blocks).
  constexpr float inf = std::numeric_limits<float>::infinity();
  for (const WinoCase& c : {WinoCase{1, 16, 17, 11, 16, 1, 1, 1, 1}, WinoCase{1, 32, 13, 7, 32, 1, 1, 1, 1},
                            WinoCase{3, 48, 5, 9, 48, 0, 1, 1, 0}}) {
    Check(k16c, c, /*bias=*/true, SumMode::kSeparate, "Relu", 0.0f, inf, 1);
    Check(k16c, c, /*bias=*/true, SumMode::kInPlace, "", -inf, inf, 2);
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
  s.ic = 24;  // 16c: channels multiples of 16
  EXPECT_TRUE(x86::ConvWinogradSupports(s));
  EXPECT_FALSE(x86::ConvWinograd16Supports(s));
  s.ic = 32;
  EXPECT_TRUE(x86::ConvWinograd16Supports(s));
}

// With b = 8: x(8) -> Conv 3x3 (16) + Relu -> a -> Conv 3x3 (16) + a -> Relu -> r -> Conv 3x3 (24,
// pads 0 / 1) -> y; with b = 16 the channels double. After fusion the middle conv is a FusedConv
// with blocked X, Z and Y (a Winograd candidate in either layout).
Graph ResidualGraph(int64_t b) {
  Graph g;
  g.name = "residual";
  g.inputs.push_back({"x", DataType::kFloat32, Shape{2, b, 13, 11}});
  g.initializers["w1"] = RandomFloat({2 * b, b, 3, 3}, 1);
  g.initializers["b1"] = RandomFloat({2 * b}, 2);
  g.initializers["w2"] = RandomFloat({2 * b, 2 * b, 3, 3}, 3, -0.3f, 0.3f);
  g.initializers["b2"] = RandomFloat({2 * b}, 4);
  g.initializers["w3"] = RandomFloat({3 * b, 2 * b, 3, 3}, 5, -0.3f, 0.3f);
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

Tensor RunGraph(const Graph& g, const Tensor& x, const char* winograd, Layout bl) {
  ScopedEnv env("QCAL_WINOGRAD", winograd);  // read when the kernels are created
  ScopedFloatBlockedLayout layout(bl);       // the kernel's layout (nChw8c also on AVX-512 machines)
  auto ex = Executor::Create(g, {{"x", x.shape()}});
  EXPECT_TRUE(ex.ok()) << ex.status().ToString();
  EXPECT_GE((*ex)->blocked_values(), 2);  // a and r
  TensorMap out;
  EXPECT_TRUE((*ex)->Run({{"x", x}}, &out).ok());
  return out.at("y");
}

void ExpectExecutorOnOffAgree(const Variant& k) {
  const Graph g = ResidualGraph(k.block);
  const Tensor x = RandomFloat({2, k.block, 13, 11}, 7);
  const Tensor on = RunGraph(g, x, "1", k.layout), off = RunGraph(g, x, "0", k.layout);
  // The two runs sum in different orders: not bit-identical (so Winograd ran),
  // but within the Winograd tolerance for 16 / 32 input channels, here relative to
  // 1 + |y| (the weights keep S within a few times |y| + 1 on this graph).
  ASSERT_EQ(on.shape(), off.shape());
  EXPECT_NE(std::memcmp(on.raw(), off.raw(), on.nbytes()), 0);
  EXPECT_TRUE(Agree(on, off, 1e-4));
}

TEST(X86ConvWinogradTest, ExecutorWithWinogradOnAndOffAgree) {
  if (!x86::HasAvx2Fma()) GTEST_SKIP() << "no AVX2 + FMA";
  ExpectExecutorOnOffAgree(k8c);
}

TEST(X86ConvWinogradTest, Nchw16cExecutorWithWinogradOnAndOffAgree) {
  if (!x86::HasAvx512F()) GTEST_SKIP() << "no AVX-512F";
  ExpectExecutorOnOffAgree(k16c);
}

// Runs `node` (inputs {x, w, b[, z]}, w and b constant) on the dnnl kernel with
// X, Z and Y in layout bl; returns Y in NCHW.
Tensor RunDnnlBlocked(const Node& node, const std::vector<const Tensor*>& in, Layout bl) {
  const int64_t block = LayoutBlock(bl);
  std::vector<bool> is_const = {false, true, true, false};
  is_const.resize(in.size());
  auto k = MakeKernel(node, in, is_const, "dnnl");
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  if (!k.ok()) return Tensor();
  std::vector<Layout> layouts = {bl, Layout::kPlain, Layout::kPlain, bl};
  layouts.resize(in.size());
  EXPECT_TRUE((*k)->SetLayouts(layouts, {bl}).ok());
  std::vector<Tensor> blocked;
  for (const Tensor* t : in) blocked.push_back(t->rank() == 4 && t != in[1] ? BlockedTensor(*t, block) : *t);
  std::vector<const Tensor*> ptrs;
  for (const Tensor& t : blocked) ptrs.push_back(&t);
  auto y = RunKernel(**k, ptrs);
  EXPECT_TRUE(y.ok()) << y.status().ToString();
  if (!y.ok()) return Tensor();
  const int64_t n = in[0]->dim(0), c = in[1]->dim(0), hw = y->dim(2) * y->dim(3);
  const auto v = FromBlocked(Values(*y), n, c, hw, block);
  Tensor r(DataType::kFloat32, {n, c, y->dim(2), y->dim(3)});
  std::copy(v.begin(), v.end(), r.data<float>());
  return r;
}

// The exact sum (calibration) on the x86 kernels equals, bit for bit, the same
// kernel's Conv followed by the Add and the Relu as separate float operations:
// Winograd adds Z in its output transform, the direct kernel (nChw8c, large
// weights; not stride 1 so Winograd cannot take it) adds Z afterwards.
void ExpectX86ExactSumIsConvThenAddThenRelu(const Variant& k, const WinoCase& c, int64_t stride,
                                            const char* winograd) {
  SCOPED_TRACE(::testing::Message() << "block " << k.block << " ic " << c.ic << " oc " << c.oc << " stride "
                                    << stride << " QCAL_WINOGRAD=" << winograd);
  ScopedEnv env("QCAL_WINOGRAD", winograd);
  ScopedFloatBlockedLayout layout(k.layout);
  Attributes a;
  a.Set("pads", std::vector<int64_t>{c.pt, c.pl, c.pb, c.pr});
  a.Set("strides", std::vector<int64_t>{stride, stride});
  const Node conv = MakeNode("Conv", 3, a);
  a.Set("activation", std::string("Relu"));
  a.Set(kExactSumAttr, int64_t{1});
  Node fused = MakeNode("FusedConv", 4, a);
  fused.domain = "com.microsoft";
  const Tensor x = RandomFloat({c.n, c.ic, c.ih, c.iw}, 1),
               w = RandomFloat({c.oc, c.ic, 3, 3}, 2, -0.2f, 0.2f);
  const Tensor b = RandomFloat({c.oc}, 3);
  const Tensor y0 = RunDnnlBlocked(conv, {&x, &w, &b}, k.layout);
  ASSERT_FALSE(y0.empty());
  Tensor z = RandomFloat(y0.shape(), 4);
  for (int64_t i = 0; i < z.numel(); ++i) {  // exact cancellation and signed zeros
    if (i % 5 == 0) z.data<float>()[i] = -y0.data<float>()[i];
    if (i % 11 == 1) z.data<float>()[i] = -0.0f;
  }
  Tensor want(DataType::kFloat32, y0.shape());
  for (int64_t i = 0; i < want.numel(); ++i) {
    const float v = y0.data<float>()[i] + z.data<float>()[i];
    want.data<float>()[i] = v > 0 ? v : 0.0f;
  }
  const Tensor got = RunDnnlBlocked(fused, {&x, &w, &b, &z}, k.layout);
  ASSERT_EQ(got.shape(), want.shape());
  EXPECT_EQ(std::memcmp(got.raw(), want.raw(), want.nbytes()), 0);
}

TEST(X86ConvWinogradTest, ExactSumIsConvThenAddThenRelu) {
  if (!x86::HasAvx2Fma()) GTEST_SKIP() << "no AVX2 + FMA";
  ExpectX86ExactSumIsConvThenAddThenRelu(k8c, {2, 32, 9, 7, 24, 1, 1, 1, 1}, 1, "1");
  // 512 x 256 x 3 x 3 weights (4.5 MiB): the direct kernel (kMinDirectWeightBytes).
  ExpectX86ExactSumIsConvThenAddThenRelu(k8c, {1, 256, 7, 6, 512, 1, 1, 1, 1}, 2, "0");
}

TEST(X86ConvWinogradTest, Nchw16cExactSumIsConvThenAddThenRelu) {
  if (!x86::HasAvx512F()) GTEST_SKIP() << "no AVX-512F";
  ExpectX86ExactSumIsConvThenAddThenRelu(k16c, {2, 32, 9, 7, 48, 1, 1, 1, 1}, 1, "1");
}

// Calibration's executor (observed values a and r, order free: c2 + Add + Relu
// fuse with an exact sum, passes/fuse_conv.h) runs c2 on the Winograd kernel,
// as the inference executor does, so both compute y bit for bit alike (before,
// the exact sum kept c2 on oneDNN: calibration observed other values than the
// model computes). `in_place`: outputs written into an input's buffer (c2's Y
// into Z's when Z dies there; not when Z is also c2's X).
void ExpectCalibrationModeMatchesInference(const Variant& k, const Graph& g, int in_place) {
  const Tensor x = RandomFloat({2, k.block, 13, 11}, 7);
  ScopedEnv env("QCAL_WINOGRAD", "1");
  ScopedFloatBlockedLayout layout(k.layout);
  auto inference = Executor::Create(g, {{"x", x.shape()}});
  ASSERT_TRUE(inference.ok()) << inference.status().ToString();
  ExecutorOptions calib;
  calib.observed_values = {"a", "r"};
  calib.observer_order_free = true;
  auto observed = Executor::Create(g, {{"x", x.shape()}}, calib);
  ASSERT_TRUE(observed.ok()) << observed.status().ToString();
  int seen = 0;
  (*observed)->SetObserver([&](const Node& node, const std::vector<const Tensor*>&) -> Status {
    seen += node.outputs[0] == "a" || node.outputs[0] == "r";
    return Status::Ok();
  });
  TensorMap want, got;
  ASSERT_TRUE((*inference)->Run({{"x", x}}, &want).ok());
  ASSERT_TRUE((*observed)->Run({{"x", x}}, &got).ok());
  EXPECT_EQ(seen, 2);
  const Node* c2 = (*observed)->executed_graph().FindNode("c2");
  ASSERT_NE(c2, nullptr);
  EXPECT_EQ(c2->attrs.GetInt(kExactSumAttr, 0), 1);
  EXPECT_GE((*observed)->blocked_values(), 2);  // a and r reach the observer blocked
  EXPECT_EQ((*observed)->in_place_outputs(), in_place);
  ASSERT_EQ(got.at("y").shape(), want.at("y").shape());
  EXPECT_EQ(std::memcmp(got.at("y").raw(), want.at("y").raw(), want.at("y").nbytes()), 0);
}

// ResidualGraph with a Z that dies at the fused node (Relu(conv(x)), not c2's
// input), so the Winograd exact sum writes Y into Z's buffer.
Graph ResidualGraphWithOwnZ(int64_t b) {
  Graph g = ResidualGraph(b);
  g.initializers["w0"] = RandomFloat({2 * b, b, 3, 3}, 6, -0.3f, 0.3f);
  Node c0{"c0", "Conv", "", {"x", "w0"}, {"z0"}, {}};
  c0.attrs.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  g.nodes.insert(g.nodes.begin(), {c0, Node{"r0", "Relu", "", {"z0"}, {"z"}, {}}});
  for (Node& n : g.nodes) {
    if (n.name == "add") n.inputs[1] = "z";
  }
  return g;
}

TEST(X86ConvWinogradTest, CalibrationExactSumRunsInPlace) {
  if (!x86::HasAvx2Fma()) GTEST_SKIP() << "no AVX2 + FMA";
  ExpectCalibrationModeMatchesInference(k8c, ResidualGraphWithOwnZ(k8c.block), 1);
}

TEST(X86ConvWinogradTest, Nchw16cCalibrationExactSumRunsInPlace) {
  if (!x86::HasAvx512F()) GTEST_SKIP() << "no AVX-512F";
  ExpectCalibrationModeMatchesInference(k16c, ResidualGraphWithOwnZ(k16c.block), 1);
}

TEST(X86ConvWinogradTest, CalibrationExactSumComputesWhatInferenceDoes) {
  if (!x86::HasAvx2Fma()) GTEST_SKIP() << "no AVX2 + FMA";
  ExpectCalibrationModeMatchesInference(k8c, ResidualGraph(k8c.block), 0);
}

TEST(X86ConvWinogradTest, Nchw16cCalibrationExactSumComputesWhatInferenceDoes) {
  if (!x86::HasAvx512F()) GTEST_SKIP() << "no AVX-512F";
  ExpectCalibrationModeMatchesInference(k16c, ResidualGraph(k16c.block), 0);
}

// The dnnl FusedConv kernel on blocked X, Z, Y (Y in Z's buffer) takes the
// Winograd path with QCAL_WINOGRAD=1 (its result differs from oneDNN's in the
// last bits) and agrees with the reference kernel.
void ExpectDnnlFusedConvWinograd(const Variant& k) {
  const int64_t ic = 32, oc = 3 * k.block;
  const WinoCase c{1, ic, 9, 7, oc, 1, 1, 1, 1};
  const Node node = FusedConvNode(c, true, "Relu", 0, 0);
  const Tensor x = RandomFloat({1, ic, 9, 7}, 1), w = RandomFloat({oc, ic, 3, 3}, 2, -0.2f, 0.2f);
  const Tensor b = RandomFloat({oc}, 3), z = RandomFloat({1, oc, 9, 7}, 4);
  Tensor got, onednn;
  {
    ScopedEnv env("QCAL_WINOGRAD", "1");
    RunDnnlFusedConvBlocked(node, x, w, b, z, &got, k.layout);
  }
  {
    ScopedEnv env("QCAL_WINOGRAD", "0");
    RunDnnlFusedConvBlocked(node, x, w, b, z, &onednn, k.layout);
  }
  if (::testing::Test::HasFatalFailure()) return;
  EXPECT_NE(std::memcmp(got.raw(), onednn.raw(), got.nbytes()), 0);
  EXPECT_TRUE(Agree(got, RunRef(node, {&x, &w, &b, &z})));
}

TEST(X86ConvWinogradTest, DnnlFusedConvInBlockedLayout) {
  if (!x86::HasAvx2Fma()) GTEST_SKIP() << "no AVX2 + FMA";
  ExpectDnnlFusedConvWinograd(k8c);
}

TEST(X86ConvWinogradTest, DnnlFusedConvInNchw16c) {
  if (!x86::HasAvx512F()) GTEST_SKIP() << "no AVX-512F";
  ExpectDnnlFusedConvWinograd(k16c);
}

}  // namespace
}  // namespace qcal::testing
