// `qcal info` and `qcal run` as a user runs them: real models, and bad inputs
// that must give one clear error line and a non-zero exit code.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "frontends/onnx/onnx_tensor.h"
#include "ir/npy.h"
#include "ir/npz.h"
#include "support/testdata.h"

namespace qcal {
namespace {

using testing::TestData;

const std::string kResNet20 = "cifar10_resnet_akamaster/cifar10_resnet20.onnx";
const std::string kResNetData = "cifar10_resnet_akamaster/resnet20_test_data_set_0";

std::string CliModel(const std::string& name) { return testing::SourceDir("tests/testdata/cli/" + name); }

int Qcal(const std::string& args, std::string* out) { return testing::RunCommand(testing::QcalBinary() + " " + args, out); }

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Runs qcal and expects failure with a single "[qcal] error:" line containing every `parts`.
void ExpectError(const std::string& args, std::initializer_list<std::string> parts) {
  std::string out;
  int rc = Qcal(args, &out);
  EXPECT_NE(rc, 0) << args << "\n" << out;
  EXPECT_NE(rc, 3) << "internal error (exception) for: " << args << "\n" << out;
  EXPECT_TRUE(Contains(out, "[qcal] error: ")) << out;
  for (const auto& p : parts) EXPECT_TRUE(Contains(out, p)) << "missing '" << p << "' in:\n" << out;
}

float MaxAbsDiff(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return INFINITY;
  auto va = a.ToFloatVector(), vb = b.ToFloatVector();
  float m = 0;
  for (size_t i = 0; i < va.size(); ++i) m = std::max(m, std::fabs(va[i] - vb[i]));
  return m;
}

TEST(CliRunTest, ReproducesResNet20TestData) {
  std::string dir = testing::MakeTempDir() + "/out/nested";  // created by qcal
  std::string out;
  int rc = Qcal("run --model " + TestData(kResNet20) + " --input " + TestData(kResNetData + "/input_0.pb") +
                    " --output-dir " + dir,
                &out);
  ASSERT_EQ(rc, 0) << out;
  auto got = ReadNpyFile(dir + "/logits.npy");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  auto want = ReadTensorProtoFile(TestData(kResNetData + "/output_0.pb"));
  ASSERT_TRUE(want.ok());
  EXPECT_LE(MaxAbsDiff(*got, want->tensor), 1e-4f);
}

TEST(CliRunTest, MnistWithNamedNpyInput) {
  auto npz = ReadNpzFile(TestData("mnist_cntk_onnx/test_data_1.npz"));
  ASSERT_TRUE(npz.ok());
  std::string dir = testing::MakeTempDir();
  Tensor x = Tensor::FromVector<float>(npz->at("inputs").ToFloatVector(), {1, 1, 28, 28});
  ASSERT_TRUE(WriteNpyFile(dir + "/x.npy", x).ok());
  std::string out;
  int rc = Qcal("run --model " + TestData("mnist_cntk_onnx/model.onnx") + " --input Input3=" + dir +
                    "/x.npy --output-dir " + dir,
                &out);
  ASSERT_EQ(rc, 0) << out;
  auto y = ReadNpyFile(dir + "/Plus214_Output_0.npy");
  ASSERT_TRUE(y.ok()) << y.status().ToString() << "\n" << out;
  auto logits = y->ToFloatVector();
  auto label = npz->at("outputs").ToFloatVector();
  EXPECT_EQ(std::max_element(logits.begin(), logits.end()) - logits.begin(),
            std::max_element(label.begin(), label.end()) - label.begin());
}

TEST(CliInfoTest, ResNet20Summary) {
  std::string out;
  ASSERT_EQ(Qcal("info --model " + TestData(kResNet20), &out), 0) << out;
  EXPECT_TRUE(Contains(out, "input  float32 [N,3,32,32]")) << out;
  EXPECT_TRUE(Contains(out, "logits  float32 [N,10]")) << out;
  EXPECT_TRUE(Contains(out, "quantizable layers (21)")) << out;  // 19 Conv + Gemm + AveragePool
  EXPECT_TRUE(Contains(out, "weight [16,3,3,3]")) << out;
  EXPECT_TRUE(Contains(out, "weight [10,64]")) << out;
  EXPECT_TRUE(Contains(out, "kernel [8,8]")) << out;
  EXPECT_FALSE(Contains(out, "Shape ")) << out;

  ASSERT_EQ(Qcal("info --json --model " + TestData(kResNet20) + " 2>/dev/null", &out), 0) << out;
  auto j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["inputs"][0]["name"], "input");
  EXPECT_EQ(j["inputs"][0]["shape"], nlohmann::json({-1, 3, 32, 32}));
  EXPECT_EQ(j["op_counts"]["Conv"], 19);
  EXPECT_EQ(j["quantizable_layers"].size(), 21u);
}

TEST(CliInfoTest, InputShapeOverrideFixesBatch) {
  std::string out;
  ASSERT_EQ(Qcal("info --model " + TestData(kResNet20) + " --input-shape input:4,3,32,32", &out), 0) << out;
  EXPECT_TRUE(Contains(out, "logits  float32 [4,10]")) << out;
  ExpectError("info --model " + TestData(kResNet20) + " --input-shape image:4,3,32,32", {"'image'", "input"});
  ExpectError("info --model " + TestData(kResNet20) + " --input-shape input:4,3,32", {"rank 3"});
  ExpectError("info --model " + TestData(kResNet20) + " --input-shape input:4,x,32,32", {"'x'"});
}

class CliErrorTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir(); }
  std::string RunArgs(const std::string& model, const std::string& input) {
    return "run --model " + model + " --input " + input + " --output-dir " + dir_ + "/out";
  }
  std::string Write(const std::string& name, const Tensor& t) {
    std::string p = dir_ + "/" + name;
    EXPECT_TRUE(WriteNpyFile(p, t).ok());
    return p;
  }
  std::string dir_;
};

TEST_F(CliErrorTest, GarbageModel) {
  std::string p = dir_ + "/garbage.onnx";
  ASSERT_TRUE(WriteFileAtomic(p, std::string(3000, '\xff') + "this is not protobuf").ok());
  ExpectError("info --model " + p, {"garbage.onnx"});
}

TEST_F(CliErrorTest, TruncatedModel) {
  auto bytes = ReadFile(TestData(kResNet20));
  ASSERT_TRUE(bytes.ok());
  std::string p = dir_ + "/truncated.onnx";
  ASSERT_TRUE(WriteFileAtomic(p, bytes->substr(0, bytes->size() / 3)).ok());
  ExpectError(RunArgs(p, TestData(kResNetData + "/input_0.pb")), {"truncated.onnx"});
}

TEST_F(CliErrorTest, MissingFiles) {
  ExpectError("info --model " + dir_ + "/nope.onnx", {"nope.onnx"});
  ExpectError(RunArgs(CliModel("tiny_relu.onnx"), dir_ + "/nope.npy"), {"nope.npy"});
  ExpectError(RunArgs(CliModel("tiny_relu.onnx"), dir_ + "/input.bin"), {"input.bin", ".npy"});
}

TEST_F(CliErrorTest, WrongInputName) {
  std::string x = Write("x.npy", Tensor(DataType::kFloat32, {2, 3}));
  ExpectError(RunArgs(CliModel("tiny_relu.onnx"), "image=" + x), {"'image'", "not a model input", "x"});
}

TEST_F(CliErrorTest, WrongDtype) {
  std::string x = Write("x.npy", Tensor(DataType::kInt32, {2, 3}));
  ExpectError(RunArgs(CliModel("tiny_relu.onnx"), "x=" + x), {"'x'", "int32", "float32"});
}

TEST_F(CliErrorTest, WrongShape) {
  std::string x = Write("x.npy", Tensor(DataType::kFloat32, {2, 4}));
  ExpectError(RunArgs(CliModel("tiny_relu.onnx"), x), {"[2,4]", "[N,3]"});
  std::string r = Write("r.npy", Tensor(DataType::kFloat32, {1, 784}));
  ExpectError(RunArgs(TestData("mnist_cntk_onnx/model.onnx"), r), {"[1,784]", "[1,1,28,28]"});
}

TEST_F(CliErrorTest, UnsupportedOpsAreAllNamed) {
  ExpectError("info --model " + CliModel("two_unsupported_ops.onnx"),
              {"det_node", "Det", "einsum_node", "Einsum"});
}

TEST_F(CliErrorTest, RunWritesOutputNpy) {
  std::string x = Write("x.npy", Tensor::FromVector<float>({-1, 2, -3, 4, 5, -6}, {2, 3}));
  std::string out;
  ASSERT_EQ(Qcal(RunArgs(CliModel("tiny_relu.onnx"), x), &out), 0) << out;
  auto y = ReadNpyFile(dir_ + "/out/y.npy");
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->ToFloatVector(), (std::vector<float>{0, 2, 0, 4, 5, 0}));
}

TEST_F(CliErrorTest, OutputNamesAreSanitized) {
  std::string x = Write("x.npy", Tensor::FromVector<float>({-1, 3}, {2}));
  std::string out;
  ASSERT_EQ(Qcal(RunArgs(CliModel("slash_outputs.onnx"), x), &out), 0) << out;
  auto a = ReadNpyFile(dir_ + "/out/head_relu_0.npy");
  auto b = ReadNpyFile(dir_ + "/out/_.._up.npy");  // "../up" must not escape the output dir
  ASSERT_TRUE(a.ok()) << a.status().ToString() << "\n" << out;
  ASSERT_TRUE(b.ok()) << b.status().ToString() << "\n" << out;
  EXPECT_EQ(a->ToFloatVector(), (std::vector<float>{0, 3}));
  EXPECT_EQ(b->ToFloatVector(), (std::vector<float>{0, 3}));
}

}  // namespace
}  // namespace qcal
