// Channel-shuffle fusion (passes/fuse_channel_shuffle.h): which chains fuse,
// which stay ONNX ops, and that the real ShuffleNet-v2 gets one ChannelShuffle
// per unit.
#include "passes/fuse_channel_shuffle.h"

#include <gtest/gtest.h>

#include <map>

#include "frontends/onnx/onnx_importer.h"
#include "kernels/nn_test_util.h"
#include "passes/shape_inference.h"
#include "support/testdata.h"

namespace qcal {
namespace {

Tensor Int64s(const std::vector<int64_t>& v) {
  return Tensor::FromVector<int64_t>(v, {static_cast<int64_t>(v.size())});
}

// x -> Relu -> a;  Concat(a, x) -> Reshape -> Transpose(perm) -> Reshape -> Split -> y0, y1
Graph Chain(std::vector<int64_t> perm = {0, 2, 1, 3, 4}, int64_t split_axis = 1) {
  Graph g;
  g.name = "chain";
  g.inputs.push_back({"x", DataType::kFloat32, Shape{1, 4, 3, 2}});
  g.initializers["s5"] = Int64s({1, 2, 4, 3, 2});
  g.initializers["s4"] = Int64s({1, 8, 3, 2});
  Node cat{"cat", "Concat", "", {"a", "x"}, {"ax"}, {}};
  cat.attrs.Set("axis", int64_t{1});
  Node tr{"tr", "Transpose", "", {"r5"}, {"t5"}, {}};
  tr.attrs.Set("perm", perm);
  Node split{"split", "Split", "", {"r4"}, {"y0", "y1"}, {}};
  split.attrs.Set("axis", split_axis);
  g.nodes = {Node{"relu", "Relu", "", {"x"}, {"a"}, {}},          cat,
             Node{"r1", "Reshape", "", {"ax", "s5"}, {"r5"}, {}}, tr,
             Node{"r2", "Reshape", "", {"t5", "s4"}, {"r4"}, {}}, split};
  g.outputs = {{"y0", DataType::kFloat32, std::nullopt}, {"y1", DataType::kFloat32, std::nullopt}};
  return g;
}

std::map<std::string, int> Count(const Graph& g) {
  std::map<std::string, int> ops;
  for (const auto& n : g.nodes) ++ops[n.op_type];
  return ops;
}

Graph Fuse(Graph g, const ChannelShuffleFusionOptions& options = {}, int* fused = nullptr) {
  EXPECT_TRUE(InferShapes(g).ok());
  const Status st = FuseChannelShuffle(g, options, fused);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return g;
}

TEST(FuseChannelShuffleTest, FusesTheChainWithItsSplit) {
  int fused = 0;
  const Graph g = Fuse(Chain(), {}, &fused);
  EXPECT_EQ(fused, 1);
  ASSERT_EQ(g.nodes.size(), 2u);
  const Node& s = g.nodes[1];
  EXPECT_EQ(s.op_type, "ChannelShuffle");
  EXPECT_EQ(s.name, "cat");
  EXPECT_EQ(s.inputs, (std::vector<std::string>{"a", "x"}));
  EXPECT_EQ(s.outputs, (std::vector<std::string>{"y0", "y1"}));
  EXPECT_EQ(s.attrs.GetInt("group", 0), 2);
  EXPECT_EQ(s.attrs.GetInts("split"), (std::vector<int64_t>{4, 4}));
  EXPECT_EQ(g.FindValueInfo("ax"), nullptr);  // the fused-away values are gone
}

TEST(FuseChannelShuffleTest, LeavesOtherChainsAlone) {
  // Another transpose is not a channel shuffle.
  EXPECT_EQ(Count(Fuse(Chain({0, 1, 2, 4, 3})))["ChannelShuffle"], 0);
  // An intermediate value that must stay computed (an observer reads it).
  ChannelShuffleFusionOptions keep;
  keep.keep_values = {"t5"};
  EXPECT_EQ(Count(Fuse(Chain(), keep))["ChannelShuffle"], 0);
  // The concat output has a second consumer.
  Graph two = Chain();
  two.nodes.push_back(Node{"relu2", "Relu", "", {"ax"}, {"z"}, {}});
  two.outputs.push_back({"z", DataType::kFloat32, std::nullopt});
  EXPECT_EQ(Count(Fuse(two))["ChannelShuffle"], 0);
  // A Split on another axis stays a Split after a one-output ChannelShuffle.
  Graph other = Chain({0, 2, 1, 3, 4}, 2);
  other.inputs[0].shape = Shape{1, 4, 2, 2};
  other.initializers["s5"] = Int64s({1, 2, 4, 2, 2});
  other.initializers["s4"] = Int64s({1, 8, 2, 2});
  const auto ops = Count(Fuse(other));
  EXPECT_EQ(ops.at("ChannelShuffle"), 1);
  EXPECT_EQ(ops.at("Split"), 1);
}

TEST(FuseChannelShuffleTest, ShuffleNetGetsOnePerUnit) {
  auto g = ImportOnnxFile(testing::TestData("imagenet_shufflenet_v2/shufflenet-v2-12-dequantized-fp32.onnx"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  int fused = 0;
  const auto ops = Count(Fuse(*g, {}, &fused));
  EXPECT_EQ(fused, 16);  // 16 units; 13 with a Split, 3 (each stage's last) without
  EXPECT_EQ(ops.count("Concat") + ops.count("Transpose") + ops.count("Split"), 0u);
  EXPECT_EQ(ops.at("ChannelShuffle"), 16);
}

}  // namespace
}  // namespace qcal
