// FuseQuantizedOps' residual step: a float QcalQConv -> Add(Z) [-> Relu] becomes
// one QcalQConv with input Z. The graph computes exactly (memcmp) what it computes
// with the step off (QuantizedFusionOptions::residual = false), on the reference
// kernels and on the default providers; patterns it must not take stay as they are.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "kernels/registry.h"
#include "passes/fuse_quantized_ops.h"
#include "passes/shape_inference.h"
#include "runtime/executor.h"
#include "runtime/model_loader.h"

namespace qcal {
namespace {

Tensor RandomFloats(Shape shape, uint32_t seed, float lo, float hi) {
  Tensor t(DataType::kFloat32, std::move(shape));
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = d(g);
  return t;
}

Tensor RandomInt8(Shape shape, uint32_t seed) {
  Tensor t(DataType::kInt8, std::move(shape));
  std::mt19937 g(seed);
  std::uniform_int_distribution<int> d(-127, 127);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<int8_t>()[i] = static_cast<int8_t>(d(g));
  return t;
}

constexpr int64_t kCin = 6, kCout = 5;
const Shape kX = {2, kCin, 7, 6}, kY = {2, kCout, 7, 6};

// x -> Q -> DQ -> Conv 3x3 pad 1 (DQ(W), DQ(B)) named `name` with output `out`.
void AddQdqConv(Graph& g, const std::string& name, const std::string& out, uint32_t seed) {
  const float sx = 0.02f;
  g.initializers["sx"] = Tensor::Scalar<float>(sx);
  g.initializers["zx"] = Tensor::Scalar<uint8_t>(120);
  g.initializers[name + "_wq"] = RandomInt8({kCout, kCin, 3, 3}, seed);
  std::vector<float> sw, sb;
  for (int64_t m = 0; m < kCout; ++m) {
    sw.push_back(0.004f + 0.001f * m);
    sb.push_back(sx * sw.back());
  }
  g.initializers[name + "_sw"] = Tensor::FromVector<float>(sw, {kCout});
  g.initializers[name + "_bq"] = Tensor::FromVector<int32_t>({300, -1200, 45, 7000, -60}, {kCout});
  g.initializers[name + "_sb"] = Tensor::FromVector<float>(sb, {kCout});
  Node wdq{name + "_wdq", "DequantizeLinear", "", {name + "_wq", name + "_sw"}, {name + "_w"}, {}};
  wdq.attrs.Set("axis", int64_t{0});
  Node bdq{name + "_bdq", "DequantizeLinear", "", {name + "_bq", name + "_sb"}, {name + "_b"}, {}};
  bdq.attrs.Set("axis", int64_t{0});
  Node conv{name, "Conv", "", {"xd", name + "_w", name + "_b"}, {out}, {}};
  conv.attrs.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  g.nodes.insert(g.nodes.end(), {wdq, bdq, conv});
}

struct Residual {
  Shape skip = kY;           // shape of the skip input s
  bool skip_first = false;   // Add(s, conv) instead of Add(conv, s)
  bool relu = true;          // Relu after the Add
  bool conv_output = false;  // the conv output is also a graph output
  bool add_output = false;   // the Add output is also a graph output
  bool second_conv = false;  // the skip is a second quantized conv of x (both Add inputs match)
  bool quantize = false;     // the result also goes through a QuantizeLinear (output "yq")
  bool float_output = true;  // the float result is a graph output
};

// x -> Q -> DQ -> conv -> Add(s) [-> Relu] -> y
Graph Build(const Residual& r) {
  Graph g;
  g.name = "residual";
  g.inputs.push_back({"x", DataType::kFloat32, kX});
  if (!r.second_conv) g.inputs.push_back({"s", DataType::kFloat32, r.skip});
  g.nodes = {Node{"x_q", "QuantizeLinear", "", {"x", "sx", "zx"}, {"xq"}, {}},
             Node{"x_dq", "DequantizeLinear", "", {"xq", "sx", "zx"}, {"xd"}, {}}};
  AddQdqConv(g, "conv", "t", 1);
  if (r.second_conv) AddQdqConv(g, "down", "s", 2);
  const std::vector<std::string> add_in =
      r.skip_first ? std::vector<std::string>{"s", "t"} : std::vector<std::string>{"t", "s"};
  g.nodes.push_back(Node{"add", "Add", "", add_in, {"a"}, {}});
  if (r.relu) g.nodes.push_back(Node{"relu", "Relu", "", {"a"}, {"y"}, {}});
  if (r.float_output) g.outputs.push_back({r.relu ? "y" : "a", DataType::kFloat32, std::nullopt});
  if (r.conv_output) g.outputs.push_back({"t", DataType::kFloat32, std::nullopt});
  if (r.add_output && r.relu) g.outputs.push_back({"a", DataType::kFloat32, std::nullopt});
  if (r.quantize) {
    g.initializers["sy"] = Tensor::Scalar<float>(0.015f);
    g.initializers["zy"] = Tensor::Scalar<uint8_t>(r.relu ? 0 : 128);
    g.nodes.push_back(Node{"y_q", "QuantizeLinear", "", {r.relu ? "y" : "a", "sy", "zy"}, {"yq"}, {}});
    g.outputs.push_back({"yq", DataType::kUint8, std::nullopt});
  }
  return g;
}

Graph Prepared(const Graph& g, bool residual) {
  Graph out = g;
  LoadOptions o;
  o.fuse_residual_add = residual;
  const Status st = PrepareModel(out, o, "test");
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

int Count(const Graph& g, const std::string& op) {
  int n = 0;
  for (const Node& node : g.nodes) n += node.op_type == op;
  return n;
}

TensorMap RunGraph(const Graph& g, const TensorMap& in) {
  auto ex = Executor::Create(g);
  EXPECT_TRUE(ex.ok()) << ex.status().ToString();
  TensorMap out;
  if (!ex.ok()) return out;
  const Status st = (*ex)->Run(in, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

void ExpectIdentical(const TensorMap& a, const TensorMap& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    const Tensor& u = b.at(name);
    ASSERT_EQ(t.shape(), u.shape()) << name;
    ASSERT_EQ(t.dtype(), u.dtype()) << name;
    EXPECT_EQ(std::memcmp(t.raw(), u.raw(), static_cast<size_t>(t.numel()) * DataTypeSize(t.dtype())), 0)
        << name;
  }
}

// Fused vs residual step off: bit-identical, with the reference kernels and the default providers.
void ExpectSameResults(const Graph& plain, const Graph& fused, const Residual& r) {
  TensorMap in = {{"x", RandomFloats(kX, 9, -2.0f, 2.5f)}};
  if (!r.second_conv) {
    Tensor s = RandomFloats(r.skip, 10, -1.0f, 1.0f);
    float* p = s.data<float>();
    p[0] = -0.0f;
    if (s.numel() > 3) p[1] = NAN, p[2] = INFINITY, p[3] = -INFINITY;
    in["s"] = s;
  }
  auto& reg = KernelRegistry::Global();
  reg.SetProviderEnabled("dnnl", false);
  const TensorMap ref_plain = RunGraph(plain, in), ref_fused = RunGraph(fused, in);
  reg.SetProviderEnabled("dnnl", true);
  ExpectIdentical(ref_fused, ref_plain);
  ExpectIdentical(RunGraph(fused, in), RunGraph(plain, in));
}

TEST(FuseResidualTest, AddReluBecomesTheConvsResidual) {
  for (bool skip_first : {false, true}) {
    const Residual r{.skip_first = skip_first};
    const Graph g = Build(r);
    const Graph plain = Prepared(g, false), fused = Prepared(g, true);
    EXPECT_EQ(Count(plain, "Add"), 1);
    EXPECT_EQ(Count(plain, "Relu"), 1);
    ASSERT_EQ(fused.nodes.size(), 2u);  // QuantizeLinear, QcalQConv
    const Node& conv = fused.nodes[1];
    EXPECT_EQ(conv.op_type, "QcalQConv");
    ASSERT_EQ(conv.inputs.size(), 10u);
    EXPECT_EQ(conv.inputs[9], "s");
    EXPECT_EQ(conv.outputs, std::vector<std::string>{"y"});
    EXPECT_EQ(conv.attrs.GetString("residual_activation", ""), "Relu");
    ExpectSameResults(plain, fused, r);
  }
}

TEST(FuseResidualTest, AddWithoutActivationAndTheReport) {
  const Residual r{.relu = false};
  Graph g = Build(r);
  ASSERT_TRUE(InferShapes(g).ok());
  auto report = FuseQuantizedOps(g);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->size(), 1u);
  EXPECT_TRUE((*report)[0].residual);
  EXPECT_EQ((*report)[0].absorbed, std::vector<std::string>{"add"});
  const Graph plain = Prepared(Build(r), false), fused = Prepared(Build(r), true);
  EXPECT_EQ(Count(fused, "Add"), 0);
  ASSERT_EQ(Count(fused, "QcalQConv"), 1);
  EXPECT_FALSE(fused.nodes[1].attrs.Has("residual_activation"));
  ExpectSameResults(plain, fused, r);
}

// The QuantizeLinear after the residual Relu (the next block's input) becomes
// the fused conv's second output Yq (FuseQuantizedOps' quantized copy).
TEST(FuseResidualTest, QuantizeAfterTheResidualBecomesASecondOutput) {
  for (bool relu : {true, false}) {
    const Residual r{.relu = relu, .quantize = true};
    const Graph plain = Prepared(Build(r), false), fused = Prepared(Build(r), true);
    EXPECT_EQ(Count(plain, "QuantizeLinear"), 2);
    ASSERT_EQ(fused.nodes.size(), 2u);  // QuantizeLinear of x, QcalQConv
    const Node& conv = fused.nodes[1];
    ASSERT_EQ(conv.inputs.size(), 12u);
    EXPECT_EQ(conv.inputs[9], "s");
    EXPECT_EQ(conv.inputs[10], "sy");
    EXPECT_EQ(conv.inputs[11], "zy");
    EXPECT_EQ(conv.outputs, (std::vector<std::string>{relu ? "y" : "a", "yq"}));
    ExpectSameResults(plain, fused, r);
  }
  // Only the quantized value is read: the float output becomes absent ("").
  const Residual r{.quantize = true, .float_output = false};
  const Graph plain = Prepared(Build(r), false), fused = Prepared(Build(r), true);
  ASSERT_EQ(fused.nodes.size(), 2u);
  EXPECT_EQ(fused.nodes[1].outputs, (std::vector<std::string>{"", "yq"}));
  ExpectSameResults(plain, fused, r);
}

TEST(FuseResidualTest, DownsampleBranchFusesOneOfTheTwoConvs) {
  const Residual r{.second_conv = true};
  const Graph plain = Prepared(Build(r), false), fused = Prepared(Build(r), true);
  EXPECT_EQ(Count(plain, "QcalQConv"), 2);
  EXPECT_EQ(Count(fused, "QcalQConv"), 2);
  EXPECT_EQ(Count(fused, "Add") + Count(fused, "Relu"), 0);
  ExpectSameResults(plain, fused, r);
}

TEST(FuseResidualTest, LeavesOtherPatternsAlone) {
  struct Case {
    Residual r;
    int adds, relus;
  };
  for (const Case& c : {Case{{.skip = {1, kCout, 1, 1}}, 1, 1},  // broadcasting Add
                        Case{{.conv_output = true}, 1, 1},       // conv output has a second consumer
                        Case{{.add_output = true}, 0, 1}}) {     // Add output is a graph output: no Relu
    const Graph plain = Prepared(Build(c.r), false), fused = Prepared(Build(c.r), true);
    EXPECT_EQ(Count(fused, "Add"), c.adds);
    EXPECT_EQ(Count(fused, "Relu"), c.relus);
    ExpectSameResults(plain, fused, c.r);
  }
}

}  // namespace
}  // namespace qcal
