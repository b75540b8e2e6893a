// HoistQuantizeLinear: QuantizeLinear moves up through ops that commute with it,
// the transformed graph computes exactly the original graph's outputs, and with
// FuseQuantizedOps afterwards (PrepareModel) the layers absorb the moved
// QuantizeLinear and the outputs stay within one quantum.
#include "passes/hoist_quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>

#include "kernels/registry.h"
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

Tensor Ints(std::vector<int64_t> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return Tensor::FromVector<int64_t>(std::move(v), {n});
}

// A graph under construction: float inputs, a uint8 per-tensor Q parameter pair
// ("s", "z") and a second one ("s2", "z2").
struct Builder {
  Graph g;
  Builder() {
    g.initializers["s"] = Tensor::Scalar<float>(0.02f);
    g.initializers["z"] = Tensor::Scalar<uint8_t>(100);
    g.initializers["s2"] = Tensor::Scalar<float>(0.03f);
    g.initializers["z2"] = Tensor::Scalar<uint8_t>(100);
  }
  void Input(const std::string& name, Shape shape) { g.inputs.push_back({name, DataType::kFloat32, shape}); }
  void Add(const std::string& op, std::vector<std::string> in, std::vector<std::string> out,
           Attributes a = {}) {
    g.nodes.push_back(Node{"n" + std::to_string(g.nodes.size()) + "_" + op, op, "", std::move(in),
                           std::move(out), std::move(a)});
  }
  // v -> Q(scale, zp) -> DQ -> graph output `y`.
  void QdqOutput(const std::string& v, const std::string& y, const std::string& s = "s",
                 const std::string& z = "z") {
    Add("QuantizeLinear", {v, s, z}, {y + "_q"});
    Add("DequantizeLinear", {y + "_q", s, z}, {y});
    g.outputs.push_back({y, DataType::kFloat32, std::nullopt});
  }
  Graph Done() {
    EXPECT_TRUE(InferShapes(g).ok());
    return g;
  }
};

TensorMap RunGraph(const Graph& g, const TensorMap& inputs) {
  auto ex = Executor::Create(g);
  EXPECT_TRUE(ex.ok()) << ex.status().ToString();
  TensorMap out;
  if (!ex.ok()) return out;
  Status st = (*ex)->Run(inputs, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

TensorMap RandomInputs(const Graph& g, uint32_t seed) {
  TensorMap in;
  for (const auto& v : g.inputs) in[v.name] = RandomFloats(*v.shape, seed++, -2.0f, 3.0f);
  return in;
}

// Index of the first node of op type `op`, -1 if none.
int IndexOf(const Graph& g, const std::string& op) {
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].op_type == op) return static_cast<int>(i);
  }
  return -1;
}

void ExpectQuantizedOutput(const Graph& g, const Node& n) {
  const ValueInfo* vi = g.FindValueInfo(n.outputs[0]);
  ASSERT_NE(vi, nullptr) << n.name;
  EXPECT_EQ(vi->dtype, DataType::kUint8) << n.name;
}

int Count(const Graph& g, const std::string& op) {
  int n = 0;
  for (const Node& node : g.nodes) n += node.op_type == op;
  return n;
}

// Bit-identical float outputs.
void ExpectSameOutputs(const TensorMap& got, const TensorMap& want) {
  EXPECT_EQ(got.size(), want.size());
  for (const auto& [name, t] : want) {
    ASSERT_TRUE(got.count(name)) << name;
    const Tensor& u = got.at(name);
    ASSERT_EQ(t.shape(), u.shape()) << name;
    EXPECT_EQ(0, std::memcmp(t.raw(), u.raw(), static_cast<size_t>(t.numel()) * sizeof(float))) << name;
  }
}

// Value infos the pass left agree with a fresh inference.
void ExpectConsistentTypes(const Graph& g) {
  Graph reinferred = g;
  ASSERT_TRUE(InferShapes(reinferred).ok());
  for (const auto& [name, vi] : g.value_info) {
    const ValueInfo* r = reinferred.FindValueInfo(name);
    if (r == nullptr) continue;
    EXPECT_EQ(vi.dtype, r->dtype) << name;
    EXPECT_EQ(vi.shape, r->shape) << name;
  }
}

// Hoists, checks the graph is valid and types are consistent, and that it
// computes bit-identical outputs (reference and default providers).
Graph HoistAndCompare(const Graph& original, size_t expect_moves) {
  Graph g = original;
  auto moves = HoistQuantizeLinear(g);
  EXPECT_TRUE(moves.ok()) << moves.status().ToString();
  if (!moves.ok()) return g;
  EXPECT_EQ(moves->size(), expect_moves);
  EXPECT_TRUE(VerifyGraph(g).ok());
  ExpectConsistentTypes(g);
  const TensorMap in = RandomInputs(original, 5);
  const TensorMap want = RunGraph(original, in);
  auto& reg = KernelRegistry::Global();
  for (bool optimized : {false, true}) {
    reg.SetProviderEnabled("dnnl", optimized);
    reg.SetProviderEnabled("x86", optimized);
    ExpectSameOutputs(RunGraph(g, in), want);
  }
  return g;
}

TEST(HoistQuantizeTest, ClimbsAChannelShuffle) {
  Builder b;
  b.Input("x", {1, 8, 3, 5});
  b.g.initializers["shape5"] = Ints({1, 2, 4, 3, 5});
  b.g.initializers["shape4"] = Ints({1, 8, 3, 5});
  Attributes perm;
  perm.Set("perm", std::vector<int64_t>{0, 2, 1, 3, 4});
  b.Add("Reshape", {"x", "shape5"}, {"r1"});
  b.Add("Transpose", {"r1"}, {"t"}, perm);
  b.Add("Reshape", {"t", "shape4"}, {"r2"});
  b.QdqOutput("r2", "y");
  const Graph g = HoistAndCompare(b.Done(), 3);
  // Q now reads the graph input; the data movement runs on uint8.
  ASSERT_EQ(g.nodes[0].op_type, "QuantizeLinear");
  EXPECT_EQ(g.nodes[0].inputs[0], "x");
  EXPECT_EQ(Count(g, "QuantizeLinear"), 1);
  for (const Node& n : g.nodes) {
    if (n.op_type == "Reshape" || n.op_type == "Transpose") ExpectQuantizedOutput(g, n);
  }
  EXPECT_EQ(g.nodes[static_cast<size_t>(IndexOf(g, "DequantizeLinear"))].inputs[0], "y_q");
}

TEST(HoistQuantizeTest, ConcatQuantizesEveryInputAndFlattenFollows) {
  Builder b;
  b.Input("a", {1, 3, 6, 6});
  b.Input("c", {1, 2, 6, 6});
  Attributes axis;
  axis.Set("axis", int64_t{1});
  b.Add("Relu", {"a"}, {"ra"});
  b.Add("Relu", {"c"}, {"rc"});
  b.Add("Concat", {"ra", "rc", "ra"}, {"cat"}, axis);  // the same input twice gets one Q
  b.Add("Flatten", {"cat"}, {"f"});
  b.QdqOutput("f", "y");
  const Graph g = HoistAndCompare(b.Done(), 2);
  EXPECT_EQ(Count(g, "QuantizeLinear"), 2);
  const Node& cat = g.nodes[static_cast<size_t>(IndexOf(g, "Concat"))];
  EXPECT_EQ(cat.inputs[0], cat.inputs[2]);
  for (const Node& n : g.nodes) {
    if (n.op_type == "Concat" || n.op_type == "Flatten") ExpectQuantizedOutput(g, n);
  }
}

TEST(HoistQuantizeTest, SplitAndSliceWhenEveryOutputIsQuantizedAlike) {
  Builder b;
  b.Input("x", {2, 6, 4});
  Attributes axis;
  axis.Set("axis", int64_t{1});
  b.g.initializers["starts"] = Ints({1});
  b.g.initializers["ends"] = Ints({3});
  b.g.initializers["axes"] = Ints({2});
  b.Add("Unsqueeze", {"x", "axes"}, {"u"});  // [2, 6, 4, 1]... axes 2: [2, 6, 1, 4]
  b.Add("Squeeze", {"u", "axes"}, {"sq"});
  b.Add("Identity", {"sq"}, {"id"});
  b.Add("Split", {"id"}, {"p0", "p1"}, axis);
  b.Add("Slice", {"p1", "starts", "ends", "axes"}, {"sl"});
  b.QdqOutput("p0", "y0");
  b.QdqOutput("sl", "y1");
  // Two equivalent Qs on one value are merged.
  b.Add("QuantizeLinear", {"sl", "s", "z"}, {"y2_q"});
  b.Add("DequantizeLinear", {"y2_q", "s", "z"}, {"y2"});
  b.g.outputs.push_back({"y2", DataType::kFloat32, std::nullopt});
  const Graph g = HoistAndCompare(b.Done(), 5);
  EXPECT_EQ(Count(g, "QuantizeLinear"), 1);
  EXPECT_EQ(g.nodes[0].op_type, "QuantizeLinear");
  EXPECT_EQ(g.nodes[0].inputs[0], "x");
}

TEST(HoistQuantizeTest, LeavesNonCommutingCasesAlone) {
  const auto expect_no_move = [](const Graph& g, const char* what) {
    Graph h = g;
    auto moves = HoistQuantizeLinear(h);
    ASSERT_TRUE(moves.ok());
    EXPECT_TRUE(moves->empty()) << what << ": moved above " << (*moves)[0].node;
  };
  const auto chain = [](const std::function<void(Builder&)>& tweak) {
    Builder b;
    b.Input("x", {2, 6});
    b.g.initializers["shape"] = Ints({3, 4});
    b.Add("Reshape", {"x", "shape"}, {"r"});
    tweak(b);
    return b.Done();
  };
  expect_no_move(chain([](Builder& b) {
                   b.QdqOutput("r", "y");
                   b.Add("Relu", {"r"}, {"extra"});  // a second, float consumer
                   b.g.outputs.push_back({"extra", DataType::kFloat32, std::nullopt});
                 }),
                 "second consumer");
  expect_no_move(chain([](Builder& b) {
                   b.QdqOutput("r", "y");
                   b.g.outputs.push_back({"r", DataType::kFloat32, std::nullopt});  // graph output in between
                 }),
                 "graph output");
  expect_no_move(chain([](Builder& b) {
                   b.QdqOutput("r", "y");
                   b.QdqOutput("r", "y2", "s2", "z2");  // a second Q with another scale
                 }),
                 "different quantizers");
  expect_no_move(chain([](Builder& b) {
                   b.g.initializers["sa"] = Tensor::FromVector<float>({0.1f, 0.2f, 0.3f}, {3});
                   b.g.initializers["za"] = Tensor::FromVector<uint8_t>({1, 2, 3}, {3});
                   Attributes a;
                   a.Set("axis", int64_t{0});
                   b.Add("QuantizeLinear", {"r", "sa", "za"}, {"q"}, a);  // per-axis
                   b.g.outputs.push_back({"q", DataType::kUint8, std::nullopt});
                 }),
                 "per-axis");
  expect_no_move(chain([](Builder& b) {
                   b.Add("Relu", {"r"}, {"rr"});  // not in the table
                   b.QdqOutput("rr", "y");
                 }),
                 "Relu");
  // Split with one output not quantized.
  Builder b;
  b.Input("x", {2, 6});
  Attributes axis;
  axis.Set("axis", int64_t{1});
  b.Add("Split", {"x"}, {"p0", "p1"}, axis);
  b.QdqOutput("p1", "y");
  b.g.outputs.push_back({"p0", DataType::kFloat32, std::nullopt});
  expect_no_move(b.Done(), "split");
}

// x -> Q -> DQ -> Conv(DQ(W), DQ(B)) -> Relu -> (name)
void QdqConvRelu(Builder& b, const std::string& in, const std::string& name, int64_t cin, int64_t cout,
                 uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(-100, 100);
  Tensor w(DataType::kInt8, {cout, cin, 3, 3});
  for (int64_t i = 0; i < w.numel(); ++i) w.data<int8_t>()[i] = static_cast<int8_t>(d(rng));
  Tensor bias(DataType::kInt32, {cout});
  for (int64_t i = 0; i < cout; ++i) bias.data<int32_t>()[i] = 50 * d(rng);
  b.g.initializers[name + "_w"] = w;
  b.g.initializers[name + "_ws"] = Tensor::Scalar<float>(0.004f);
  b.g.initializers[name + "_wz"] = Tensor::Scalar<int8_t>(0);
  b.g.initializers[name + "_b"] = bias;
  b.g.initializers[name + "_bs"] = Tensor::Scalar<float>(0.02f * 0.004f);
  b.Add("QuantizeLinear", {in, "s", "z"}, {name + "_xq"});
  b.Add("DequantizeLinear", {name + "_xq", "s", "z"}, {name + "_x"});
  b.Add("DequantizeLinear", {name + "_w", name + "_ws", name + "_wz"}, {name + "_wd"});
  b.Add("DequantizeLinear", {name + "_b", name + "_bs"}, {name + "_bd"});
  Attributes pads;
  pads.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  b.Add("Conv", {name + "_x", name + "_wd", name + "_bd"}, {name + "_c"}, pads);
  b.Add("Relu", {name + "_c"}, {name});
}

TEST(HoistQuantizeTest, FusedLayersAbsorbTheMovedQuantize) {
  // Two quantized conv+relu branches -> Concat -> Reshape -> Q -> DQ -> a third conv.
  Builder b;
  b.Input("x", {1, 4, 6, 6});
  b.g.initializers["shape"] = Ints({1, 10, 6, 6});
  Attributes axis;
  axis.Set("axis", int64_t{1});
  QdqConvRelu(b, "x", "c1", 4, 6, 1);
  QdqConvRelu(b, "x", "c2", 4, 4, 2);
  b.Add("Concat", {"c1", "c2"}, {"cat"}, axis);
  b.Add("Reshape", {"cat", "shape"}, {"r"});
  QdqConvRelu(b, "r", "c3", 10, 3, 3);
  b.g.outputs.push_back({"c3", DataType::kFloat32, std::nullopt});
  const Graph original = b.Done();
  Graph fused = original, unfused = original;
  LoadOptions on, off;
  off.fuse_quantized_ops = false;
  ASSERT_TRUE(PrepareModel(fused, on, "test").ok());
  ASSERT_TRUE(PrepareModel(unfused, off, "test").ok());
  EXPECT_EQ(Count(unfused, "QuantizeLinear"), 3);  // off together with the fusion
  EXPECT_EQ(Count(fused, "QuantizeLinear"), 2);    // only the two of the graph input
  EXPECT_EQ(Count(fused, "QcalQConv"), 3);
  for (const Node& n : fused.nodes) {
    if (n.op_type == "Concat" || n.op_type == "Reshape") ExpectQuantizedOutput(fused, n);
  }
  const TensorMap in = RandomInputs(original, 7);
  const TensorMap want = RunGraph(unfused, in), got = RunGraph(fused, in);
  const Tensor& y = want.at("c3");
  const Tensor& z = got.at("c3");
  ASSERT_EQ(y.shape(), z.shape());
  // Within one quantum of the last layer's input (0.02) propagated through a 3x3x10 conv
  // (|w| <= 100 * 0.004), plus float rounding; most elements agree exactly.
  int exact = 0;
  for (int64_t i = 0; i < y.numel(); ++i) {
    const float d = std::fabs(y.data<float>()[i] - z.data<float>()[i]);
    EXPECT_LE(d, 0.02f * 0.4f * 90 + 1e-3f) << i;
    exact += d <= 1e-4f * (1 + std::fabs(y.data<float>()[i]));
  }
  EXPECT_GE(exact, y.numel() / 2);
}

}  // namespace
TEST(HoistQuantizeTest, ClimbsAboveMaxPool) {
  for (const char* zp : {"z", "zi"}) {  // uint8 and int8 Q
    Builder b;
    b.g.initializers["zi"] = Tensor::Scalar<int8_t>(-20);
    b.Input("x", {2, 5, 9, 7});
    Attributes a;
    a.Set("kernel_shape", std::vector<int64_t>{3, 3});
    a.Set("strides", std::vector<int64_t>{2, 2});
    a.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
    a.Set("ceil_mode", int64_t{1});
    b.Add("MaxPool", {"x"}, {"p"}, a);
    b.QdqOutput("p", "y", "s", zp);
    const Graph g = HoistAndCompare(b.Done(), 1);
    ASSERT_EQ(g.nodes[0].op_type, "QuantizeLinear");
    EXPECT_EQ(g.nodes[0].inputs[0], "x");
    const Node& pool = g.nodes[static_cast<size_t>(IndexOf(g, "MaxPool"))];
    const ValueInfo* vi = g.FindValueInfo(pool.outputs[0]);
    ASSERT_NE(vi, nullptr);
    EXPECT_EQ(vi->dtype, std::string(zp) == "z" ? DataType::kUint8 : DataType::kInt8);
  }
}

TEST(HoistQuantizeTest, NotAboveAveragePoolOrAMaxPoolWithAFloatReader) {
  for (const char* op : {"AveragePool", "MaxPool"}) {
    Builder b;
    b.Input("x", {1, 3, 6, 6});
    Attributes a;
    a.Set("kernel_shape", std::vector<int64_t>{2, 2});
    b.Add(op, {"x"}, {"p"}, a);
    b.QdqOutput("p", "y");
    if (std::string(op) == "MaxPool") {  // a second, float reader of the pooled values
      b.Add("Relu", {"p"}, {"r"});
      b.g.outputs.push_back({"r", DataType::kFloat32, std::nullopt});
    }
    Graph g = b.Done();
    auto moves = HoistQuantizeLinear(g);
    ASSERT_TRUE(moves.ok());
    EXPECT_TRUE(moves->empty()) << op;
  }
}

TEST(HoistQuantizeTest, MaxPoolBetweenQuantizedConvsRunsOn8BitValues) {
  // conv+relu -> MaxPool -> Q -> DQ -> conv: the Q climbs above the MaxPool into
  // the first conv, the pool runs on uint8 (NHWC between the int8 convs, oneDNN),
  // and every provider computes the same bytes.
  Builder b;
  b.Input("x", {1, 5, 11, 9});
  QdqConvRelu(b, "x", "c1", 5, 19, 4);
  Attributes a;
  a.Set("kernel_shape", std::vector<int64_t>{3, 3});
  a.Set("strides", std::vector<int64_t>{2, 2});
  a.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  b.Add("MaxPool", {"c1"}, {"p"}, a);
  QdqConvRelu(b, "p", "c2", 19, 6, 5);
  b.g.outputs.push_back({"c2", DataType::kFloat32, std::nullopt});
  Graph fused = b.Done();
  ASSERT_TRUE(PrepareModel(fused, LoadOptions{}, "test").ok());
  EXPECT_EQ(Count(fused, "QcalQConv"), 2);
  EXPECT_EQ(Count(fused, "QuantizeLinear"), 1);  // the graph input's
  const Node& pool = fused.nodes[static_cast<size_t>(IndexOf(fused, "MaxPool"))];
  ExpectQuantizedOutput(fused, pool);
  const TensorMap in = RandomInputs(fused, 9);
  auto& reg = KernelRegistry::Global();
  reg.SetProviderEnabled("dnnl", false);
  reg.SetProviderEnabled("x86", false);
  const TensorMap want = RunGraph(fused, in);
  reg.SetProviderEnabled("dnnl", true);
  reg.SetProviderEnabled("x86", true);
  auto ex = Executor::Create(fused);
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  EXPECT_GE((*ex)->blocked_values(), 2);  // the first conv's and the pool's outputs stay NHWC
  TensorMap got;
  ASSERT_TRUE((*ex)->Run(in, &got).ok());
  ExpectSameOutputs(got, want);
}

}  // namespace qcal
