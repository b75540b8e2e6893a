// Real third-party ONNX models import with the structure python's onnx reports
// (counts below were read with onnx.load; see each test), and bad files fail cleanly.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "base/file.h"
#include "frontends/model_format.h"
#include "frontends/onnx/onnx_importer.h"
#include "support/testdata.h"

namespace qcal {
namespace {

using testing::TestData;

std::map<std::string, int> CountOps(const Graph& g) {
  std::map<std::string, int> m;
  for (const auto& n : g.nodes) ++m[n.op_type];
  return m;
}

const Node* FindByOutput(const Graph& g, const std::string& out) {
  for (const auto& n : g.nodes) {
    if (std::find(n.outputs.begin(), n.outputs.end(), out) != n.outputs.end()) return &n;
  }
  return nullptr;
}

Graph Import(const std::string& rel) {
  auto g = ImportOnnxFile(TestData(rel));
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return g.ok() ? std::move(g).value() : Graph{};
}

// onnx: opset 1, 18 nodes of which 6 Constant; input Input3 [1,1,28,28]; output Plus214_Output_0 [1,10].
TEST(OnnxImportModels, MnistCntkOpset1) {
  Graph g = Import("mnist_cntk_onnx/model.onnx");
  EXPECT_EQ(g.opset, 1);
  EXPECT_EQ(g.nodes.size(), 12u);
  std::map<std::string, int> want = {{"Reshape", 2}, {"Conv", 2}, {"Add", 3}, {"Relu", 2}, {"MaxPool", 2}, {"MatMul", 1}};
  EXPECT_EQ(CountOps(g), want);
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.inputs[0].name, "Input3");
  EXPECT_EQ(g.inputs[0].dtype, DataType::kFloat32);
  EXPECT_EQ(*g.inputs[0].shape, (Shape{1, 1, 28, 28}));
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(g.outputs[0].name, "Plus214_Output_0");
  EXPECT_EQ(*g.outputs[0].shape, (Shape{1, 10}));
  // 6 Constant nodes + the 2 opset-1 Reshape 'shape' attributes became initializers.
  EXPECT_EQ(g.initializers.size(), 8u);

  // Reshape-1 shape=[256,10] attribute -> int64 shape input.
  const Node* r = g.FindNode("Times212_reshape1");
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->inputs.size(), 2u);
  EXPECT_FALSE(r->attrs.Has("shape"));
  const Tensor* shape = g.FindInitializer(r->inputs[1]);
  ASSERT_NE(shape, nullptr);
  EXPECT_EQ(shape->ToInt64Vector(), (std::vector<int64_t>{256, 10}));

  // Add (broadcast=1, axis=1) of a [8] bias onto the 4-D conv output: B becomes [8,1,1].
  const Node* add = g.FindNode("Plus30");
  ASSERT_NE(add, nullptr);
  EXPECT_FALSE(add->attrs.Has("broadcast"));
  EXPECT_FALSE(add->attrs.Has("axis"));
  const Tensor* bias = g.FindInitializer(add->inputs[1]);
  ASSERT_NE(bias, nullptr);
  EXPECT_EQ(bias->shape(), (Shape{8, 1, 1}));
  const Tensor* bias2 = g.FindInitializer(g.FindNode("Plus112")->inputs[1]);
  ASSERT_NE(bias2, nullptr);
  EXPECT_EQ(bias2->shape(), (Shape{16, 1, 1}));
  // broadcast=0 Add keeps its [1,10] constant.
  EXPECT_EQ(g.FindInitializer(g.FindNode("Plus214")->inputs[1])->shape(), (Shape{1, 10}));
  EXPECT_EQ(g.FindInitializer("Parameter193")->shape(), (Shape{16, 4, 4, 10}));
}

// onnx: opset 9, 110 unnamed nodes (Conv 52, Relu 37, Concat 3, Add 1, Transpose 8, Reshape 8,
// Softmax 1), 112 initializers all also listed as inputs; real input 'input' [1,3,240,320].
TEST(OnnxImportModels, UltraFaceSimplifiedDropsInitializerInputs) {
  Graph g = Import("ultraface_RFB-320/version-RFB-320_simplified.onnx");
  EXPECT_EQ(g.opset, 9);
  EXPECT_EQ(g.nodes.size(), 110u);
  std::map<std::string, int> want = {{"Conv", 52}, {"Relu", 37}, {"Concat", 3}, {"Add", 1},
                                     {"Transpose", 8}, {"Reshape", 8}, {"Softmax", 1}};
  EXPECT_EQ(CountOps(g), want);
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.inputs[0].name, "input");
  EXPECT_EQ(*g.inputs[0].shape, (Shape{1, 3, 240, 320}));
  EXPECT_EQ(g.initializers.size(), 112u);
  ASSERT_EQ(g.outputs.size(), 2u);
  EXPECT_EQ(g.outputs[0].name, "scores");
  EXPECT_EQ(g.outputs[1].name, "boxes");
  // Unnamed nodes get "<OpType>_<index>" names (the first node is a Conv).
  EXPECT_EQ(g.nodes[0].name, "Conv_0");
}

// onnx: 242 nodes (31 Constant, 24 Unsqueeze with 'axes' attr, 6 opset-1-style Slice with
// starts/ends/axes attrs), 244 initializers, 245 inputs.
TEST(OnnxImportModels, UltraFaceFullRewritesAttrForms) {
  Graph g = Import("ultraface_RFB-320/version-RFB-320.onnx");
  EXPECT_EQ(g.nodes.size(), 242u - 31u);
  ASSERT_EQ(g.inputs.size(), 1u);
  // 244 + 31 constants + 24 Unsqueeze axes + 6 Slices x (starts, ends, axes).
  EXPECT_EQ(g.initializers.size(), 244u + 31u + 24u + 18u);
  int slices = 0;
  for (const auto& n : g.nodes) {
    if (n.op_type == "Unsqueeze") {
      ASSERT_EQ(n.inputs.size(), 2u) << n.name;
      EXPECT_FALSE(n.attrs.Has("axes"));
      EXPECT_EQ(g.FindInitializer(n.inputs[1])->ToInt64Vector(), (std::vector<int64_t>{0}));
    }
    if (n.op_type == "Slice") {
      ++slices;
      ASSERT_EQ(n.inputs.size(), 4u) << n.name;
      EXPECT_TRUE(n.attrs.all().empty());
      // python: Slice(460) axes=[2] starts=[0] ends=[2] is the first one.
      if (n.outputs[0] == "462") {
        EXPECT_EQ(g.FindInitializer(n.inputs[1])->ToInt64Vector(), (std::vector<int64_t>{0}));
        EXPECT_EQ(g.FindInitializer(n.inputs[2])->ToInt64Vector(), (std::vector<int64_t>{2}));
        EXPECT_EQ(g.FindInitializer(n.inputs[3])->ToInt64Vector(), (std::vector<int64_t>{2}));
      }
    }
  }
  EXPECT_EQ(slices, 6);
  std::set<std::string> names;
  for (const auto& n : g.nodes) names.insert(n.name);
  EXPECT_EQ(names.size(), g.nodes.size());
}

TEST(OnnxImportModels, UltraFaceWithoutPostprocessing) {
  Graph g = Import("ultraface_RFB-320/version-RFB-320_without_postprocessing.onnx");
  EXPECT_EQ(g.nodes.size(), 217u - 24u);  // onnx: 217 nodes, 24 Constant
  EXPECT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.outputs.size(), 2u);
}

// onnx: opset 13; 113 / 203 nodes with 38 Constant; input 'input' [N,3,32,32]; output 'logits' [N,10].
TEST(OnnxImportModels, CifarResNets) {
  struct Case {
    const char* file;
    size_t nodes, inits, convs;
  };
  for (const Case& c : {Case{"cifar10_resnet_akamaster/cifar10_resnet20.onnx", 113, 40, 19},
                        Case{"cifar10_resnet_akamaster/cifar10_resnet56.onnx", 203, 112, 55}}) {
    SCOPED_TRACE(c.file);
    Graph g = Import(c.file);
    EXPECT_EQ(g.opset, 13);
    EXPECT_EQ(g.nodes.size(), c.nodes - 38);
    EXPECT_EQ(g.initializers.size(), c.inits + 38);
    EXPECT_EQ(static_cast<size_t>(CountOps(g)["Conv"]), c.convs);
    ASSERT_EQ(g.inputs.size(), 1u);
    EXPECT_EQ(*g.inputs[0].shape, (Shape{-1, 3, 32, 32}));
    ASSERT_EQ(g.outputs.size(), 1u);
    EXPECT_EQ(g.outputs[0].name, "logits");
    EXPECT_EQ(*g.outputs[0].shape, (Shape{-1, 10}));
    EXPECT_EQ(g.nodes[0].name, "/conv1/Conv");  // names kept
  }
}

// onnx: opset 12, 174 nodes (13 Split with split attr), 146 initializers, input [1,3,224,224].
TEST(OnnxImportModels, ShuffleNetDequantized) {
  Graph g = Import("imagenet_shufflenet_v2/shufflenet-v2-12-dequantized-fp32.onnx");
  EXPECT_EQ(g.opset, 12);
  EXPECT_EQ(g.nodes.size(), 174u);
  EXPECT_EQ(g.initializers.size(), 146u + 13u);
  const Node* split = g.FindNode("Split_57");
  ASSERT_NE(split, nullptr);
  ASSERT_EQ(split->inputs.size(), 2u);
  EXPECT_EQ(g.FindInitializer(split->inputs[1])->ToInt64Vector(), (std::vector<int64_t>{116, 116}));
  EXPECT_EQ(split->attrs.GetInt("axis", -1), 1);
  // ReduceMean keeps its axes attribute (kernels accept both forms).
  const Node* rm = g.FindNode("ReduceMean_171");
  ASSERT_NE(rm, nullptr);
  EXPECT_EQ(rm->attrs.GetInts("axes"), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(*g.inputs[0].shape, (Shape{1, 3, 224, 224}));
  EXPECT_EQ(FindByOutput(g, "output")->op_type, "Add");
}

TEST(OnnxImportModels, ImportModelDispatchesOnSuffix) {
  auto g = ImportModel({TestData("mnist_cntk_onnx/model.onnx"), ""});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->nodes.size(), 12u);
}

// The QOperator model uses com.microsoft ops (QLinearAdd): a clear error naming node and domain.
TEST(OnnxImportModels, MicrosoftDomainIsRejectedWithNodeName) {
  auto g = ImportOnnxFile(TestData("imagenet_shufflenet_v2/shufflenet-v2-12-int8.onnx"));
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kUnsupported);
  const std::string& m = g.status().message();
  EXPECT_NE(m.find("com.microsoft"), std::string::npos) << m;
  EXPECT_NE(m.find("QLinearAdd"), std::string::npos) << m;
  EXPECT_NE(m.find("shufflenet-v2-12-int8.onnx"), std::string::npos) << m;
}

void ExpectCorruptNaming(const Result<Graph>& g, const std::string& origin, const std::string& size) {
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kCorrupt) << g.status().ToString();
  EXPECT_NE(g.status().message().find(origin), std::string::npos) << g.status().message();
  EXPECT_NE(g.status().message().find(size + " bytes"), std::string::npos) << g.status().message();
}

TEST(OnnxImportBadFiles, EmptyFile) { ExpectCorruptNaming(ImportOnnxBytes("", "empty.onnx"), "empty.onnx", "0"); }

TEST(OnnxImportBadFiles, GarbageBytes) {
  std::string garbage = "this is not an ONNX model \xff\xfe\x01\x02";
  ExpectCorruptNaming(ImportOnnxBytes(garbage, "garbage.onnx"), "garbage.onnx", std::to_string(garbage.size()));
}

TEST(OnnxImportBadFiles, TruncatedRealModel) {
  auto bytes = ReadFile(TestData("cifar10_resnet_akamaster/cifar10_resnet20.onnx"));
  ASSERT_TRUE(bytes.ok());
  ExpectCorruptNaming(ImportOnnxBytes(bytes->substr(0, 1000), "cut.onnx"), "cut.onnx", "1000");
  // Cut at every eighth of the file too: never a crash, always an error.
  for (int k = 1; k < 8; ++k) {
    size_t n = bytes->size() * static_cast<size_t>(k) / 8;
    auto g = ImportOnnxBytes(bytes->substr(0, n), "cut.onnx");
    EXPECT_FALSE(g.ok()) << n;
  }
}

TEST(OnnxImportBadFiles, MissingFileIsAnIoError) {
  auto g = ImportOnnxFile("/nonexistent/dir/model.onnx");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("/nonexistent/dir/model.onnx"), std::string::npos);
}

}  // namespace
}  // namespace qcal
