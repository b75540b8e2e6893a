// Constant folding, symbolic shape folding and dead code elimination on
// hand-built graphs: node counts before/after and numeric equality of outputs.
#include "passes/constant_folding.h"

#include <gtest/gtest.h>

#include "passes/dead_code_elimination.h"
#include "passes/shape_inference.h"
#include "runtime/executor.h"

namespace qcal {
namespace {

Tensor I64(std::vector<int64_t> v) { return Tensor::FromVector<int64_t>(v, {static_cast<int64_t>(v.size())}); }

int CountOp(const Graph& g, const std::string& op) {
  int n = 0;
  for (const auto& node : g.nodes) n += node.op_type == op;
  return n;
}

Tensor Ramp(const Shape& shape) {
  Tensor t(DataType::kFloat32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>((i * 7) % 13) - 6.0f;
  return t;
}

// Runs the graph on x and returns output `out`.
Tensor RunOn(const Graph& g, const Tensor& x, const std::string& out = "y") {
  auto ex = Executor::Create(g, {{"x", x.shape()}});
  EXPECT_TRUE(ex.ok()) << ex.status().ToString() << "\n" << DumpGraph(g);
  if (!ex.ok()) return {};
  TensorMap outs;
  Status st = (*ex)->Run({{"x", x}}, &outs);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return outs[out];
}

void ExpectSameTensor(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.shape(), b.shape());
  ASSERT_EQ(a.dtype(), b.dtype());
  EXPECT_EQ(a.ToFloatVector(), b.ToFloatVector());
}

void FoldAndClean(Graph& g, const ConstantFoldingOptions& opt = {}) {
  ASSERT_TRUE(InferShapes(g).ok());
  ASSERT_TRUE(ConstantFolding(g, opt).ok());
  ASSERT_TRUE(EliminateDeadCode(g).ok());
  ASSERT_TRUE(VerifyGraph(g).ok()) << DumpGraph(g);
  ASSERT_TRUE(InferShapes(g).ok());
}

// y = x + relu(a) * b, with a, b constants: Relu and Mul fold, Add stays.
Graph ConstantChainGraph() {
  Graph g;
  g.inputs.push_back({"x", DataType::kFloat32, Shape{-1, 3}});
  g.outputs.push_back({"y", DataType::kFloat32, std::nullopt});
  g.initializers["a"] = Tensor::FromVector<float>({-1.f, 2.f, 3.f}, {3});
  g.initializers["b"] = Tensor::FromVector<float>({10.f, 20.f, 30.f}, {3});
  g.nodes.push_back(Node{"relu", "Relu", "", {"a"}, {"ra"}, {}});
  g.nodes.push_back(Node{"mul", "Mul", "", {"ra", "b"}, {"c"}, {}});
  g.nodes.push_back(Node{"add", "Add", "", {"x", "c"}, {"y"}, {}});
  return g;
}

TEST(ConstantFoldingTest, FoldsConstantChainAndKeepsOutputs) {
  Graph g = ConstantChainGraph();
  Tensor x = Ramp({2, 3});
  Tensor before = RunOn(g, x);
  ConstantFoldingStats stats;
  ASSERT_TRUE(InferShapes(g).ok());
  ASSERT_TRUE(ConstantFolding(g, {}, &stats).ok());
  EXPECT_EQ(stats.folded_nodes, 2);
  ASSERT_TRUE(EliminateDeadCode(g).ok());
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op_type, "Add");
  // Only the folded constant is left; a, b and ra are unused now.
  ASSERT_EQ(g.initializers.size(), 1u);
  EXPECT_EQ(g.initializers.at("c").ToFloatVector(), (std::vector<float>{0.f, 40.f, 90.f}));
  ExpectSameTensor(RunOn(g, x), before);
}

TEST(ConstantFoldingTest, SizeLimitPreventsFolding) {
  Graph g = ConstantChainGraph();
  ConstantFoldingOptions opt;
  opt.max_output_bytes = 8;  // the 12-byte results may not be materialized
  FoldAndClean(g, opt);
  EXPECT_EQ(g.nodes.size(), 3u);
}

TEST(ConstantFoldingTest, KeepsDequantizeOfInt8WeightsUnlessAsked) {
  Graph g;
  g.inputs.push_back({"x", DataType::kFloat32, Shape{2, 3}});
  g.outputs.push_back({"y", DataType::kFloat32, std::nullopt});
  g.initializers["w_q"] = Tensor::FromVector<int8_t>({-128, 5, 127}, {3});
  g.initializers["w_scale"] = Tensor::Scalar<float>(0.5f);
  g.initializers["w_zp"] = Tensor::Scalar<int8_t>(1);
  g.nodes.push_back(Node{"dq", "DequantizeLinear", "", {"w_q", "w_scale", "w_zp"}, {"w"}, {}});
  g.nodes.push_back(Node{"mul", "Mul", "", {"x", "w"}, {"y"}, {}});
  Graph folded = g;
  FoldAndClean(g);
  EXPECT_EQ(CountOp(g, "DequantizeLinear"), 1);
  ConstantFoldingOptions opt;
  opt.fold_dequantize = true;
  FoldAndClean(folded, opt);
  EXPECT_EQ(CountOp(folded, "DequantizeLinear"), 0);
  EXPECT_EQ(folded.initializers.at("w").ToFloatVector(), (std::vector<float>{-64.5f, 2.f, 63.f}));
  Tensor x = Ramp({2, 3});
  ExpectSameTensor(RunOn(folded, x), RunOn(g, x));
}

TEST(ConstantFoldingTest, ShapeAndSizeOfStaticValuesBecomeConstants) {
  Graph g;
  g.inputs.push_back({"x", DataType::kFloat32, Shape{2, 5}});
  g.outputs.push_back({"s", DataType::kInt64, std::nullopt});
  g.outputs.push_back({"n", DataType::kInt64, std::nullopt});
  g.nodes.push_back(Node{"relu", "Relu", "", {"x"}, {"r"}, {}});
  g.nodes.push_back(Node{"shape", "Shape", "", {"r"}, {"s"}, {}});
  g.nodes.push_back(Node{"size", "Size", "", {"r"}, {"n"}, {}});
  FoldAndClean(g);
  EXPECT_TRUE(g.nodes.empty()) << DumpGraph(g);
  EXPECT_EQ(g.initializers.at("s").ToInt64Vector(), (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(g.initializers.at("n").shape(), Shape{});
  EXPECT_EQ(g.initializers.at("n").ToInt64Vector(), (std::vector<int64_t>{10}));
}

// The PyTorch flatten idiom: Reshape(r, Concat(Unsqueeze(Gather(Shape(r), 0)), [-1])).
Graph FlattenIdiomGraph(const std::string& reshape_data) {
  Graph g;
  g.inputs.push_back({"x", DataType::kFloat32, Shape{-1, 3, 4, 4}});
  g.outputs.push_back({"y", DataType::kFloat32, std::nullopt});
  g.initializers["zero"] = Tensor::Scalar<int64_t>(0);
  g.initializers["axes0"] = I64({0});
  g.initializers["minus1"] = I64({-1});
  g.nodes.push_back(Node{"relu", "Relu", "", {"x"}, {"r"}, {}});
  g.nodes.push_back(Node{"relu2", "Relu", "", {"r"}, {"r2"}, {}});
  g.nodes.push_back(Node{"shape", "Shape", "", {"r"}, {"s"}, {}});
  Node gather{"gather", "Gather", "", {"s", "zero"}, {"batch"}, {}};
  gather.attrs.Set("axis", int64_t{0});
  g.nodes.push_back(gather);
  g.nodes.push_back(Node{"unsq", "Unsqueeze", "", {"batch", "axes0"}, {"batch1"}, {}});
  Node concat{"concat", "Concat", "", {"batch1", "minus1"}, {"target"}, {}};
  concat.attrs.Set("axis", int64_t{0});
  g.nodes.push_back(concat);
  g.nodes.push_back(Node{"reshape", "Reshape", "", {reshape_data, "target"}, {"y"}, {}});
  return g;
}

TEST(ConstantFoldingTest, SymbolicBatchFlattenFoldsToZeroMinusOne) {
  Graph g = FlattenIdiomGraph("r");
  Tensor x2 = Ramp({2, 3, 4, 4});
  Tensor before = RunOn(g, x2);
  ASSERT_EQ(before.shape(), (Shape{2, 48}));
  FoldAndClean(g);
  for (const char* op : {"Shape", "Gather", "Unsqueeze", "Concat"}) EXPECT_EQ(CountOp(g, op), 0) << op;
  ASSERT_EQ(g.nodes.size(), 2u) << DumpGraph(g);  // Relu, Reshape (relu2 was dead)
  const Node& reshape = g.nodes[1];
  ASSERT_EQ(reshape.op_type, "Reshape");
  EXPECT_EQ(g.initializers.at(reshape.inputs[1]).ToInt64Vector(), (std::vector<int64_t>{0, -1}));
  EXPECT_EQ(g.inputs[0].shape, (Shape{-1, 3, 4, 4}));  // batch still symbolic
  ExpectSameTensor(RunOn(g, x2), before);
  // The folded graph still works for another batch size.
  Tensor x5 = Ramp({5, 3, 4, 4});
  Graph unfolded = FlattenIdiomGraph("r");
  ExpectSameTensor(RunOn(g, x5), RunOn(unfolded, x5));
}

TEST(ConstantFoldingTest, BatchOfAnotherValueIsNotFrozen) {
  // Reshape(r2, [batch of r, -1]): r2's dim 0 is not provably r's, so nothing folds.
  Graph g = FlattenIdiomGraph("r2");
  FoldAndClean(g);
  EXPECT_EQ(CountOp(g, "Shape"), 1);
  EXPECT_EQ(CountOp(g, "Concat"), 1);
  Tensor x = Ramp({3, 3, 4, 4});
  ExpectSameTensor(RunOn(g, x), RunOn(FlattenIdiomGraph("r2"), x));
}

TEST(ConstantFoldingTest, StaticBatchStillCopiesDimZero) {
  // With a fixed batch the shape is fully known; the Reshape still copies dim 0
  // so the graph stays valid when the batch is overridden later.
  Graph g = FlattenIdiomGraph("r");
  g.inputs[0].shape = Shape{2, 3, 4, 4};
  Tensor x = Ramp({2, 3, 4, 4});
  Tensor before = RunOn(g, x);
  FoldAndClean(g);
  ASSERT_EQ(g.nodes.size(), 2u) << DumpGraph(g);
  EXPECT_EQ(g.initializers.at(g.nodes[1].inputs[1]).ToInt64Vector(), (std::vector<int64_t>{0, -1}));
  ExpectSameTensor(RunOn(g, x), before);
}

TEST(DeadCodeEliminationTest, RemovesUnreachableNodesAndInitializers) {
  Graph g;
  g.inputs.push_back({"x", DataType::kFloat32, Shape{2}});
  g.outputs.push_back({"y", DataType::kFloat32, std::nullopt});
  g.initializers["used"] = Tensor::FromVector<float>({1.f, 2.f}, {2});
  g.initializers["unused"] = Tensor::FromVector<float>({3.f}, {1});
  g.initializers["dead_only"] = Tensor::FromVector<float>({4.f, 5.f}, {2});
  g.nodes.push_back(Node{"a", "Add", "", {"x", "used"}, {"y"}, {}});
  g.nodes.push_back(Node{"d1", "Add", "", {"x", "dead_only"}, {"d"}, {}});
  g.nodes.push_back(Node{"d2", "Relu", "", {"d"}, {"dd"}, {}});
  g.value_info["d"] = {"d", DataType::kFloat32, Shape{2}};
  DeadCodeStats stats;
  ASSERT_TRUE(EliminateDeadCode(g, &stats).ok());
  EXPECT_EQ(stats.removed_nodes, 2);
  EXPECT_EQ(stats.removed_initializers, 2);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].name, "a");
  EXPECT_EQ(g.initializers.size(), 1u);
  EXPECT_TRUE(g.value_info.empty());
  EXPECT_EQ(g.inputs.size(), 1u);  // graph inputs are never removed
}

TEST(DeadCodeEliminationTest, KeepsMultiOutputNodeWithOneLiveOutput) {
  Graph g;
  g.inputs.push_back({"x", DataType::kFloat32, Shape{4}});
  g.outputs.push_back({"b", DataType::kFloat32, std::nullopt});
  g.initializers["split"] = I64({2, 2});
  g.nodes.push_back(Node{"split", "Split", "", {"x", "split"}, {"a", "b"}, {}});
  ASSERT_TRUE(EliminateDeadCode(g).ok());
  EXPECT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.initializers.size(), 1u);
}

}  // namespace
}  // namespace qcal
