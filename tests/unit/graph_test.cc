#include <gtest/gtest.h>

#include "ir/graph.h"
#include "runtime/executor.h"

namespace qcal {
namespace {

Graph TwoReluGraph() {
  Graph g;
  g.name = "t";
  g.inputs.push_back({"x", DataType::kFloat32, Shape{-1, 3}});
  g.outputs.push_back({"z", DataType::kFloat32, std::nullopt});
  g.nodes.push_back(Node{"r2", "Relu", "", {"y"}, {"z"}, {}});
  g.nodes.push_back(Node{"r1", "Relu", "", {"x"}, {"y"}, {}});
  return g;
}

TEST(GraphTest, TopoSortOrdersProducersFirst) {
  Graph g = TwoReluGraph();
  EXPECT_FALSE(VerifyGraph(g).ok());
  ASSERT_TRUE(g.TopoSort().ok());
  EXPECT_EQ(g.nodes[0].name, "r1");
  EXPECT_TRUE(VerifyGraph(g).ok());
}

TEST(GraphTest, CycleIsReportedWithNodeName) {
  Graph g = TwoReluGraph();
  g.nodes[1].inputs = {"z"};  // r1 reads r2's output: a cycle
  Status st = g.TopoSort();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cycle"), std::string::npos) << st.message();
}

TEST(GraphTest, MissingProducerIsNamed) {
  Graph g = TwoReluGraph();
  g.nodes[1].inputs = {"nope"};
  Status st = g.TopoSort();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'nope'"), std::string::npos) << st.message();
}

TEST(ExecutorTest, RunsAndObservesEveryNode) {
  Graph g = TwoReluGraph();
  ASSERT_TRUE(g.TopoSort().ok());
  auto ex = Executor::Create(g);
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  std::vector<std::string> seen;
  (*ex)->SetObserver([&](const Node& n, const std::vector<const Tensor*>& outs) {
    seen.push_back(n.name);
    EXPECT_EQ(outs.size(), 1u);
    return Status::Ok();
  });
  TensorMap in{{"x", Tensor::FromVector<float>({-1, 2, -3, 4, 5, -6}, {2, 3})}};
  TensorMap out;
  ASSERT_TRUE((*ex)->Run(in, &out).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(out["z"].ToFloatVector(), (std::vector<float>{0, 2, 0, 4, 5, 0}));
  EXPECT_EQ(out["z"].shape(), (Shape{2, 3}));
}

TEST(ExecutorTest, WrongInputNameAndDtypeAreErrors) {
  Graph g = TwoReluGraph();
  ASSERT_TRUE(g.TopoSort().ok());
  auto ex = Executor::Create(g);
  ASSERT_TRUE(ex.ok());
  TensorMap out;
  Status st = (*ex)->Run({{"y", Tensor(DataType::kFloat32, {1, 3})}}, &out);
  EXPECT_NE(st.message().find("not an input"), std::string::npos) << st.message();
  st = (*ex)->Run({{"x", Tensor(DataType::kInt64, {1, 3})}}, &out);
  EXPECT_NE(st.message().find("data type int64"), std::string::npos) << st.message();
  st = (*ex)->Run({{"x", Tensor(DataType::kFloat32, {1, 4})}}, &out);
  EXPECT_NE(st.message().find("shape [1,4]"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace qcal
