// Old-opset node forms are rewritten into the canonical forms of docs/ops.md;
// node naming, Constant nodes, attribute kinds, domains and opsets.
#include <gtest/gtest.h>

#include "frontends/onnx/onnx_importer.h"
#include "frontends/onnx_test_util.h"

namespace qcal {
namespace {

using testing::AddFloat;
using testing::AddFloats;
using testing::AddInt;
using testing::AddInts;
using testing::AddString;
using testing::OnnxModelBuilder;

Graph MustImport(const OnnxModelBuilder& b) {
  auto g = ImportOnnxBytes(b.Serialize(), "test.onnx");
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return g.ok() ? std::move(g).value() : Graph{};
}

std::vector<int64_t> IntsInput(const Graph& g, const Node& n, size_t i) {
  const Tensor* t = i < n.inputs.size() ? g.FindInitializer(n.inputs[i]) : nullptr;
  EXPECT_NE(t, nullptr) << n.name << " input " << i;
  if (!t) return {};
  EXPECT_EQ(t->dtype(), DataType::kInt64);
  EXPECT_EQ(t->rank(), 1);
  return t->ToInt64Vector();
}

float ScalarInput(const Graph& g, const Node& n, size_t i) {
  const Tensor* t = i < n.inputs.size() ? g.FindInitializer(n.inputs[i]) : nullptr;
  EXPECT_NE(t, nullptr) << n.name << " input " << i;
  if (!t) return 0;
  EXPECT_EQ(t->dtype(), DataType::kFloat32);
  EXPECT_EQ(t->rank(), 0);
  return t->ToFloatVector()[0];
}

TEST(OnnxLegacy, ReshapeShapeAttribute) {
  OnnxModelBuilder b(1, 3);
  b.AddInput("x", {2, 6});
  auto& n = b.AddNode("Reshape", {"x"}, {"y"}, "r");
  AddInts(n, "shape", {3, -1});
  AddInts(n, "consumed_inputs", {0});
  b.AddOutput("y", {3, 4});
  Graph g = MustImport(b);
  const Node& r = g.nodes.at(0);
  EXPECT_TRUE(r.attrs.all().empty());
  EXPECT_EQ(IntsInput(g, r, 1), (std::vector<int64_t>{3, -1}));
}

TEST(OnnxLegacy, SqueezeUnsqueezeAxesAttribute) {
  OnnxModelBuilder b(11);
  b.AddInput("x", {1, 3, 1});
  AddInts(b.AddNode("Squeeze", {"x"}, {"s"}, "sq"), "axes", {0, 2});
  AddInts(b.AddNode("Unsqueeze", {"s"}, {"u"}, "unsq"), "axes", {-1});
  b.AddNode("Squeeze", {"u"}, {"y"}, "sq_all");  // no axes: stays without input
  b.AddOutput("y", {3});
  Graph g = MustImport(b);
  EXPECT_EQ(IntsInput(g, *g.FindNode("sq"), 1), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(IntsInput(g, *g.FindNode("unsq"), 1), (std::vector<int64_t>{-1}));
  EXPECT_FALSE(g.FindNode("unsq")->attrs.Has("axes"));
  EXPECT_EQ(g.FindNode("sq_all")->inputs.size(), 1u);
}

TEST(OnnxLegacy, SliceAttributes) {
  OnnxModelBuilder b(9);
  b.AddInput("x", {4, 5});
  auto& s1 = b.AddNode("Slice", {"x"}, {"a"}, "s1");
  AddInts(s1, "starts", {1, 0});
  AddInts(s1, "ends", {3, 100});
  auto& s2 = b.AddNode("Slice", {"a"}, {"y"}, "s2");
  AddInts(s2, "starts", {1});
  AddInts(s2, "ends", {2});
  AddInts(s2, "axes", {1});
  b.AddOutput("y", {2, 1});
  Graph g = MustImport(b);
  const Node* n1 = g.FindNode("s1");
  ASSERT_EQ(n1->inputs.size(), 3u);
  EXPECT_EQ(IntsInput(g, *n1, 1), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(IntsInput(g, *n1, 2), (std::vector<int64_t>{3, 100}));
  const Node* n2 = g.FindNode("s2");
  ASSERT_EQ(n2->inputs.size(), 4u);
  EXPECT_EQ(IntsInput(g, *n2, 3), (std::vector<int64_t>{1}));
  EXPECT_TRUE(n2->attrs.all().empty());
}

TEST(OnnxLegacy, PadAttributes) {
  OnnxModelBuilder b(2);
  b.AddInput("x", {1, 2});
  auto& p = b.AddNode("Pad", {"x"}, {"a"}, "p2");
  AddInts(p, "pads", {0, 1, 0, 2});
  AddFloat(p, "value", 1.5f);
  AddString(p, "mode", "constant");
  auto& p1 = b.AddNode("Pad", {"a"}, {"y"}, "p1");  // opset-1 spelling
  AddInts(p1, "paddings", {1, 0, 1, 0});
  AddString(p1, "mode", "edge");
  b.AddOutput("y", {3, 5});
  Graph g = MustImport(b);
  const Node* n = g.FindNode("p2");
  ASSERT_EQ(n->inputs.size(), 3u);
  EXPECT_EQ(IntsInput(g, *n, 1), (std::vector<int64_t>{0, 1, 0, 2}));
  EXPECT_EQ(ScalarInput(g, *n, 2), 1.5f);
  EXPECT_EQ(n->attrs.GetString("mode", ""), "constant");
  EXPECT_FALSE(n->attrs.Has("pads"));
  const Node* e = g.FindNode("p1");
  ASSERT_EQ(e->inputs.size(), 2u);
  EXPECT_EQ(IntsInput(g, *e, 1), (std::vector<int64_t>{1, 0, 1, 0}));
  EXPECT_EQ(e->attrs.GetString("mode", ""), "edge");
  EXPECT_FALSE(e->attrs.Has("paddings"));
}

TEST(OnnxLegacy, ClipAttributes) {
  OnnxModelBuilder b(6);
  b.AddInput("x", {3});
  auto& c = b.AddNode("Clip", {"x"}, {"a"}, "both");
  AddFloat(c, "min", -1.f);
  AddFloat(c, "max", 6.f);
  AddFloat(b.AddNode("Clip", {"a"}, {"y"}, "max_only"), "max", 2.f);
  b.AddOutput("y", {3});
  Graph g = MustImport(b);
  const Node* n = g.FindNode("both");
  EXPECT_EQ(ScalarInput(g, *n, 1), -1.f);
  EXPECT_EQ(ScalarInput(g, *n, 2), 6.f);
  const Node* m = g.FindNode("max_only");
  ASSERT_EQ(m->inputs.size(), 3u);
  EXPECT_EQ(m->inputs[1], "");  // omitted min
  EXPECT_EQ(ScalarInput(g, *m, 2), 2.f);
}

TEST(OnnxLegacy, SplitAttribute) {
  OnnxModelBuilder b(11);
  b.AddInput("x", {6});
  auto& s = b.AddNode("Split", {"x"}, {"a", "b"}, "split");
  AddInts(s, "split", {2, 4});
  AddInt(s, "axis", 0);
  b.AddOutput("a", {2});
  b.AddOutput("b", {4});
  Graph g = MustImport(b);
  EXPECT_EQ(IntsInput(g, g.nodes[0], 1), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(g.nodes[0].attrs.GetInt("axis", -1), 0);
}

TEST(OnnxLegacy, UpsampleBecomesResize) {
  OnnxModelBuilder b(7);
  b.AddInput("x", {1, 1, 2, 2});
  auto& u = b.AddNode("Upsample", {"x"}, {"y"}, "up");
  AddFloats(u, "scales", {1.f, 1.f, 2.f, 3.f});
  AddString(u, "mode", "bilinear");
  b.AddOutput("y", {1, 1, 4, 6});
  Graph g = MustImport(b);
  const Node& r = g.nodes.at(0);
  EXPECT_EQ(r.op_type, "Resize");
  ASSERT_EQ(r.inputs.size(), 3u);
  EXPECT_EQ(r.inputs[1], "");  // roi
  EXPECT_EQ(g.FindInitializer(r.inputs[2])->ToFloatVector(), (std::vector<float>{1, 1, 2, 3}));
  EXPECT_EQ(r.attrs.GetString("mode", ""), "linear");
  EXPECT_EQ(r.attrs.GetString("coordinate_transformation_mode", ""), "asymmetric");

  OnnxModelBuilder b9(9);  // opset 9: scales is an input
  b9.AddInput("x", {1, 1, 2, 2});
  b9.AddInput("s", {4});
  b9.AddNode("Upsample", {"x", "s"}, {"y"}, "up");
  b9.AddOutput("y", {-1, -1, -1, -1});
  Graph g9 = MustImport(b9);
  const Node& r9 = g9.nodes.at(0);
  EXPECT_EQ(r9.op_type, "Resize");
  EXPECT_EQ(r9.inputs, (std::vector<std::string>{"x", "", "s"}));
  EXPECT_EQ(r9.attrs.GetString("mode", ""), "nearest");
  EXPECT_EQ(r9.attrs.GetString("nearest_mode", ""), "floor");
}

TEST(OnnxLegacy, Resize10GetsRoi) {
  OnnxModelBuilder b(10);
  b.AddInput("x", {1, 1, 2, 2});
  b.AddInput("s", {4});
  b.AddNode("Resize", {"x", "s"}, {"y"}, "rs");
  b.AddOutput("y", {-1, -1, -1, -1});
  Graph g = MustImport(b);
  EXPECT_EQ(g.nodes[0].inputs, (std::vector<std::string>{"x", "", "s"}));
  EXPECT_EQ(g.nodes[0].attrs.GetString("coordinate_transformation_mode", ""), "asymmetric");
}

// Add(A [2,3,4,5], B [3,4], broadcast=1, axis=1): B aligns with A's dims 1..2,
// so numpy broadcasting needs B as [3,4,1]. Data is unchanged (row-major).
TEST(OnnxLegacy, BroadcastConstantBIsReshaped) {
  OnnxModelBuilder b(6);
  b.AddInput("a", {2, 3, 4, 5});
  std::vector<float> vals(12);
  for (int i = 0; i < 12; ++i) vals[static_cast<size_t>(i)] = static_cast<float>(i);
  b.AddFloatInit("bias", {3, 4}, vals);
  auto& add = b.AddNode("Add", {"a", "bias"}, {"y"}, "add");
  AddInt(add, "broadcast", 1);
  AddInt(add, "axis", 1);
  b.AddOutput("y", {2, 3, 4, 5});
  Graph g = MustImport(b);
  const Node& n = g.nodes.at(0);
  EXPECT_TRUE(n.attrs.all().empty());
  const Tensor* t = g.FindInitializer(n.inputs[1]);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->shape(), (Shape{3, 4, 1}));
  EXPECT_EQ(t->ToFloatVector(), vals);
}

// A shared constant keeps its shape for its other user.
TEST(OnnxLegacy, BroadcastSharedConstantIsCopied) {
  OnnxModelBuilder b(6);
  b.AddInput("a", {1, 3, 2, 2});
  b.AddInput("c", {3});
  b.AddFloatInit("k", {3}, {1, 2, 3});
  auto& m = b.AddNode("Mul", {"a", "k"}, {"y"}, "mul");
  AddInt(m, "broadcast", 1);
  AddInt(m, "axis", 1);
  b.AddNode("Sub", {"c", "k"}, {"z"}, "sub");
  b.AddOutput("y", {1, 3, 2, 2});
  b.AddOutput("z", {3});
  Graph g = MustImport(b);
  const Node* mul = g.FindNode("mul");
  EXPECT_NE(mul->inputs[1], "k");
  EXPECT_EQ(g.FindInitializer(mul->inputs[1])->shape(), (Shape{3, 1, 1}));
  EXPECT_EQ(g.FindInitializer("k")->shape(), (Shape{3}));
}

// Non-constant B: a Reshape node with shape [0, 1, 1] (0 keeps B's dim) is inserted.
// Rank of A comes from the Conv producing it (rank of its input).
TEST(OnnxLegacy, BroadcastVariableBGetsReshapeNode) {
  OnnxModelBuilder b(6);
  b.AddInput("x", {1, 2, 5, 5});
  b.AddInput("bias", {4});
  b.AddFloatInit("w", {4, 2, 1, 1}, std::vector<float>(8, 1.f));
  b.AddNode("Conv", {"x", "w"}, {"c"}, "conv");
  auto& add = b.AddNode("Add", {"c", "bias"}, {"y"}, "add");
  AddInt(add, "broadcast", 1);
  AddInt(add, "axis", 1);
  b.AddOutput("y", {1, 4, 5, 5});
  Graph g = MustImport(b);
  ASSERT_EQ(g.nodes.size(), 3u);
  const Node* add_n = g.FindNode("add");
  const Node* reshape = nullptr;
  for (const auto& n : g.nodes) if (n.op_type == "Reshape") reshape = &n;
  ASSERT_NE(reshape, nullptr);
  EXPECT_EQ(reshape->inputs[0], "bias");
  EXPECT_EQ(reshape->outputs[0], add_n->inputs[1]);
  EXPECT_EQ(g.FindInitializer(reshape->inputs[1])->ToInt64Vector(), (std::vector<int64_t>{0, 1, 1}));
  EXPECT_TRUE(VerifyGraph(g).ok());  // Reshape sorted before the Add
}

TEST(OnnxLegacy, BroadcastWithoutAxisOrFlagIsNumpyCompatible) {
  OnnxModelBuilder b(6);
  b.AddInput("a", {2, 3});
  b.AddInput("b", {3});
  AddInt(b.AddNode("Div", {"a", "b"}, {"y"}, "div"), "broadcast", 1);
  b.AddOutput("y", {2, 3});
  Graph g = MustImport(b);
  EXPECT_EQ(g.nodes[0].inputs, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(g.nodes[0].attrs.all().empty());
}

TEST(OnnxLegacy, BroadcastWithUnknownRankIsUnsupported) {
  OnnxModelBuilder b(6);
  b.AddInput("a", {2, 3});
  b.AddInput("b", {3});
  b.AddNode("Tile", {"a", "b"}, {"t"}, "tile");  // no rank rule for Tile
  auto& add = b.AddNode("Add", {"t", "b"}, {"y"}, "add");
  AddInt(add, "broadcast", 1);
  AddInt(add, "axis", 1);
  b.AddOutput("y", {2, 3});
  auto g = ImportOnnxBytes(b.Serialize(), "test.onnx");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(g.status().message().find("Add 'add'"), std::string::npos) << g.status().message();
}

TEST(OnnxLegacy, BatchNormLegacyAttributesAndOutputs) {
  OnnxModelBuilder b(6);
  b.AddInput("x", {1, 2, 3, 3});
  for (const char* p : {"s", "bb", "m", "v"}) b.AddFloatInit(p, {2}, {1, 1});
  auto& bn = b.AddNode("BatchNormalization", {"x", "s", "bb", "m", "v"}, {"y", "mean", "var"}, "bn");
  AddInt(bn, "is_test", 1);
  AddInt(bn, "spatial", 1);
  AddInts(bn, "consumed_inputs", {0, 0, 0, 1, 1});
  AddFloat(bn, "epsilon", 1e-3f);
  b.AddOutput("y", {1, 2, 3, 3});
  Graph g = MustImport(b);
  const Node& n = g.nodes.at(0);
  EXPECT_EQ(n.outputs, (std::vector<std::string>{"y"}));
  ASSERT_EQ(n.attrs.all().size(), 1u);
  EXPECT_FLOAT_EQ(n.attrs.GetFloat("epsilon", 0), 1e-3f);

  OnnxModelBuilder b0(7);
  b0.AddInput("x", {1, 2});
  for (const char* p : {"s", "bb", "m", "v"}) b0.AddFloatInit(p, {2}, {1, 1});
  AddInt(b0.AddNode("BatchNormalization", {"x", "s", "bb", "m", "v"}, {"y"}, "bn"), "spatial", 0);
  b0.AddOutput("y", {1, 2});
  auto g0 = ImportOnnxBytes(b0.Serialize(), "test.onnx");
  ASSERT_FALSE(g0.ok());
  EXPECT_NE(g0.status().message().find("spatial=0"), std::string::npos) << g0.status().message();
}

TEST(OnnxLegacy, CastStringTypeAndConcatDefaultAxis) {
  OnnxModelBuilder b(1, 3);
  b.AddInput("x", {2, 3});
  AddString(b.AddNode("Cast", {"x"}, {"c"}, "cast"), "to", "int32");
  b.AddNode("Concat", {"c", "c"}, {"y"}, "cat");
  b.AddOutput("y", {2, 6}, onnx::TensorProto::INT32);
  Graph g = MustImport(b);
  EXPECT_EQ(g.FindNode("cast")->attrs.GetInt("to", 0), 6);
  EXPECT_EQ(g.FindNode("cat")->attrs.GetInt("axis", -1), 1);
}

TEST(OnnxImport, ConstantNodesBecomeInitializers) {
  OnnxModelBuilder b(13);
  b.AddInput("x", {2});
  AddFloat(b.AddNode("Constant", {}, {"cf"}), "value_float", 2.5f);
  AddFloats(b.AddNode("Constant", {}, {"cfs"}), "value_floats", {1.f, 2.f});
  AddInt(b.AddNode("Constant", {}, {"ci"}), "value_int", 7);
  AddInts(b.AddNode("Constant", {}, {"cis"}), "value_ints", {3, 4, 5});
  auto& ct = b.AddNode("Constant", {}, {"ct"});
  auto* a = ct.add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  a->mutable_t()->set_data_type(onnx::TensorProto::INT32);
  a->mutable_t()->add_dims(2);
  a->mutable_t()->add_int32_data(-1);
  a->mutable_t()->add_int32_data(9);
  b.AddNode("Add", {"x", "cfs"}, {"y"});
  b.AddOutput("y", {2});
  Graph g = MustImport(b);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.FindInitializer("cf")->shape(), Shape{});
  EXPECT_EQ(g.FindInitializer("cf")->ToFloatVector(), (std::vector<float>{2.5f}));
  EXPECT_EQ(g.FindInitializer("cfs")->ToFloatVector(), (std::vector<float>{1.f, 2.f}));
  EXPECT_EQ(g.FindInitializer("ci")->dtype(), DataType::kInt64);
  EXPECT_EQ(g.FindInitializer("ci")->ToInt64Vector(), (std::vector<int64_t>{7}));
  EXPECT_EQ(g.FindInitializer("cis")->shape(), (Shape{3}));
  EXPECT_EQ(g.FindInitializer("ct")->dtype(), DataType::kInt32);
  EXPECT_EQ(g.FindInitializer("ct")->ToInt64Vector(), (std::vector<int64_t>{-1, 9}));
}

TEST(OnnxImport, SparseConstantIsUnsupported) {
  OnnxModelBuilder b(13);
  auto& c = b.AddNode("Constant", {}, {"y"}, "sparse_c");
  auto* a = c.add_attribute();
  a->set_name("sparse_value");
  a->set_type(onnx::AttributeProto::SPARSE_TENSOR);
  a->mutable_sparse_tensor()->add_dims(4);
  b.AddOutput("y", {4});
  auto g = ImportOnnxBytes(b.Serialize(), "test.onnx");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(g.status().message().find("sparse_c"), std::string::npos) << g.status().message();
}

TEST(OnnxImport, NodeNamesSynthesizedAndDeduplicated) {
  OnnxModelBuilder b(13);
  b.AddInput("x", {2});
  b.AddNode("Relu", {"x"}, {"a"});             // -> Relu_0
  b.AddNode("Relu", {"a"}, {"b"}, "dup");      // keeps dup
  b.AddNode("Relu", {"b"}, {"c"}, "dup");      // -> dup_1
  b.AddNode("Relu", {"c"}, {"d"}, "Relu_0");   // explicit name wins: Relu_0; the unnamed one gets Relu_0_1
  b.AddOutput("d", {2});
  Graph g = MustImport(b);
  std::vector<std::string> names;
  for (const auto& n : g.nodes) names.push_back(n.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Relu_0_1", "dup", "dup_1", "Relu_0"}));
}

TEST(OnnxImport, AttributeKinds) {
  OnnxModelBuilder b(13);
  b.AddInput("x", {2});
  auto& n = b.AddNode("Relu", {"x"}, {"y"}, "r");
  AddInt(n, "i", -3);
  AddFloat(n, "f", 0.25f);
  AddString(n, "s", "hello");
  AddInts(n, "is", {1, 2});
  AddFloats(n, "fs", {0.5f});
  auto* ss = n.add_attribute();
  ss->set_name("ss");
  ss->set_type(onnx::AttributeProto::STRINGS);
  ss->add_strings("a");
  ss->add_strings("b");
  auto* t = n.add_attribute();
  t->set_name("t");
  t->set_type(onnx::AttributeProto::TENSOR);
  t->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  t->mutable_t()->add_float_data(4.f);
  auto* untyped = n.add_attribute();  // pre-IR-v2 exporters leave 'type' unset
  untyped->set_name("old");
  untyped->set_i(5);
  b.AddOutput("y", {2});
  Graph g = MustImport(b);
  const Attributes& a = g.nodes[0].attrs;
  EXPECT_EQ(a.GetInt("i", 0), -3);
  EXPECT_EQ(a.GetFloat("f", 0), 0.25f);
  EXPECT_EQ(a.GetString("s", ""), "hello");
  EXPECT_EQ(a.GetInts("is"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(a.GetFloats("fs"), (std::vector<float>{0.5f}));
  EXPECT_EQ(std::get<std::vector<std::string>>(*a.Find("ss")), (std::vector<std::string>{"a", "b"}));
  ASSERT_NE(a.GetTensor("t"), nullptr);
  EXPECT_EQ(a.GetTensor("t")->ToFloatVector(), (std::vector<float>{4.f}));
  EXPECT_EQ(a.GetInt("old", 0), 5);
}

TEST(OnnxImport, GraphAttributeIsUnsupported) {
  OnnxModelBuilder b(13);
  b.AddInput("c", {}, onnx::TensorProto::BOOL);
  auto& n = b.AddNode("If", {"c"}, {"y"}, "branch");
  auto* a = n.add_attribute();
  a->set_name("then_branch");
  a->set_type(onnx::AttributeProto::GRAPH);
  a->mutable_g()->set_name("then");
  b.AddOutput("y", {});
  auto g = ImportOnnxBytes(b.Serialize(), "test.onnx");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(g.status().message().find("If 'branch'"), std::string::npos) << g.status().message();
  EXPECT_NE(g.status().message().find("then_branch"), std::string::npos) << g.status().message();
}

TEST(OnnxImport, UnknownDomainNamesNodeAndDomain) {
  OnnxModelBuilder b(13);
  b.AddInput("x", {2});
  b.AddNode("Relu", {"x"}, {"a"}, "ok");
  b.AddNode("FusedThing", {"a"}, {"y"}, "custom").set_domain("com.example");
  b.AddOutput("y", {2});
  auto g = ImportOnnxBytes(b.Serialize(), "test.onnx");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(g.status().message().find("FusedThing 'custom'"), std::string::npos) << g.status().message();
  EXPECT_NE(g.status().message().find("com.example"), std::string::npos) << g.status().message();

  OnnxModelBuilder ok(13);  // "ai.onnx" is the default domain spelled out
  ok.AddInput("x", {2});
  ok.AddNode("Relu", {"x"}, {"y"}, "r").set_domain("ai.onnx");
  ok.AddOutput("y", {2});
  EXPECT_EQ(MustImport(ok).nodes[0].domain, "");
}

TEST(OnnxImport, OpsetRange) {
  for (int64_t opset : {0, 22}) {
    OnnxModelBuilder b(opset);
    b.AddInput("x", {2});
    b.AddNode("Relu", {"x"}, {"y"});
    b.AddOutput("y", {2});
    auto g = ImportOnnxBytes(b.Serialize(), "test.onnx");
    ASSERT_FALSE(g.ok()) << opset;
    EXPECT_NE(g.status().message().find("opset"), std::string::npos) << g.status().message();
  }
  OnnxModelBuilder b(21);
  b.AddInput("x", {2});
  b.AddNode("Relu", {"x"}, {"y"});
  b.AddOutput("y", {2});
  EXPECT_EQ(MustImport(b).opset, 21);
}

TEST(OnnxImport, InputsOutputsAndOrder) {
  OnnxModelBuilder b(13);
  b.AddInput("x", {-1, 3});
  auto* v = b.graph().add_input();  // no dim_value nor dim_param: symbolic
  v->set_name("z");
  v->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::INT64);
  v->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim();
  b.AddNode("Relu", {"a"}, {"y"}, "second");  // out of order
  b.AddNode("Relu", {"x"}, {"a"}, "first");
  b.AddNode("Dropout", {"y", "", ""}, {"d", ""}, "drop");  // trailing omitted inputs/outputs
  b.AddOutput("d", {-1, 3});
  Graph g = MustImport(b);
  ASSERT_EQ(g.inputs.size(), 2u);
  EXPECT_EQ(*g.inputs[0].shape, (Shape{-1, 3}));
  EXPECT_EQ(g.inputs[1].dtype, DataType::kInt64);
  EXPECT_EQ(*g.inputs[1].shape, (Shape{-1}));
  EXPECT_EQ(g.nodes[0].name, "first");
  EXPECT_EQ(g.nodes[2].inputs, (std::vector<std::string>{"y"}));
  EXPECT_EQ(g.nodes[2].outputs, (std::vector<std::string>{"d"}));
}

TEST(OnnxImport, MissingProducerNamesNode) {
  OnnxModelBuilder b(13);
  b.AddInput("x", {2});
  b.AddNode("Add", {"x", "ghost"}, {"y"}, "adder");
  b.AddOutput("y", {2});
  auto g = ImportOnnxBytes(b.Serialize(), "test.onnx");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("adder"), std::string::npos) << g.status().message();
  EXPECT_NE(g.status().message().find("ghost"), std::string::npos) << g.status().message();
}

TEST(OnnxImport, UnsupportedInputDtypeIsNamed) {
  OnnxModelBuilder b(13);
  b.AddInput("h", {2}, onnx::TensorProto::FLOAT16);
  b.AddNode("Relu", {"h"}, {"y"});
  b.AddOutput("y", {2}, onnx::TensorProto::FLOAT16);
  auto g = ImportOnnxBytes(b.Serialize(), "test.onnx");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(g.status().message().find("'h'"), std::string::npos) << g.status().message();
  EXPECT_NE(g.status().message().find("float16"), std::string::npos) << g.status().message();
}

}  // namespace
}  // namespace qcal
