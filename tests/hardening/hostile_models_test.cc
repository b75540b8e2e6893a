// Hostile or corrupt models (built here with the ONNX protobuf classes) are
// refused with a clear error before any large allocation, and deep graphs are
// handled without recursion.
#include <gtest/gtest.h>

#include <string>

#include "base/limits.h"
#include "frontends/caffe/caffe_importer.h"
#include "frontends/onnx/onnx_importer.h"
#include "frontends/onnx_test_util.h"
#include "runtime/executor.h"
#include "runtime/model_loader.h"

namespace qcal {
namespace {

using testing::OnnxModelBuilder;

constexpr int64_t k2To20 = int64_t{1} << 20;

// x [1,4] -> Relu -> y, plus whatever the test adds.
OnnxModelBuilder ReluModel() {
  OnnxModelBuilder b(13);
  b.AddInput("x", {1, 4});
  b.AddOutput("y", {1, 4});
  b.AddNode("Relu", {"x"}, {"y"}, "relu");
  return b;
}

Result<Graph> Import(const OnnxModelBuilder& b) { return ImportOnnxBytes(b.Serialize(), "hostile.onnx"); }

void ExpectError(const Status& s, StatusCode code, const std::string& part) {
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(part), std::string::npos) << s.ToString();
}

TEST(HostileModelTest, TerabyteInitializerIsRefusedBeforeAllocating) {
  OnnxModelBuilder b = ReluModel();
  b.AddFloatInit("w", {k2To20, k2To20}, {1.0f});  // 2^40 floats declared, one stored
  auto g = Import(b);
  ExpectError(g.status(), StatusCode::kOutOfRange, "QCAL_MAX_TENSOR_BYTES");
  EXPECT_NE(g.status().message().find("initializer 'w'"), std::string::npos) << g.status().ToString();
}

TEST(HostileModelTest, TerabyteRawDataTensorIsASizeMismatch) {
  OnnxModelBuilder b = ReluModel();
  auto& t = b.AddFloatInit("w", {k2To20, k2To20}, {});
  t.set_raw_data(std::string(8, '\0'));
  ExpectError(Import(b).status(), StatusCode::kCorrupt, "raw_data holds 8 bytes");
}

TEST(HostileModelTest, TerabyteGraphInputIsRefused) {
  OnnxModelBuilder b(13);
  b.AddInput("x", {-1, k2To20, k2To20});  // even with the batch dim counted as 1
  b.AddOutput("y", {-1, k2To20, k2To20});
  b.AddNode("Relu", {"x"}, {"y"});
  auto g = Import(b);
  ExpectError(g.status(), StatusCode::kOutOfRange, "graph input 'x'");
}

TEST(HostileModelTest, HugeInferredIntermediateIsRefusedByTheExecutor) {
  // Input [1,4096] is small; Expand to [4096,4096,4096] floats (256 GiB) is not.
  OnnxModelBuilder b(13);
  b.AddInput("x", {1, 4096});
  b.AddOutput("y", {});
  b.graph().mutable_output(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  auto* shape = b.graph().add_initializer();
  shape->set_name("shape");
  shape->set_data_type(onnx::TensorProto::INT64);
  shape->add_dims(3);
  for (int i = 0; i < 3; ++i) shape->add_int64_data(4096);
  b.AddNode("Expand", {"x", "shape"}, {"y"}, "expand");
  auto g = Import(b);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  if (!PrepareModel(*g, {}, "hostile.onnx").ok()) return;  // refused while loading: also fine
  auto exec = Executor::Create(*g);
  ExpectError(exec.status(), StatusCode::kOutOfRange, "value 'y'");
}

TEST(HostileModelTest, NegativeDimsAreCorrupt) {
  OnnxModelBuilder b = ReluModel();
  b.AddFloatInit("w", {2, -3}, {1, 2, 3, 4, 5, 6});
  ExpectError(Import(b).status(), StatusCode::kCorrupt, "negative dimension -3");

  OnnxModelBuilder c(13);
  c.AddInput("x", {1, 4});
  OnnxModelBuilder::SetValueInfo(c.graph().add_input(), "z", {}, onnx::TensorProto::FLOAT);
  c.graph().mutable_input(1)->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(-5);
  c.AddOutput("y", {1, 4});
  c.AddNode("Add", {"x", "z"}, {"y"});
  ExpectError(Import(c).status(), StatusCode::kCorrupt, "graph input 'z' has negative dimension -5");
}

TEST(HostileModelTest, RawDataSizeMismatchIsCorrupt) {
  OnnxModelBuilder b = ReluModel();
  auto& t = b.AddFloatInit("w", {2, 3}, {});
  t.set_raw_data(std::string(20, '\0'));  // 6 floats need 24 bytes
  ExpectError(Import(b).status(), StatusCode::kCorrupt, "raw_data holds 20 bytes, but dims [2,3] need 24");
}

TEST(HostileModelTest, TypedDataCountMismatchIsCorrupt) {
  OnnxModelBuilder b = ReluModel();
  b.AddFloatInit("w", {2, 3}, {1, 2, 3});
  ExpectError(Import(b).status(), StatusCode::kCorrupt, "float_data holds 3 values, but dims [2,3] need 6");
}

TEST(HostileModelTest, CycleIsRefused) {
  OnnxModelBuilder b(13);
  b.AddInput("x", {1, 4});
  b.AddOutput("y", {1, 4});
  b.AddNode("Add", {"x", "b"}, {"a"}, "first");
  b.AddNode("Relu", {"a"}, {"b"}, "second");
  b.AddNode("Relu", {"b"}, {"y"}, "out");
  ExpectError(Import(b).status(), StatusCode::kInvalidArgument, "graph has a cycle through node");
}

TEST(HostileModelTest, SelfReferencingNodeIsRefused) {
  OnnxModelBuilder b(13);
  b.AddInput("x", {1, 4});
  b.AddOutput("y", {1, 4});
  b.AddNode("Add", {"x", "y"}, {"y"}, "self");
  ExpectError(Import(b).status(), StatusCode::kInvalidArgument, "graph has a cycle through node Add 'self'");
}

// x -> Relu -> Relu -> ... (n nodes) -> y
OnnxModelBuilder Chain(int n) {
  OnnxModelBuilder b(13);
  b.AddInput("x", {1, 4});
  b.AddOutput("y", {1, 4});
  auto& nodes = *b.graph().mutable_node();
  nodes.Reserve(n);
  for (int i = 0; i < n; ++i) {
    auto* node = nodes.Add();
    node->set_op_type("Relu");
    node->add_input(i == 0 ? "x" : "v" + std::to_string(i - 1));
    node->add_output(i == n - 1 ? "y" : "v" + std::to_string(i));
  }
  return b;
}

TEST(HostileModelTest, ChainLongerThanTheNodeLimitIsRefused) {
  // A 10^6-node chain is over the default limit; the check itself is shown
  // with a small limit (building a million protobuf nodes takes seconds).
  ASSERT_LT(ResourceLimits{}.max_nodes, 1000000);
  ResourceLimits limits;
  limits.max_nodes = 1000;
  ScopedResourceLimits scoped(limits);
  ExpectError(Import(Chain(1001)).status(), StatusCode::kOutOfRange,
              "the graph: 1001 nodes exceeds the limit of 1000 nodes (QCAL_MAX_NODES)");
  EXPECT_TRUE(Import(Chain(1000)).ok());
}

TEST(HostileModelTest, DeepChainLoadsWithoutRecursion) {
  // Deep enough that one stack frame per node in any pass would overflow the
  // stack (certainly under ASan); every pass must iterate.
  const int n = 20000;
  auto g = Import(Chain(n));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_TRUE(PrepareModel(*g, {}, "chain.onnx").ok());
  EXPECT_EQ(g->nodes.size(), static_cast<size_t>(n));
  auto exec = Executor::Create(*g);
  ASSERT_TRUE(exec.ok()) << exec.status().ToString();
  TensorMap out;
  ASSERT_TRUE((*exec)->Run({{"x", Tensor::FromVector<float>({-1, 2, -3, 4}, {1, 4})}}, &out).ok());
  EXPECT_EQ(out.at("y").ToFloatVector(), (std::vector<float>{0, 2, 0, 4}));
}

TEST(HostileModelTest, TotalWeightLimitNamesTheInitializer) {
  ResourceLimits limits;
  limits.max_total_weight_bytes = 40;  // two 24-byte tensors exceed it
  ScopedResourceLimits scoped(limits);
  OnnxModelBuilder b = ReluModel();
  b.AddFloatInit("w1", {6}, {1, 2, 3, 4, 5, 6});
  b.AddFloatInit("w2", {6}, {1, 2, 3, 4, 5, 6});
  auto g = Import(b);
  ExpectError(g.status(), StatusCode::kOutOfRange, "QCAL_MAX_TOTAL_WEIGHT_BYTES");
  EXPECT_NE(g.status().message().find("'w2'"), std::string::npos);
}

TEST(HostileModelTest, CaffeInputShapesAreChecked) {
  const std::string weights;  // no layers with blobs needed
  auto negative = ImportCaffeBuffers("input: 'data' input_shape { dim: 1 dim: -3 dim: 8 dim: 8 }\n"
                                     "layer { name: 'r' type: 'ReLU' bottom: 'data' top: 'out' }\n",
                                     "neg.prototxt", weights, "w.caffemodel");
  ExpectError(negative.status(), StatusCode::kInvalidArgument, "input shape [1,-3,8,8] is not positive");
  auto huge = ImportCaffeBuffers("layer { name: 'in' type: 'Input' top: 'data' input_param { shape { "
                                 "dim: 1 dim: 1048576 dim: 1048576 dim: 1048576 } } }\n"
                                 "layer { name: 'r' type: 'ReLU' bottom: 'data' top: 'out' }\n",
                                 "huge.prototxt", weights, "w.caffemodel");
  ExpectError(huge.status(), StatusCode::kOutOfRange, "QCAL_MAX_TENSOR_BYTES");
}

TEST(HostileModelTest, CaffeLayerCountIsLimited) {
  ResourceLimits limits;
  limits.max_nodes = 2;
  ScopedResourceLimits scoped(limits);
  std::string net = "input: 'data' input_shape { dim: 1 dim: 1 dim: 2 dim: 2 }\n";
  for (int i = 0; i < 3; ++i) net += "layer { name: 'r" + std::to_string(i) + "' type: 'ReLU' bottom: 'data' top: 'data' }\n";
  ExpectError(ImportCaffeBuffers(net, "many.prototxt", "", "w.caffemodel").status(), StatusCode::kOutOfRange,
              "3 nodes exceeds the limit of 2 nodes (QCAL_MAX_NODES)");
}

}  // namespace
}  // namespace qcal
