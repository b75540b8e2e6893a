// Conv fusion pass (passes/fuse_conv.h) and the executor's fused inference
// path: fused == unfused results, blocked patterns stay unfused, observers and
// extra outputs still see every value, pooled buffers never clobber outputs.
#include "passes/fuse_conv.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "kernels/fused_activation.h"
#include "kernels/nn_test_util.h"
#include "passes/shape_inference.h"
#include "runtime/executor.h"

namespace qcal {
namespace {

using testing::AllClose;
using testing::RandomFloat;

Node MakeConv(const std::string& name, std::vector<std::string> in, const std::string& out, int64_t pad) {
  Node n{name, "Conv", "", std::move(in), {out}, {}};
  n.attrs.Set("pads", std::vector<int64_t>{pad, pad, pad, pad});
  return n;
}

// x -> c1 -> r1 -> a1 -> c2 -> t2 -> add(t2, a1) -> r2 -> y1 -> c3 -> t3 -> clip -> y
Graph ResidualGraph() {
  Graph g;
  g.name = "residual";
  g.inputs.push_back({"x", DataType::kFloat32, Shape{-1, 5, 9, 7}});
  g.initializers["w1"] = RandomFloat({6, 5, 3, 3}, 1);
  g.initializers["b1"] = RandomFloat({6}, 2);
  g.initializers["w2"] = RandomFloat({6, 6, 3, 3}, 3);
  g.initializers["b2"] = RandomFloat({6}, 4);
  g.initializers["w3"] = RandomFloat({4, 6, 1, 1}, 5);
  g.initializers["lo"] = Tensor::Scalar(-0.5f);
  g.initializers["hi"] = Tensor::Scalar(0.75f);
  g.nodes = {MakeConv("c1", {"x", "w1", "b1"}, "t1", 1),
             Node{"r1", "Relu", "", {"t1"}, {"a1"}, {}},
             MakeConv("c2", {"a1", "w2", "b2"}, "t2", 1),
             Node{"add", "Add", "", {"t2", "a1"}, {"s"}, {}},
             Node{"r2", "Relu", "", {"s"}, {"y1"}, {}},
             MakeConv("c3", {"y1", "w3"}, "t3", 0),
             Node{"clip", "Clip", "", {"t3", "lo", "hi"}, {"y"}, {}}};
  g.outputs.push_back({"y", DataType::kFloat32, std::nullopt});
  return g;
}

std::multiset<std::string> OpTypes(const Graph& g) {
  std::multiset<std::string> ops;
  for (const auto& n : g.nodes) ops.insert(n.op_type);
  return ops;
}

Graph Fused(Graph g, const ConvFusionOptions& options = {}, ConvFusionStats* stats = nullptr) {
  EXPECT_TRUE(InferShapes(g).ok());
  Status st = FuseConvForInference(g, options, stats);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return g;
}

TensorMap RunGraph(const Graph& g, const Tensor& x, ExecutorOptions options = {}) {
  auto ex = Executor::Create(g, {}, options);
  EXPECT_TRUE(ex.ok()) << ex.status().ToString();
  TensorMap out;
  Status st = (*ex)->Run({{"x", x}}, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

TEST(FuseConvTest, FusesActivationResidualAddAndClip) {
  ConvFusionStats stats;
  Graph g = Fused(ResidualGraph(), {}, &stats);
  EXPECT_EQ(OpTypes(g), (std::multiset<std::string>{"FusedConv", "FusedConv", "FusedConv"}));
  EXPECT_EQ(stats.fused_activations, 3);
  EXPECT_EQ(stats.fused_adds, 1);
  const Node* c2 = g.FindNode("c2");
  ASSERT_NE(c2, nullptr);
  EXPECT_EQ(c2->inputs, (std::vector<std::string>{"a1", "w2", "b2", "a1"}));
  EXPECT_EQ(c2->outputs, (std::vector<std::string>{"y1"}));
  EXPECT_EQ(c2->attrs.GetString("activation", ""), "Relu");
  const Node* c3 = g.FindNode("c3");
  ASSERT_NE(c3, nullptr);
  EXPECT_EQ(c3->attrs.GetString("activation", ""), "Clip");
  EXPECT_EQ(c3->attrs.GetFloats("activation_params"), (std::vector<float>{-0.5f, 0.75f}));
  EXPECT_EQ(g.FindValueInfo("t2"), nullptr);  // fused-away values leave value_info
}

TEST(FuseConvTest, FusedExecutionMatchesUnfused) {
  const Graph g = ResidualGraph();
  const Tensor x = RandomFloat({3, 5, 9, 7}, 9);
  ExecutorOptions plain;
  plain.fuse = false;
  TensorMap want = RunGraph(g, x, plain);
  auto ex = Executor::Create(g);
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  EXPECT_EQ(OpTypes((*ex)->executed_graph()).count("FusedConv"), 3u);
  TensorMap got;
  ASSERT_TRUE((*ex)->Run({{"x", x}}, &got).ok());
  EXPECT_TRUE(AllClose(got.at("y"), want.at("y"), 1e-5, 1e-4));
}

TEST(FuseConvTest, KeptValuesAndGraphOutputsBlockFusion) {
  ConvFusionOptions keep;
  keep.keep_values = {"t1", "s"};
  Graph g = Fused(ResidualGraph(), keep);
  // c1's output and the Add's output must stay: c1 alone, c2 absorbs only the Add.
  EXPECT_EQ(OpTypes(g), (std::multiset<std::string>{"Conv", "Relu", "FusedConv", "Relu", "FusedConv"}));
  EXPECT_EQ(g.FindNode("c2")->outputs[0], "s");

  Graph out = ResidualGraph();
  out.outputs.push_back({"t3", DataType::kFloat32, std::nullopt});
  EXPECT_EQ(OpTypes(Fused(out)).count("Clip"), 1u);
}

TEST(FuseConvTest, SharedValuesBroadcastAddsAndUnknownBoundsStayUnfused) {
  Graph g = ResidualGraph();
  g.nodes.push_back(Node{"other", "Relu", "", {"t1"}, {"t1b"}, {}});  // t1 now has two consumers
  g.outputs.push_back({"t1b", DataType::kFloat32, std::nullopt});
  g.initializers["bias"] = RandomFloat({1, 6, 1, 1}, 7);
  g.nodes[3].inputs = {"t2", "bias"};  // broadcasting Add: not a residual sum
  g.nodes[6].inputs[1] = "x_lo";       // Clip bound computed at run time
  g.inputs.push_back({"x_lo", DataType::kFloat32, Shape{}});
  Graph f = Fused(g);
  EXPECT_EQ(f.FindNode("c1")->op_type, "Conv");
  EXPECT_EQ(f.FindNode("c3")->op_type, "Conv");
  EXPECT_NE(f.FindNode("add"), nullptr);
  // c2's chain stops at the broadcast Add (no activation directly after the conv).
  EXPECT_EQ(f.FindNode("c2")->op_type, "Conv");
}

TEST(FuseConvTest, ConvFedByDequantizeLinearIsLeftToInt8Fusions) {
  Graph g;
  g.inputs.push_back({"q", DataType::kUint8, Shape{1, 2, 5, 5}});
  g.initializers["scale"] = Tensor::Scalar(0.1f);
  g.initializers["zp"] = Tensor::Scalar(uint8_t{128});
  g.initializers["w"] = RandomFloat({3, 2, 3, 3}, 1);
  g.nodes = {Node{"dq", "DequantizeLinear", "", {"q", "scale", "zp"}, {"x"}, {}},
             MakeConv("conv", {"x", "w"}, "t", 1), Node{"relu", "Relu", "", {"t"}, {"y"}, {}}};
  g.outputs.push_back({"y", DataType::kFloat32, std::nullopt});
  EXPECT_EQ(OpTypes(Fused(g)), (std::multiset<std::string>{"DequantizeLinear", "Conv", "Relu"}));
}

TEST(FuseConvTest, ObserverSeesEveryUnfusedValue) {
  const Graph g = ResidualGraph();
  const Tensor x = RandomFloat({2, 5, 9, 7}, 3);
  ExecutorOptions plain;
  plain.fuse = false;
  plain.extra_outputs = {"t1", "t2", "s", "t3"};
  TensorMap want = RunGraph(g, x, plain);

  auto ex = Executor::Create(g);
  ASSERT_TRUE(ex.ok());
  std::map<std::string, Tensor> seen;
  (*ex)->SetObserver([&](const Node& node, const std::vector<const Tensor*>& outs) -> Status {
    seen[node.outputs[0]] = outs[0]->Clone();
    return Status::Ok();
  });
  TensorMap got;
  ASSERT_TRUE((*ex)->Run({{"x", x}}, &got).ok());
  EXPECT_EQ(OpTypes((*ex)->executed_graph()).count("FusedConv"), 0u);
  EXPECT_EQ(seen.size(), 7u);
  for (const char* v : {"t1", "t2", "s", "t3"}) {
    ASSERT_TRUE(seen.count(v)) << v;
    EXPECT_TRUE(AllClose(seen.at(v), want.at(v), 1e-5, 1e-4)) << v;
  }
  EXPECT_TRUE((*ex)->value_types().count("t2"));

  (*ex)->SetObserver(nullptr);  // back to the fused graph
  ASSERT_TRUE((*ex)->Run({{"x", x}}, &got).ok());
  EXPECT_EQ(OpTypes((*ex)->executed_graph()).count("FusedConv"), 3u);
  EXPECT_TRUE(AllClose(got.at("y"), want.at("y"), 1e-5, 1e-4));
}

// Calibration's mode: observed values listed, the observer runs on the fused
// graph (Conv + activation only: a fused Add would change the Conv's rounding)
// and sees those values exactly as the unfused graph computes them.
TEST(FuseConvTest, ObservedValuesKeepActivationFusionAndStayVisible) {
  const Graph g = ResidualGraph();
  const Tensor x = RandomFloat({2, 5, 9, 7}, 5);
  ExecutorOptions plain;
  plain.fuse = false;
  plain.extra_outputs = {"a1", "y1"};
  TensorMap want = RunGraph(g, x, plain);

  ExecutorOptions observed;
  observed.observed_values = {"a1", "y1"};
  auto ex = Executor::Create(g, {}, observed);
  ASSERT_TRUE(ex.ok());
  std::map<std::string, Tensor> seen;
  (*ex)->SetObserver([&](const Node& node, const std::vector<const Tensor*>& outs) -> Status {
    seen[node.outputs[0]] = outs[0]->Clone();
    return Status::Ok();
  });
  TensorMap got;
  ASSERT_TRUE((*ex)->Run({{"x", x}}, &got).ok());
  const Graph& run = (*ex)->executed_graph();
  // c2 -> Add -> Relu fuses with an exact sum: y1 stays bit for bit the unfused value.
  EXPECT_EQ(OpTypes(run), (std::multiset<std::string>{"FusedConv", "FusedConv", "FusedConv"}));
  EXPECT_EQ(run.FindNode("c1")->outputs[0], "a1");
  EXPECT_EQ(run.FindNode("c2")->outputs[0], "y1");
  EXPECT_EQ(run.FindNode("c2")->attrs.GetInt(kExactSumAttr, 0), 1);
  EXPECT_EQ(run.FindNode("c1")->attrs.GetInt(kExactSumAttr, 0), 0);
  for (const char* v : {"a1", "y1"}) {
    ASSERT_TRUE(seen.count(v)) << v;
    EXPECT_TRUE(AllClose(seen.at(v), want.at(v), 0, 0)) << v;
  }
  EXPECT_TRUE(AllClose(got.at("y"), want.at("y"), 0, 0));
}

TEST(FuseConvTest, ExactAddFusesOnlyReluAfterTheAdd) {
  for (const char* act : {"Relu", "Sigmoid"}) {
    SCOPED_TRACE(act);
    Graph g = ResidualGraph();
    g.nodes[4].op_type = act;  // r2, after the Add
    ConvFusionOptions options;
    options.exact_add = true;
    ConvFusionStats stats;
    const Graph f = Fused(g, options, &stats);
    EXPECT_EQ(stats.fused_adds, 1);
    const Node* c2 = f.FindNode("c2");
    ASSERT_NE(c2, nullptr);
    EXPECT_EQ(c2->attrs.GetInt(kExactSumAttr, 0), 1);
    const bool relu = std::string(act) == "Relu";
    EXPECT_EQ(c2->attrs.GetString("activation", ""), relu ? "Relu" : "");
    EXPECT_EQ(c2->outputs[0], relu ? "y1" : "s");
  }
}

TEST(FuseConvTest, ExtraOutputsStayVisibleWhenFusing) {
  const Graph g = ResidualGraph();
  const Tensor x = RandomFloat({1, 5, 9, 7}, 4);
  ExecutorOptions plain;
  plain.fuse = false;
  plain.extra_outputs = {"t2"};
  ExecutorOptions fused;
  fused.extra_outputs = {"t2"};
  TensorMap want = RunGraph(g, x, plain), got = RunGraph(g, x, fused);
  ASSERT_TRUE(got.count("t2"));
  EXPECT_TRUE(AllClose(got.at("t2"), want.at("t2"), 1e-5, 1e-4));
  EXPECT_TRUE(AllClose(got.at("y"), want.at("y"), 1e-5, 1e-4));
}

TEST(ExecutorBufferPoolTest, RepeatedRunsKeepEarlierOutputsIntact) {
  const Graph g = ResidualGraph();
  auto ex = Executor::Create(g, {{"x", {2, 5, 9, 7}}});
  ASSERT_TRUE(ex.ok());
  const Tensor x1 = RandomFloat({2, 5, 9, 7}, 1), x2 = RandomFloat({2, 5, 9, 7}, 2);
  TensorMap first, second, again;
  ASSERT_TRUE((*ex)->Run({{"x", x1}}, &first).ok());
  const Tensor first_copy = first.at("y").Clone();
  ASSERT_TRUE((*ex)->Run({{"x", x2}}, &second).ok());
  ASSERT_TRUE((*ex)->Run({{"x", x1}}, &again).ok());
  EXPECT_TRUE(AllClose(first.at("y"), first_copy, 0, 0));  // not recycled while the caller holds it
  EXPECT_TRUE(AllClose(again.at("y"), first_copy, 0, 0));  // recycled buffers give the same result
  EXPECT_FALSE(AllClose(second.at("y"), first_copy, 1e-3, 0));
  // Fresh executor: same numbers.
  TensorMap fresh = RunGraph(g, x2);
  EXPECT_TRUE(AllClose(second.at("y"), fresh.at("y"), 0, 0));
}

}  // namespace
}  // namespace qcal
