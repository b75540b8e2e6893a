// TensorProto -> Tensor: every storage field, validation of dims and sizes.
#include <gtest/gtest.h>

#include <cstring>

#include "frontends/onnx/onnx_importer.h"
#include "frontends/onnx/onnx_tensor.h"
#include "frontends/onnx_test_util.h"
#include "support/testdata.h"

namespace qcal {
namespace {

onnx::TensorProto MakeProto(const std::string& name, int dtype, const std::vector<int64_t>& dims) {
  onnx::TensorProto p;
  p.set_name(name);
  p.set_data_type(dtype);
  for (auto d : dims) p.add_dims(d);
  return p;
}

Result<NamedTensor> Parse(const onnx::TensorProto& p) { return ParseTensorProto(p.SerializeAsString(), "t.pb"); }

void ExpectError(const Result<NamedTensor>& r, StatusCode code, const std::vector<std::string>& words) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  for (const auto& w : words) EXPECT_NE(r.status().message().find(w), std::string::npos) << r.status().message();
}

TEST(OnnxTensor, RawFloat) {
  auto p = MakeProto("w", onnx::TensorProto::FLOAT, {2, 2});
  float v[4] = {1.5f, -2.f, 3.25f, 0.f};
  p.set_raw_data(std::string(reinterpret_cast<const char*>(v), sizeof(v)));
  auto r = Parse(p);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "w");
  EXPECT_EQ(r->tensor.shape(), (Shape{2, 2}));
  EXPECT_EQ(r->tensor.ToFloatVector(), (std::vector<float>{1.5f, -2.f, 3.25f, 0.f}));
}

TEST(OnnxTensor, TypedFields) {
  auto f = MakeProto("f", onnx::TensorProto::FLOAT, {3});
  for (float x : {1.f, 2.f, 3.f}) f.add_float_data(x);
  EXPECT_EQ(Parse(f)->tensor.ToFloatVector(), (std::vector<float>{1, 2, 3}));

  auto i8 = MakeProto("i8", onnx::TensorProto::INT8, {3});
  for (int x : {-128, 0, 127}) i8.add_int32_data(x);
  auto r8 = Parse(i8);
  ASSERT_TRUE(r8.ok()) << r8.status().ToString();
  EXPECT_EQ(r8->tensor.dtype(), DataType::kInt8);
  EXPECT_EQ(r8->tensor.ToInt64Vector(), (std::vector<int64_t>{-128, 0, 127}));

  auto u8 = MakeProto("u8", onnx::TensorProto::UINT8, {2});
  for (int x : {0, 255}) u8.add_int32_data(x);
  EXPECT_EQ(Parse(u8)->tensor.ToInt64Vector(), (std::vector<int64_t>{0, 255}));

  auto b = MakeProto("b", onnx::TensorProto::BOOL, {3});
  for (int x : {0, 1, 1}) b.add_int32_data(x);
  EXPECT_EQ(Parse(b)->tensor.dtype(), DataType::kBool);
  EXPECT_EQ(Parse(b)->tensor.ToInt64Vector(), (std::vector<int64_t>{0, 1, 1}));

  auto i32 = MakeProto("i32", onnx::TensorProto::INT32, {2});
  for (int x : {-70000, 70000}) i32.add_int32_data(x);
  EXPECT_EQ(Parse(i32)->tensor.ToInt64Vector(), (std::vector<int64_t>{-70000, 70000}));

  auto i64 = MakeProto("i64", onnx::TensorProto::INT64, {2});
  for (int64_t x : {int64_t{-1} << 40, int64_t{5}}) i64.add_int64_data(x);
  EXPECT_EQ(Parse(i64)->tensor.ToInt64Vector(), (std::vector<int64_t>{int64_t{-1} << 40, 5}));
}

TEST(OnnxTensor, DoubleBecomesFloat32) {
  auto d = MakeProto("d", onnx::TensorProto::DOUBLE, {2});
  d.add_double_data(0.5);
  d.add_double_data(-1e10);
  auto r = Parse(d);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tensor.dtype(), DataType::kFloat32);
  EXPECT_EQ(r->tensor.ToFloatVector(), (std::vector<float>{0.5f, -1e10f}));

  auto raw = MakeProto("d", onnx::TensorProto::DOUBLE, {1});
  double v = 2.25;
  raw.set_raw_data(std::string(reinterpret_cast<const char*>(&v), sizeof(v)));
  EXPECT_EQ(Parse(raw)->tensor.ToFloatVector(), (std::vector<float>{2.25f}));
}

TEST(OnnxTensor, ScalarAndEmpty) {
  auto s = MakeProto("s", onnx::TensorProto::INT64, {});
  s.add_int64_data(7);
  EXPECT_EQ(Parse(s)->tensor.shape(), Shape{});
  EXPECT_EQ(Parse(s)->tensor.ToInt64Vector(), (std::vector<int64_t>{7}));
  auto e = MakeProto("e", onnx::TensorProto::FLOAT, {0, 3});
  auto r = Parse(e);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tensor.numel(), 0);
}

TEST(OnnxTensor, DataShorterThanDims) {
  auto raw = MakeProto("short_raw", onnx::TensorProto::FLOAT, {2, 3});
  raw.set_raw_data(std::string(20, '\0'));  // 5 floats, 6 needed
  ExpectError(Parse(raw), StatusCode::kCorrupt, {"short_raw", "t.pb", "20 bytes", "24"});
  auto typed = MakeProto("short_typed", onnx::TensorProto::INT64, {4});
  typed.add_int64_data(1);
  ExpectError(Parse(typed), StatusCode::kCorrupt, {"short_typed", "int64_data"});
  auto none = MakeProto("no_data", onnx::TensorProto::FLOAT, {2});
  ExpectError(Parse(none), StatusCode::kCorrupt, {"no_data"});
}

TEST(OnnxTensor, BadDims) {
  auto neg = MakeProto("neg", onnx::TensorProto::FLOAT, {2, -3});
  ExpectError(Parse(neg), StatusCode::kCorrupt, {"neg", "negative dimension -3"});
  // 2^31 * 2^31 * 2^31 elements: overflow detected before any allocation.
  auto huge = MakeProto("huge", onnx::TensorProto::FLOAT, {int64_t{1} << 31, int64_t{1} << 31, int64_t{1} << 31});
  huge.add_float_data(1.f);
  ExpectError(Parse(huge), StatusCode::kCorrupt, {"huge", "overflows"});
  // Huge but representable dims with tiny data: size mismatch, no allocation.
  auto big = MakeProto("big", onnx::TensorProto::FLOAT, {int64_t{1} << 40});
  big.set_raw_data("abcd");
  ExpectError(Parse(big), StatusCode::kCorrupt, {"big"});
}

TEST(OnnxTensor, OutOfRangeInt8Value) {
  auto p = MakeProto("q", onnx::TensorProto::INT8, {1});
  p.add_int32_data(300);
  ExpectError(Parse(p), StatusCode::kCorrupt, {"q", "300"});
}

TEST(OnnxTensor, ExternalDataIsUnsupported) {
  auto p = MakeProto("ext", onnx::TensorProto::FLOAT, {4});
  p.set_data_location(onnx::TensorProto::EXTERNAL);
  auto* kv = p.add_external_data();
  kv->set_key("location");
  kv->set_value("weights.bin");
  ExpectError(Parse(p), StatusCode::kUnsupported, {"ext", "external", "weights.bin"});
}

TEST(OnnxTensor, UnsupportedDtypesAreNamed) {
  auto h = MakeProto("half", onnx::TensorProto::FLOAT16, {1});
  h.add_int32_data(0);
  ExpectError(Parse(h), StatusCode::kUnsupported, {"half", "float16"});
  auto i16 = MakeProto("s16", onnx::TensorProto::INT16, {1});
  i16.add_int32_data(0);
  ExpectError(Parse(i16), StatusCode::kUnsupported, {"s16", "int16"});
  auto f8 = MakeProto("f8", 17, {1});
  f8.set_raw_data(std::string(1, '\0'));
  ExpectError(Parse(f8), StatusCode::kUnsupported, {"f8", "float8e4m3fn"});
}

TEST(OnnxTensor, GarbageFileNamesOrigin) {
  auto r = ParseTensorProto("\xff\xff\xff\xff garbage", "bad.pb");
  ExpectError(r, StatusCode::kCorrupt, {"bad.pb", "bytes"});
}

// test_add: output = input_0 + input_1, read from the ONNX node-test .pb files.
TEST(OnnxTensor, ReadsNodeTestFiles) {
  std::string dir = testing::TestData("onnx_node_tests_v1.16.0/test_add/test_data_set_0/");
  auto a = ReadTensorProtoFile(dir + "input_0.pb");
  auto b = ReadTensorProtoFile(dir + "input_1.pb");
  auto c = ReadTensorProtoFile(dir + "output_0.pb");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << a.status().ToString() << b.status().ToString() << c.status().ToString();
  EXPECT_EQ(a->tensor.shape(), (Shape{3, 4, 5}));
  EXPECT_EQ(a->name, "x");
  ASSERT_EQ(c->tensor.numel(), 60);
  auto av = a->tensor.ToFloatVector(), bv = b->tensor.ToFloatVector(), cv = c->tensor.ToFloatVector();
  for (size_t i = 0; i < cv.size(); ++i) EXPECT_FLOAT_EQ(av[i] + bv[i], cv[i]);
  EXPECT_FALSE(ReadTensorProtoFile(dir + "missing.pb").ok());
}

// A bad initializer inside a model: the error names the initializer and the file.
TEST(OnnxTensor, BadInitializerInModelIsNamed) {
  testing::OnnxModelBuilder b(13);
  b.AddInput("x", {2});
  b.AddFloatInit("w", {3}, {1.f, 2.f});  // 2 values for 3 elements
  b.AddNode("Add", {"x", "w"}, {"y"});
  b.AddOutput("y", {2});
  auto g = ImportOnnxBytes(b.Serialize(), "m.onnx");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(g.status().message().find("initializer 'w'"), std::string::npos) << g.status().message();
  EXPECT_NE(g.status().message().find("m.onnx"), std::string::npos) << g.status().message();
}

}  // namespace
}  // namespace qcal
