// UnsignedActivations: int8 activations of a QDQ graph become uint8 ones with
// the zero points moved by 128; the graph's outputs stay bit-identical (on the
// reference kernels), and uses that cannot take uint8 leave the values int8.
#include "passes/unsigned_activations.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "kernels/registry.h"
#include "passes/shape_inference.h"
#include "runtime/executor.h"

namespace qcal {
namespace {

// x [2, 3, 6, 5] float -> Q (int8, zp -5) -> q, then `tail` adds the rest; y* are graph outputs.
struct QdqGraph {
  Graph g;
  QdqGraph() {
    g.inputs.push_back({"x", DataType::kFloat32, Shape{2, 3, 6, 5}});
    g.initializers["s"] = Tensor::Scalar<float>(0.02f);
    g.initializers["z"] = Tensor::Scalar<int8_t>(-5);
    g.initializers["z2"] = Tensor::Scalar<int8_t>(7);
    Add("QuantizeLinear", {"x", "s", "z"}, {"q"});
  }
  void Add(const std::string& op, std::vector<std::string> in, std::vector<std::string> out,
           Attributes a = {}) {
    g.nodes.push_back(Node{"n" + std::to_string(g.nodes.size()) + "_" + op, op, "", std::move(in),
                           std::move(out), std::move(a)});
  }
  void Output(const std::string& y, DataType t = DataType::kFloat32) {
    g.outputs.push_back({y, t, std::nullopt});
  }
  Graph Done() {
    EXPECT_TRUE(InferShapes(g).ok());
    return g;
  }
};

Tensor Input() {
  Tensor x(DataType::kFloat32, {2, 3, 6, 5});
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> d(-4.0f, 4.0f);  // beyond the int8 range at scale 0.02: saturates
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = d(gen);
  x.data<float>()[3] = NAN;
  x.data<float>()[4] = -0.0f;
  return x;
}

TensorMap RunOnReference(const Graph& g) {
  for (const char* p : {"dnnl", "x86"}) KernelRegistry::Global().SetProviderEnabled(p, false);
  auto ex = Executor::Create(g, {{"x", Shape{2, 3, 6, 5}}});
  for (const char* p : {"dnnl", "x86"}) KernelRegistry::Global().SetProviderEnabled(p, true);
  EXPECT_TRUE(ex.ok()) << ex.status().ToString();
  TensorMap out;
  if (ex.ok()) EXPECT_TRUE((*ex)->Run({{"x", Input()}}, &out).ok());
  return out;
}

// Runs the pass; expects `changed` QuantizeLinear nodes and the same output bytes as before.
Graph CheckIdentical(Graph g, size_t changed) {
  const TensorMap before = RunOnReference(g);
  auto done = UnsignedActivations(g);
  EXPECT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done.ok() ? done->size() : 0, changed);
  EXPECT_TRUE(InferShapes(g).ok());
  const TensorMap after = RunOnReference(g);
  EXPECT_EQ(before.size(), after.size());
  for (const auto& [name, t] : before) {
    EXPECT_TRUE(after.count(name)) << name;
    if (!after.count(name)) continue;
    const Tensor& a = after.at(name);
    EXPECT_EQ(a.dtype(), t.dtype()) << name;
    if (a.shape() != t.shape() || a.dtype() != t.dtype()) {
      ADD_FAILURE() << name << ": shape or type changed";
      continue;
    }
    EXPECT_EQ(std::memcmp(a.raw(), t.raw(), static_cast<size_t>(t.numel()) * DataTypeSize(t.dtype())), 0)
        << name;
  }
  return g;
}

TEST(UnsignedActivationsTest, MovesZeroPointsThroughDataMovementAndKeepsOutputs) {
  QdqGraph b;
  Attributes pool;
  pool.Set("kernel_shape", std::vector<int64_t>{2, 2});
  pool.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  b.Add("MaxPool", {"q"}, {"p"}, pool);
  b.g.initializers["shape"] = Tensor::FromVector<int64_t>({2, -1}, {2});
  b.Add("Reshape", {"p", "shape"}, {"r"});
  b.Add("DequantizeLinear", {"r", "s", "z"}, {"y1"});
  Attributes split;
  split.Set("axis", int64_t{1});
  split.Set("num_outputs", int64_t{2});
  b.g.initializers["parts"] = Tensor::FromVector<int64_t>({1, 2}, {2});
  b.Add("Split", {"q", "parts"}, {"a", "c"}, split);
  b.Add("DequantizeLinear", {"a", "s", "z"}, {"y2"});
  b.Add("DequantizeLinear", {"c", "s", "z2"}, {"y3"});  // another zero point: its own + 128
  for (const char* y : {"y1", "y2", "y3"}) b.Output(y);
  const Graph g = CheckIdentical(b.Done(), 1);
  for (const char* v : {"q", "p", "r", "a", "c"}) EXPECT_EQ(g.FindValueInfo(v)->dtype, DataType::kUint8) << v;
  EXPECT_EQ(g.FindInitializer(g.nodes[0].inputs[2])->GetAsInt64(0), 123);
  EXPECT_EQ(g.FindInitializer(g.nodes.back().inputs[2])->GetAsInt64(0), 135);
}

TEST(UnsignedActivationsTest, LeavesValuesWithOtherUsesInt8) {
  {  // the int8 value is a graph output
    QdqGraph b;
    b.Add("DequantizeLinear", {"q", "s", "z"}, {"y1"});
    b.Output("y1");
    b.Output("q", DataType::kInt8);
    CheckIdentical(b.Done(), 0);
  }
  {  // Concat is not followed (it would need every input converted alike)
    QdqGraph b;
    Attributes axis;
    axis.Set("axis", int64_t{1});
    b.Add("Concat", {"q", "q"}, {"k"}, axis);
    b.Add("DequantizeLinear", {"k", "s", "z"}, {"y1"});
    b.Output("y1");
    CheckIdentical(b.Done(), 0);
  }
  {  // a per-axis DequantizeLinear zero point
    QdqGraph b;
    b.g.initializers["sc"] = Tensor::FromVector<float>({0.02f, 0.03f, 0.04f}, {3});
    b.g.initializers["zc"] = Tensor::FromVector<int8_t>({-5, 0, 5}, {3});
    b.Add("DequantizeLinear", {"q", "sc", "zc"}, {"y1"});
    b.Output("y1");
    CheckIdentical(b.Done(), 0);
  }
}

}  // namespace
}  // namespace qcal
