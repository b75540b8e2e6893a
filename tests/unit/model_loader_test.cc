// Model loader pieces that need no model file: op support check, input shape
// overrides, tensor file dispatch.
#include "runtime/model_loader.h"

#include <gtest/gtest.h>

#include "ir/npy.h"
#include "support/testdata.h"

namespace qcal {
namespace {

Graph TwoInputGraph() {
  Graph g;
  g.inputs.push_back({"image", DataType::kFloat32, Shape{1, 3, 32, 32}});
  g.inputs.push_back({"mask", DataType::kFloat32, Shape{-1, 4}});
  g.outputs.push_back({"y", DataType::kFloat32, std::nullopt});
  g.nodes.push_back(Node{"r", "Relu", "", {"image"}, {"y"}, {}});
  return g;
}

TEST(ModelLoaderTest, ListsEveryUnsupportedNodeAtOnce) {
  Graph g = TwoInputGraph();
  g.nodes.push_back(Node{"weird_a", "QcalNoSuchOpA", "", {"image"}, {"a"}, {}});
  g.nodes.push_back(Node{"weird_b", "QcalNoSuchOpB", "", {"a"}, {"b"}, {}});
  g.nodes.push_back(Node{"ms", "Relu", "com.microsoft", {"b"}, {"c"}, {}});
  Status st = CheckOpsSupported(g);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  const std::string& m = st.message();
  EXPECT_NE(m.find("3 nodes"), std::string::npos) << m;
  EXPECT_NE(m.find("node 'weird_a': op type QcalNoSuchOpA"), std::string::npos) << m;
  EXPECT_NE(m.find("node 'weird_b': op type QcalNoSuchOpB"), std::string::npos) << m;
  EXPECT_NE(m.find("node 'ms': op type com.microsoft.Relu"), std::string::npos) << m;
  EXPECT_EQ(m.find("'r'"), std::string::npos) << m;  // the supported Relu is not listed
  EXPECT_TRUE(CheckOpsSupported(TwoInputGraph()).ok());
}

TEST(ModelLoaderTest, InputShapeOverrides) {
  Graph g = TwoInputGraph();
  ASSERT_TRUE(ApplyInputShapes(g, {{"image", {8, 3, 32, 32}}, {"mask", {8, 4}}}).ok());
  EXPECT_EQ(g.inputs[0].shape, (Shape{8, 3, 32, 32}));  // fixed batch overridden
  EXPECT_EQ(g.inputs[1].shape, (Shape{8, 4}));

  Status st = ApplyInputShapes(g, {{"img", {1, 3, 32, 32}}});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'img'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("image"), std::string::npos) << st.message();  // lists the real names
  EXPECT_NE(st.message().find("mask"), std::string::npos) << st.message();

  st = ApplyInputShapes(g, {{"image", {1, 3, 32}}});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("rank 3"), std::string::npos) << st.message();

  st = ApplyInputShapes(g, {{"image", {1, 3, 64, 32}}});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("dim 2"), std::string::npos) << st.message();

  st = ApplyInputShapes(g, {{"mask", {0, 4}}});
  EXPECT_FALSE(st.ok());
}

TEST(ModelLoaderTest, ReadTensorFileBySuffix) {
  std::string dir = testing::MakeTempDir();
  Tensor t = Tensor::FromVector<float>({1.5f, -2.f}, {1, 2});
  ASSERT_TRUE(WriteNpyFile(dir + "/a.npy", t).ok());
  auto r = ReadTensorFile(dir + "/a.npy");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ToFloatVector(), t.ToFloatVector());
  auto bad = ReadTensorFile(dir + "/a.txt");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(".npy"), std::string::npos);
  auto missing = ReadTensorFile(dir + "/missing.npy");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing.npy"), std::string::npos);
}

}  // namespace
}  // namespace qcal
