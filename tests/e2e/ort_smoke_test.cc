// qcal's ONNX writer output runs in ONNX Runtime and agrees with qcal's runtime.
#include <gtest/gtest.h>

#include "exporters/onnx_writer.h"
#include "runtime/executor.h"
#include "support/ort_runner.h"
#include "support/testdata.h"

namespace qcal {
namespace {

TEST(OrtSmokeTest, ExportedReluGraphRunsInOrtAndAgrees) {
  ASSERT_TRUE(testing::OrtAvailable()) << "ONNX Runtime missing: run scripts/install-deps.sh";
  Graph g;
  g.name = "relu";
  g.inputs.push_back({"x", DataType::kFloat32, Shape{-1, 4}});
  g.outputs.push_back({"y", DataType::kFloat32, Shape{-1, 4}});
  g.nodes.push_back(Node{"r", "Relu", "", {"x"}, {"y"}, {}});
  std::string dir = testing::MakeTempDir();
  ASSERT_TRUE(WriteOnnxFile(g, dir + "/relu.onnx").ok());
  Tensor x = Tensor::FromVector<float>({-1, 2, -3, 4, 0.5f, -0.5f, 7, -8}, {2, 4});
  auto ort = testing::RunInOrt(dir + "/relu.onnx", {{"x", x}});
  ASSERT_TRUE(ort.ok()) << ort.status().ToString();
  auto ex = Executor::Create(g);
  ASSERT_TRUE(ex.ok());
  TensorMap out;
  ASSERT_TRUE((*ex)->Run({{"x", x}}, &out).ok());
  EXPECT_EQ(ort->at("y").ToFloatVector(), out["y"].ToFloatVector());
  EXPECT_EQ(out["y"].ToFloatVector(), (std::vector<float>{0, 2, 0, 4, 0.5f, 0, 7, 0}));
}

TEST(OrtSmokeTest, SameGraphSerializesToSameBytes) {
  Graph g;
  g.inputs.push_back({"x", DataType::kFloat32, Shape{1, 4}});
  g.outputs.push_back({"y", DataType::kFloat32, Shape{1, 4}});
  g.initializers["b"] = Tensor::FromVector<float>({1, 2, 3, 4}, {4});
  g.initializers["a"] = Tensor::FromVector<float>({1, 2, 3, 4}, {4});
  g.nodes.push_back(Node{"r", "Relu", "", {"x"}, {"y"}, {}});
  auto a = SerializeOnnx(g);
  auto b = SerializeOnnx(g);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

}  // namespace
}  // namespace qcal
