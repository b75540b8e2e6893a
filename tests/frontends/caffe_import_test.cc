// Caffe frontend: structure of imported graphs (op mapping, names, SSA values,
// weights, inputs, phases) and error reporting. Numeric checks are in
// caffe_exec_test.cc and caffe_models_test.cc.
#include <gtest/gtest.h>

#include "base/file.h"
#include "frontends/caffe/caffe_layers.h"
#include "frontends/caffe_test_util.h"
#include "frontends/model_format.h"
#include "support/testdata.h"

namespace qcal {
namespace {

using testing::AddWeights;
using testing::ImportText;
using testing::Iota;
using testing::MakeBlob;

std::vector<std::string> OpTypes(const Graph& g) {
  std::vector<std::string> ops;
  for (const auto& n : g.nodes) ops.push_back(n.op_type);
  return ops;
}

const std::string kLeNetDir = "mnist_lenet_caffe/";

TEST(CaffeImport, LeNetStructureAndWeights) {
  auto g = ImportCaffeFiles(testing::TestData(kLeNetDir + "lenet.prototxt"),
                            testing::TestData(kLeNetDir + "lenet_iter_10000.caffemodel"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->opset, 13);
  ASSERT_EQ(g->inputs.size(), 1u);
  EXPECT_EQ(g->inputs[0].name, "data");
  EXPECT_EQ(*g->inputs[0].shape, (Shape{64, 1, 28, 28}));
  ASSERT_EQ(g->outputs.size(), 1u);
  EXPECT_EQ(g->outputs[0].name, "prob");
  EXPECT_EQ(*g->outputs[0].shape, (Shape{64, 10}));
  EXPECT_EQ(OpTypes(*g), (std::vector<std::string>{"Conv", "MaxPool", "Conv", "MaxPool", "Flatten", "Gemm",
                                                   "Relu", "Gemm", "Softmax"}));
  for (const char* layer : {"conv1", "pool1", "conv2", "pool2", "ip1", "relu1", "ip2", "prob"}) {
    EXPECT_NE(g->FindNode(layer), nullptr) << layer;
  }
  EXPECT_EQ(g->FindNode("ip1")->op_type, "Gemm");
  EXPECT_EQ(g->FindNode("ip1")->attrs.GetInt("transB", 0), 1);
  // relu1 works in place on ip1: the Gemm writes an earlier version, ReLU's output keeps the blob name.
  EXPECT_EQ(g->FindNode("ip1")->outputs[0], "ip1/ip1");
  EXPECT_EQ(g->FindNode("relu1")->inputs[0], "ip1/ip1");
  EXPECT_EQ(g->FindNode("relu1")->outputs[0], "ip1");
  EXPECT_EQ(g->FindNode("ip2")->inputs[0], "ip1");
  EXPECT_EQ(g->FindNode("conv1")->attrs.GetInts("kernel_shape"), (std::vector<int64_t>{5, 5}));
  EXPECT_EQ(g->FindNode("pool1")->attrs.GetInts("strides"), (std::vector<int64_t>{2, 2}));

  // Weights: compare with the caffemodel read independently.
  auto bytes = ReadFile(testing::TestData(kLeNetDir + "lenet_iter_10000.caffemodel"));
  ASSERT_TRUE(bytes.ok());
  caffe::NetParameter model;
  ASSERT_TRUE(model.ParseFromString(*bytes));
  const caffe::LayerParameter* ip1 = nullptr;
  for (const auto& l : model.layer())
    if (l.name() == "ip1") ip1 = &l;
  ASSERT_NE(ip1, nullptr);
  const Tensor* w = g->FindInitializer(g->FindNode("ip1")->inputs[1]);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape(), (Shape{500, 800}));
  ASSERT_EQ(w->numel(), ip1->blobs(0).data_size());
  for (int i = 0; i < w->numel(); i += 997) EXPECT_EQ(w->data<float>()[i], ip1->blobs(0).data(i));
  EXPECT_EQ(g->FindInitializer(g->FindNode("conv2")->inputs[1])->shape(), (Shape{50, 20, 5, 5}));
}

TEST(CaffeImport, UltraFaceStructure) {
  const std::string dir = "ultraface_RFB-320/";
  auto g = ImportModel(
      {testing::TestData(dir + "RFB-320.prototxt"), testing::TestData(dir + "RFB-320.caffemodel")});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->inputs.size(), 1u);
  EXPECT_EQ(*g->inputs[0].shape, (Shape{1, 3, 240, 320}));
  std::map<std::string, Shape> outputs;
  for (const auto& o : g->outputs) outputs[o.name] = *o.shape;
  EXPECT_EQ(outputs, (std::map<std::string, Shape>{{"scores", {1, 4420, 2}}, {"boxes", {1, 4420, 4}}}));
  int convs = 0, transposes = 0;
  for (const auto& n : g->nodes) {
    convs += n.op_type == "Conv";
    transposes += n.op_type == "Transpose";
  }
  EXPECT_EQ(convs, 52);  // 52 Convolution layers in the prototxt
  EXPECT_EQ(transposes, 8);
}

TEST(CaffeImport, PooledSizeFollowsCaffeRounding) {
  using caffe_import::CaffePooledSize;
  // ceil((6 - 3) / 2) + 1 = 3 (floor rounding would give 2).
  EXPECT_EQ(CaffePooledSize(6, 3, 0, 2, true, false), 3);
  EXPECT_EQ(CaffePooledSize(6, 3, 0, 2, false, false), 2);
  // ceil((5 + 2 - 2) / 2) + 1 = 4, but window 3 would start at 6 - 1 = 5 >= 5 (inside the padding): 3.
  EXPECT_EQ(CaffePooledSize(5, 2, 1, 2, true, true), 3);
  // ceil((7 + 2 - 3) / 2) + 1 = 4; last window starts at 6 - 1 = 5 < 7: kept.
  EXPECT_EQ(CaffePooledSize(7, 3, 1, 2, true, true), 4);
  EXPECT_EQ(CaffePooledSize(28, 2, 0, 2, true, false), 14);
}

const char* kPoolNet = R"(
name: "pools"
input: "x"
input_shape { dim: 1 dim: 2 dim: 6 dim: 7 }
layer { name: "maxp" type: "Pooling" bottom: "x" top: "m" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "avep" type: "Pooling" bottom: "x" top: "a" pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "avep0" type: "Pooling" bottom: "x" top: "a0" pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
layer { name: "gap" type: "Pooling" bottom: "x" top: "g" pooling_param { pool: AVE global_pooling: true } }
)";

TEST(CaffeImport, PoolingUsesExplicitEndPadding) {
  auto g = ImportText(kPoolNet, caffe::NetParameter());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  // MAX 3/2 on 6x7: Caffe out 3x3 (ceil); ONNX floor needs one extra row at the end, none for the columns.
  const Node* m = g->FindNode("maxp");
  EXPECT_EQ(m->attrs.GetInts("pads"), (std::vector<int64_t>{0, 0, 1, 0}));
  EXPECT_EQ(m->attrs.GetInt("ceil_mode", -1), 0);
  // AVE 3/2 pad 1 on 6x7: out ceil(5/2)+1 = 4 rows (last starts at 5 < 6+1), ceil(6/2)+1 = 4 cols;
  // rows need 1 extra end pad, cols none -> the Caffe padding becomes a Pad node.
  const Node* a = g->FindNode("avep");
  ASSERT_EQ(a->op_type, "AveragePool");
  EXPECT_EQ(a->attrs.GetInts("pads"), (std::vector<int64_t>{0, 0, 1, 0}));
  EXPECT_EQ(a->attrs.GetInt("count_include_pad", -1), 0);
  const Node* pad = g->FindNode("avep/pad");
  ASSERT_NE(pad, nullptr);
  EXPECT_EQ(pad->op_type, "Pad");
  EXPECT_EQ(g->FindInitializer(pad->inputs[1])->ToInt64Vector(),
            (std::vector<int64_t>{0, 0, 1, 1, 0, 0, 1, 1}));
  // AVE 2/2 without pad on 6x7: out 3x4, the last column window is clipped (count_include_pad 0).
  const Node* a0 = g->FindNode("avep0");
  EXPECT_EQ(a0->attrs.GetInts("pads"), (std::vector<int64_t>{0, 0, 0, 1}));
  EXPECT_EQ(a0->attrs.GetInt("count_include_pad", -1), 0);
  EXPECT_EQ(g->FindNode("gap")->op_type, "GlobalAveragePool");
  std::map<std::string, Shape> shapes;
  for (const auto& o : g->outputs) shapes[o.name] = *o.shape;
  EXPECT_EQ(shapes["m"], (Shape{1, 2, 3, 3}));
  EXPECT_EQ(shapes["a"], (Shape{1, 2, 4, 4}));
  EXPECT_EQ(shapes["a0"], (Shape{1, 2, 3, 4}));
  EXPECT_EQ(shapes["g"], (Shape{1, 2, 1, 1}));
}

TEST(CaffeImport, InputForms) {
  const char* dims = R"(input: "a" input_dim: 2 input_dim: 3 input_dim: 4 input_dim: 5
    layer { name: "r" type: "ReLU" bottom: "a" top: "b" })";
  auto g1 = ImportText(dims, caffe::NetParameter());
  ASSERT_TRUE(g1.ok()) << g1.status().ToString();
  EXPECT_EQ(*g1->inputs[0].shape, (Shape{2, 3, 4, 5}));

  const char* layer = R"(layer { name: "in" type: "Input" top: "a" top: "c"
                          input_param { shape { dim: 1 dim: 4 } shape { dim: 1 dim: 4 } } }
    layer { name: "sum" type: "Eltwise" bottom: "a" bottom: "c" top: "s" })";
  auto g2 = ImportText(layer, caffe::NetParameter());
  ASSERT_TRUE(g2.ok()) << g2.status().ToString();
  ASSERT_EQ(g2->inputs.size(), 2u);
  EXPECT_EQ(g2->inputs[1].name, "c");
  EXPECT_EQ(*g2->inputs[1].shape, (Shape{1, 4}));
  EXPECT_EQ(g2->FindNode("sum")->op_type, "Add");

  auto bad = ImportText(R"(input: "a" input_dim: 2 input_dim: 3)", caffe::NetParameter());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("input_dim"), std::string::npos) << bad.status().message();
}

TEST(CaffeImport, InPlaceLayersBecomeSsaValues) {
  const char* net = R"(
    input: "data" input_shape { dim: 1 dim: 1 dim: 2 dim: 2 }
    layer { name: "conv" type: "Convolution" bottom: "data" top: "x"
            convolution_param { num_output: 1 kernel_size: 1 } }
    layer { name: "relu" type: "ReLU" bottom: "x" top: "x" }
    layer { name: "drop" type: "Dropout" bottom: "x" top: "x" }
    layer { name: "split" type: "Split" bottom: "x" top: "x1" top: "x2" }
    layer { name: "sum" type: "Eltwise" bottom: "x1" bottom: "x2" top: "y" eltwise_param { coeff: 1 coeff: -2 } }
  )";
  caffe::NetParameter w;
  AddWeights(&w, "conv", {MakeBlob({1, 1, 1, 1}, {2.f}), MakeBlob({1}, {0.5f})});
  auto g = ImportText(net, w);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->FindNode("conv")->outputs[0], "x/conv");
  EXPECT_EQ(g->FindNode("relu")->inputs[0], "x/conv");
  EXPECT_EQ(g->FindNode("relu")->outputs[0], "x/relu");
  EXPECT_EQ(g->FindNode("drop")->op_type, "Identity");
  EXPECT_EQ(g->FindNode("drop")->outputs[0], "x");
  EXPECT_EQ(g->FindNode("split")->outputs[0], "x1");
  EXPECT_EQ(g->FindNode("split/1")->outputs[0], "x2");
  // SUM with coefficients: x2 * -2, then the Add named like the layer.
  EXPECT_EQ(g->FindNode("sum/coeff1")->op_type, "Mul");
  EXPECT_EQ(g->FindNode("sum")->op_type, "Add");
  EXPECT_EQ(g->FindNode("sum/coeff0"), nullptr);  // coefficient 1 needs no Mul
  ASSERT_EQ(g->outputs.size(), 1u);
  EXPECT_EQ(g->outputs[0].name, "y");
  EXPECT_TRUE(VerifyGraph(*g).ok());
}

TEST(CaffeImport, TrainOnlyLayersAreDropped) {
  const char* net = R"(
    layer { name: "data" type: "Data" top: "data" include { phase: TRAIN } }
    layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 } } include { phase: TEST } }
    layer { name: "act" type: "Sigmoid" bottom: "data" top: "out" }
    layer { name: "loss" type: "SoftmaxWithLoss" bottom: "out" top: "loss" exclude { phase: TEST } }
  )";
  auto g = ImportText(net, caffe::NetParameter());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(OpTypes(*g), (std::vector<std::string>{"Sigmoid"}));
  EXPECT_EQ(g->outputs[0].name, "out");
}

// Legacy V1 prototxt (`layers`, enum types) with a V1 caffemodel using legacy 4-D blob shapes.
TEST(CaffeImport, LegacyV1NetAndBlobShapes) {
  const char* net = R"(
    name: "v1"
    input: "data" input_dim: 1 input_dim: 2 input_dim: 3 input_dim: 3
    layers { name: "conv" type: CONVOLUTION bottom: "data" top: "conv"
             convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
    layers { name: "relu" type: RELU bottom: "conv" top: "conv" }
    layers { name: "fc" type: INNER_PRODUCT bottom: "conv" top: "fc" inner_product_param { num_output: 5 } }
    layers { name: "prob" type: SOFTMAX bottom: "fc" top: "prob" }
  )";
  caffe::NetParameter w;
  auto* conv = w.add_layers();
  conv->set_name("conv");
  conv->set_type(caffe::V1LayerParameter::CONVOLUTION);
  *conv->add_blobs() = MakeBlob({4, 2, 3, 3}, Iota(72), /*legacy=*/true);
  *conv->add_blobs() = MakeBlob({4}, Iota(4), /*legacy=*/true);  // stored as 1x1x1x4
  auto* fc = w.add_layers();
  fc->set_name("fc");
  fc->set_type(caffe::V1LayerParameter::INNER_PRODUCT);
  *fc->add_blobs() = MakeBlob({5, 36}, Iota(180), /*legacy=*/true);  // 1x1x5x36
  *fc->add_blobs() = MakeBlob({5}, Iota(5), /*legacy=*/true);
  EXPECT_EQ(fc->blobs(0).height(), 5);
  auto g = ImportText(net, w);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(OpTypes(*g), (std::vector<std::string>{"Conv", "Relu", "Flatten", "Gemm", "Softmax"}));
  EXPECT_EQ(g->FindInitializer(g->FindNode("conv")->inputs[2])->shape(), (Shape{4}));
  const Tensor* fw = g->FindInitializer(g->FindNode("fc")->inputs[1]);
  EXPECT_EQ(fw->shape(), (Shape{5, 36}));
  EXPECT_EQ(fw->data<float>()[179], 179.f);
  EXPECT_EQ(g->FindNode("relu")->outputs[0], "conv");
}

TEST(CaffeImport, NewPrototxtWithV1Weights) {
  const char* net = R"(layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 3 } } }
    layer { name: "fc" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 2 bias_term: false } })";
  caffe::NetParameter w;
  auto* fc = w.add_layers();
  fc->set_name("fc");
  fc->set_type(caffe::V1LayerParameter::INNER_PRODUCT);
  caffe::BlobProto doubles;  // weights stored as double_data
  doubles.mutable_shape()->add_dim(2);
  doubles.mutable_shape()->add_dim(3);
  for (double v : {0.5, 1.5, 2.5, 3.5, 4.5, 5.5}) doubles.add_double_data(v);
  *fc->add_blobs() = doubles;
  auto g = ImportText(net, w);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(OpTypes(*g), (std::vector<std::string>{"Gemm"}));  // 2-D input: no Flatten
  EXPECT_EQ(g->FindNode("fc")->inputs.size(), 2u);
  EXPECT_EQ(g->FindInitializer(g->FindNode("fc")->inputs[1])->ToFloatVector(),
            (std::vector<float>{0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f}));
}

TEST(CaffeImport, UnnamedLayersAndUntypedV1Weights) {
  const char* net = R"(input: "x" input_shape { dim: 1 dim: 2 }
    layer { type: "Sigmoid" bottom: "x" top: "s" }
    layer { name: "fc" type: "InnerProduct" bottom: "s" top: "y" inner_product_param { num_output: 1 } })";
  caffe::NetParameter w;
  auto* fc = w.add_layers();  // a V1 weights entry whose type is unset: only name and blobs matter
  fc->set_name("fc");
  *fc->add_blobs() = MakeBlob({1, 2}, {1.f, 2.f});
  *fc->add_blobs() = MakeBlob({1}, {3.f});
  auto g = ImportText(net, w);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_NE(g->FindNode("Sigmoid_0"), nullptr);
  EXPECT_EQ(g->FindInitializer(g->FindNode("fc")->inputs[2])->ToFloatVector(), (std::vector<float>{3.f}));
}

TEST(CaffeImport, UnknownParameterFieldsAreSkipped) {
  const char* net = R"(input: "x" input_shape { dim: 1 dim: 3 }
    layer { name: "act" type: "ReLU" bottom: "x" top: "y"
            fork_specific_param { alpha: 2 nested { beta: "z" } } relu_param { engine: CUDNN } })";
  auto g = ImportText(net, caffe::NetParameter());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(OpTypes(*g), (std::vector<std::string>{"Relu"}));
}

TEST(CaffeImport, BatchNormFoldsFollowingScale) {
  const char* net = R"(input: "x" input_shape { dim: 1 dim: 2 dim: 1 dim: 1 }
    layer { name: "bn" type: "BatchNorm" bottom: "x" top: "y" batch_norm_param { eps: 0.001 } }
    layer { name: "sc" type: "Scale" bottom: "y" top: "y" scale_param { bias_term: true } }
    layer { name: "bn2" type: "BatchNorm" bottom: "y" top: "z" })";
  caffe::NetParameter w;
  AddWeights(&w, "bn", {MakeBlob({2}, {4.f, 8.f}), MakeBlob({2}, {2.f, 6.f}), MakeBlob({1}, {2.f})});
  AddWeights(&w, "sc", {MakeBlob({2}, {3.f, 5.f}), MakeBlob({2}, {-1.f, 1.f})});
  AddWeights(&w, "bn2", {MakeBlob({2}, {4.f, 8.f}), MakeBlob({2}, {2.f, 6.f}), MakeBlob({1}, {0.f})});
  auto g = ImportText(net, w);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(OpTypes(*g), (std::vector<std::string>{"BatchNormalization", "BatchNormalization"}));
  const Node* bn = g->FindNode("bn");
  auto values = [&](const Node* n, int i) { return g->FindInitializer(n->inputs[i])->ToFloatVector(); };
  EXPECT_EQ(values(bn, 1), (std::vector<float>{3.f, 5.f}));   // gamma from the Scale layer
  EXPECT_EQ(values(bn, 2), (std::vector<float>{-1.f, 1.f}));  // beta
  EXPECT_EQ(values(bn, 3), (std::vector<float>{2.f, 4.f}));   // mean / scale factor 2
  EXPECT_EQ(values(bn, 4), (std::vector<float>{1.f, 3.f}));   // variance / 2
  EXPECT_FLOAT_EQ(bn->attrs.GetFloat("epsilon", 0.f), 0.001f);
  EXPECT_EQ(bn->outputs[0], "y");
  const Node* bn2 = g->FindNode("bn2");
  EXPECT_EQ(values(bn2, 1), (std::vector<float>{1.f, 1.f}));
  EXPECT_EQ(values(bn2, 2), (std::vector<float>{0.f, 0.f}));
  EXPECT_EQ(values(bn2, 3), (std::vector<float>{0.f, 0.f}));  // scale factor 0 -> statistics 0
  EXPECT_FLOAT_EQ(bn2->attrs.GetFloat("epsilon", 0.f), 1e-5f);
}

TEST(CaffeImport, ScaleBroadcastsAlongAxis) {
  const char* net = R"(input: "x" input_shape { dim: 2 dim: 3 dim: 4 dim: 5 }
    layer { name: "s" type: "Scale" bottom: "x" top: "y" scale_param { axis: 1 num_axes: 2 } })";
  caffe::NetParameter w;
  AddWeights(&w, "s", {MakeBlob({3, 4}, Iota(12))});
  auto g = ImportText(net, w);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const Node* s = g->FindNode("s");
  EXPECT_EQ(s->op_type, "Mul");
  EXPECT_EQ(g->FindInitializer(s->inputs[1])->shape(), (Shape{3, 4, 1}));
}

// ---- errors ----

TEST(CaffeImportErrors, SyntaxErrorReportsFileLineColumn) {
  const char* net = "name: \"x\"\nlayer {\n  name: \"a\"\n  type: \"ReLU\"\n  bottom: }\n";
  auto g = ImportText(net, caffe::NetParameter());
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(g.status().message().find("test.prototxt:5:11"), std::string::npos) << g.status().message();
}

TEST(CaffeImportErrors, UnknownLayerTypeNamesLayer) {
  const char* net = R"(input: "x" input_shape { dim: 1 dim: 3 }
    layer { name: "mystery" type: "FancyLayer" bottom: "x" top: "y" })";
  auto g = ImportText(net, caffe::NetParameter());
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(g.status().message().find("'mystery'"), std::string::npos) << g.status().message();
  EXPECT_NE(g.status().message().find("FancyLayer"), std::string::npos);
}

const char* kConvNet = R"(input: "x" input_shape { dim: 1 dim: 2 dim: 4 dim: 4 }
  layer { name: "conv7" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: 3 kernel_size: 3 } })";

TEST(CaffeImportErrors, MissingBlobNamesLayer) {
  caffe::NetParameter w;
  AddWeights(&w, "conv7", {MakeBlob({3, 2, 3, 3}, Iota(54))});  // bias blob missing
  auto g = ImportText(kConvNet, w);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kNotFound);
  EXPECT_NE(g.status().message().find("'conv7'"), std::string::npos) << g.status().message();
  EXPECT_NE(g.status().message().find("bias"), std::string::npos);

  auto none = ImportText(kConvNet, caffe::NetParameter());  // layer absent from the weights
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("'conv7'"), std::string::npos) << none.status().message();
}

TEST(CaffeImportErrors, MisShapedBlobNamesLayer) {
  caffe::NetParameter w;
  AddWeights(&w, "conv7", {MakeBlob({3, 2, 2, 2}, Iota(24)), MakeBlob({3}, Iota(3))});
  auto g = ImportText(kConvNet, w);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("'conv7'"), std::string::npos) << g.status().message();
  EXPECT_NE(g.status().message().find("[3,2,3,3]"), std::string::npos) << g.status().message();

  caffe::NetParameter bad_count;  // declared shape and data length disagree
  AddWeights(&bad_count, "conv7", {MakeBlob({3, 2, 3, 3}, Iota(50)), MakeBlob({3}, Iota(3))});
  auto g2 = ImportText(kConvNet, bad_count);
  ASSERT_FALSE(g2.ok());
  EXPECT_NE(g2.status().message().find("'conv7'"), std::string::npos) << g2.status().message();
}

TEST(CaffeImportErrors, UnproducedBottomNamesLayer) {
  const char* net = R"(input: "x" input_shape { dim: 1 dim: 3 }
    layer { name: "act" type: "ReLU" bottom: "nowhere" top: "y" })";
  auto g = ImportText(net, caffe::NetParameter());
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("'act'"), std::string::npos) << g.status().message();
  EXPECT_NE(g.status().message().find("'nowhere'"), std::string::npos);
}

TEST(CaffeImportErrors, CorruptCaffemodel) {
  auto g = ImportCaffeBuffers(kConvNet, "net.prototxt", "\xff\xff\xff garbage", "w.caffemodel");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(g.status().message().find("w.caffemodel"), std::string::npos);
}

TEST(CaffeImportErrors, ModelFormatTable) {
  const std::string proto = testing::TestData(kLeNetDir + "lenet.prototxt");
  const std::string weights = testing::TestData(kLeNetDir + "lenet_iter_10000.caffemodel");
  auto no_weights = ImportModel({proto, ""});
  ASSERT_FALSE(no_weights.ok());
  EXPECT_NE(no_weights.status().message().find("--weights"), std::string::npos);
  auto swapped = ImportModel({weights, proto});
  ASSERT_FALSE(swapped.ok());
  EXPECT_NE(swapped.status().message().find(".prototxt"), std::string::npos) << swapped.status().message();
  auto ok = ImportModel({proto, weights});
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

}  // namespace
}  // namespace qcal
