// FuseQuantizedOps: QDQ layer patterns become QcalQConv / QcalQMatMul, and the
// fused graph computes the unfused QDQ graph's result within one output quantum
// (reference kernels on both sides, and the default providers).
#include "passes/fuse_quantized_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/registry.h"
#include "passes/dead_code_elimination.h"
#include "passes/shape_inference.h"
#include "runtime/executor.h"

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

enum class Layer { kConv, kGemmTransB, kMatMul };

struct Pattern {
  Layer layer = Layer::kConv;
  std::string activation = "";  // "", "Relu", "Clip"
  bool quantize_output = true;  // a Q -> DQ pair after the layer (the next layer's input)
  bool per_channel = true;
  DataType act_type = DataType::kUint8;
  bool extra_consumer = false;  // the layer/activation output also feeds the graph output
};

// x -> Q -> DQ -> layer(DQ(W), DQ(B)) [-> act] [-> Q -> DQ] -> y
Graph Build(const Pattern& p) {
  Graph g;
  g.name = "qdq";
  const int64_t cin = 6, cout = 5;
  const bool conv = p.layer == Layer::kConv;
  const float sx = 0.02f;
  const bool u8 = p.act_type == DataType::kUint8;
  g.inputs.push_back({"x", DataType::kFloat32, conv ? Shape{2, cin, 7, 6} : Shape{3, cin}});
  g.initializers["sx"] = Tensor::Scalar<float>(sx);
  g.initializers["zx"] = u8 ? Tensor::Scalar<uint8_t>(120) : Tensor::Scalar<int8_t>(-8);
  Shape w_shape = conv                            ? Shape{cout, cin, 3, 3}
                  : p.layer == Layer::kGemmTransB ? Shape{cout, cin}
                                                  : Shape{cin, cout};
  const int64_t w_axis = p.layer == Layer::kMatMul ? 1 : 0;
  g.initializers["wq"] = RandomInt8(w_shape, 1);
  std::vector<float> sw;
  for (int64_t m = 0; m < (p.per_channel ? cout : 1); ++m) sw.push_back(0.004f + 0.001f * m);
  g.initializers["sw"] = p.per_channel ? Tensor::FromVector<float>(sw, {cout}) : Tensor::Scalar<float>(sw[0]);
  g.initializers["zw"] = Tensor(DataType::kInt8, g.initializers["sw"].shape());
  std::vector<float> sb;
  for (int64_t m = 0; m < cout; ++m) sb.push_back(sx * sw[p.per_channel ? m : 0]);
  g.initializers["bq"] = Tensor::FromVector<int32_t>({300, -1200, 45, 7000, -60}, {cout});
  g.initializers["sb"] = Tensor::FromVector<float>(sb, {cout});
  g.initializers["sy"] = Tensor::Scalar<float>(0.05f);
  g.initializers["zy"] = u8 ? Tensor::Scalar<uint8_t>(3) : Tensor::Scalar<int8_t>(-100);

  Node wdq{"w_dq", "DequantizeLinear", "", {"wq", "sw", "zw"}, {"w"}, {}};
  if (p.per_channel) wdq.attrs.Set("axis", w_axis);
  Node bdq{"b_dq", "DequantizeLinear", "", {"bq", "sb"}, {"b"}, {}};
  bdq.attrs.Set("axis", int64_t{0});
  g.nodes = {Node{"x_q", "QuantizeLinear", "", {"x", "sx", "zx"}, {"xq"}, {}},
             Node{"x_dq", "DequantizeLinear", "", {"xq", "sx", "zx"}, {"xd"}, {}}, wdq, bdq};
  Node layer{"layer", conv ? "Conv" : p.layer == Layer::kMatMul ? "MatMul" : "Gemm", "", {"xd", "w"}, {"t0"},
             {}};
  if (p.layer != Layer::kMatMul) layer.inputs.push_back("b");
  if (conv) layer.attrs.Set("pads", std::vector<int64_t>{1, 1, 0, 1});
  if (p.layer == Layer::kGemmTransB) layer.attrs.Set("transB", int64_t{1});
  g.nodes.push_back(layer);
  std::string out = "t0";
  if (p.activation == "Relu") {
    g.nodes.push_back(Node{"act", "Relu", "", {out}, {"t1"}, {}});
    out = "t1";
  } else if (p.activation == "Clip") {
    g.initializers["lo"] = Tensor::Scalar<float>(-0.5f);
    g.initializers["hi"] = Tensor::Scalar<float>(1.5f);
    g.nodes.push_back(Node{"act", "Clip", "", {out, "lo", "hi"}, {"t1"}, {}});
    out = "t1";
  }
  if (p.extra_consumer) g.outputs.push_back({out, DataType::kFloat32, std::nullopt});
  if (p.quantize_output) {
    g.nodes.push_back(Node{"y_q", "QuantizeLinear", "", {out, "sy", "zy"}, {"yq"}, {}});
    g.nodes.push_back(Node{"y_dq", "DequantizeLinear", "", {"yq", "sy", "zy"}, {"y"}, {}});
    out = "y";
  }
  if (!p.extra_consumer || p.quantize_output) g.outputs.push_back({out, DataType::kFloat32, std::nullopt});
  EXPECT_TRUE(InferShapes(g).ok());
  return g;
}

TensorMap Run(const Graph& g, const Tensor& x) {
  auto ex = Executor::Create(g);
  EXPECT_TRUE(ex.ok()) << ex.status().ToString();
  TensorMap out;
  if (!ex.ok()) return out;
  Status st = (*ex)->Run({{"x", x}}, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

// Every output agrees within `tol` (one quantum for quantized outputs).
void ExpectClose(const TensorMap& a, const TensorMap& b, double tol) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    const Tensor& u = b.at(name);
    ASSERT_EQ(t.shape(), u.shape()) << name;
    int64_t off = 0;
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double d = std::fabs(t.GetAsDouble(i) - u.GetAsDouble(i));
      EXPECT_LE(d, tol * (1 + 1e-4)) << name << " element " << i;
      off += d > 1e-7;
    }
    if (tol > 1e-3) {
      EXPECT_LE(off, t.numel() / 20) << name << ": too many elements one quantum off";
    }
  }
}

// Fuses, checks the fused node, and compares the fused and unfused graphs on
// the reference kernels and on the default providers.
void CheckPattern(const Pattern& p, bool expect_quantized_output, size_t expect_absorbed) {
  const Graph plain = Build(p);
  Graph fused = plain;
  auto r = FuseQuantizedOps(fused);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].fused_op, p.layer == Layer::kConv ? "QcalQConv" : "QcalQMatMul");
  EXPECT_EQ((*r)[0].quantized_output, expect_quantized_output);
  EXPECT_EQ((*r)[0].absorbed.size(), expect_absorbed);
  ASSERT_TRUE(EliminateDeadCode(fused).ok());
  ASSERT_TRUE(InferShapes(fused).ok());
  ASSERT_TRUE(VerifyGraph(fused).ok());
  for (const Node& n : fused.nodes) {
    EXPECT_TRUE(n.op_type != "Conv" && n.op_type != "Gemm" && n.op_type != "MatMul") << n.name;
    if (n.op_type == "DequantizeLinear") {
      EXPECT_EQ(n.name, "y_dq");  // weight / bias / x DQs are gone
    }
  }
  const Tensor x = RandomFloats(plain.inputs[0].shape.value(), 9, -2.0f, 2.5f);
  const double quantum = expect_quantized_output ? 0.05 : 2e-5;
  auto& reg = KernelRegistry::Global();
  reg.SetProviderEnabled("dnnl", false);
  const TensorMap ref_plain = Run(plain, x), ref_fused = Run(fused, x);
  reg.SetProviderEnabled("dnnl", true);
  ExpectClose(ref_fused, ref_plain, quantum);
  ExpectClose(Run(fused, x), ref_fused, 0);  // default providers: bit-exact against the reference
  auto ex = Executor::Create(fused);
  ASSERT_TRUE(ex.ok());
  for (size_t i = 0; i < fused.nodes.size(); ++i) {
    if (fused.nodes[i].op_type.rfind("QcalQ", 0) == 0) {
      EXPECT_EQ((*ex)->providers()[i], "dnnl");
    }
  }
  ExpectClose(Run(plain, x), ref_plain, expect_quantized_output ? 0.05 : 2e-5);
}

TEST(FuseQuantizedOpsTest, ConvReluQuantizePerChannelU8) { CheckPattern({.activation = "Relu"}, true, 2); }

TEST(FuseQuantizedOpsTest, ConvClipQuantizePerTensorS8) {
  CheckPattern({.activation = "Clip", .per_channel = false, .act_type = DataType::kInt8}, true, 2);
}

TEST(FuseQuantizedOpsTest, ConvWithoutQuantizeOutputsFloat) {
  CheckPattern({.quantize_output = false}, false, 0);
  CheckPattern({.activation = "Relu", .quantize_output = false}, false, 1);
}

TEST(FuseQuantizedOpsTest, SecondConsumerKeepsTheFloatValueAndTheQBecomesASecondOutput) {
  // The Relu output is also a graph output: the fused node absorbs Relu and outputs
  // float; the Q becomes its second output Yq (quantized copy), compared above
  // against the unfused graph and bit for bit against the reference kernel.
  const Pattern p{.activation = "Relu", .extra_consumer = true};
  CheckPattern(p, false, 2);
  Graph g = Build(p);
  auto r = FuseQuantizedOps(g);
  ASSERT_TRUE(r.ok() && r->size() == 1u);
  EXPECT_TRUE((*r)[0].quantized_copy);
  size_t qs = 0;
  for (const Node& n : g.nodes) {
    qs += n.op_type == "QuantizeLinear";
    if (n.op_type == "QcalQConv") {
      ASSERT_EQ(n.outputs.size(), 2u);
      ASSERT_EQ(n.inputs.size(), 12u);
      EXPECT_TRUE(n.inputs[9].empty());  // no residual input
    }
  }
  EXPECT_EQ(qs, 1u);  // x's own QuantizeLinear
  // Without the option the Q stays.
  Graph h = Build(p);
  r = FuseQuantizedOps(h, {.quantized_copy = false});
  ASSERT_TRUE(r.ok() && r->size() == 1u);
  EXPECT_FALSE((*r)[0].quantized_copy);
  EXPECT_EQ((*r)[0].absorbed.size(), 1u);
  qs = 0;
  for (const Node& n : h.nodes) qs += n.op_type == "QuantizeLinear";
  EXPECT_EQ(qs, 2u);
}

TEST(FuseQuantizedOpsTest, GemmTransBAndMatMul) {
  CheckPattern({.layer = Layer::kGemmTransB, .activation = "Relu"}, true, 2);
  CheckPattern({.layer = Layer::kMatMul, .act_type = DataType::kInt8}, true, 1);
  CheckPattern({.layer = Layer::kGemmTransB, .quantize_output = false}, false, 0);
}

TEST(FuseQuantizedOpsTest, LeavesNonMatchingPatternsAlone) {
  Graph g = Build({});
  g.initializers["sb"].data<float>()[2] *= 1.01f;  // bias scale is not x_scale * w_scale
  auto r = FuseQuantizedOps(g);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  Graph h = Build({});
  h.initializers["wf"] = RandomFloats({5, 6, 3, 3}, 3, -1, 1);  // float weights (fake-quant model)
  for (Node& n : h.nodes) {
    if (n.op_type == "Conv") n.inputs[1] = "wf";
  }
  r = FuseQuantizedOps(h);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

}  // namespace
}  // namespace qcal
