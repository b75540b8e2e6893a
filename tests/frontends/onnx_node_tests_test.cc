// ONNX backend node tests (onnx v1.16.0, shared/testdata/onnx_node_tests_v1.16.0):
// import model.onnx, run it on qcal's Executor with test_data_set_*/input_N.pb and
// compare with output_N.pb using ONNX's tolerance.
//
// Skip vs fail:
//  - A test listed in kExpectedSkips (a data type or feature qcal deliberately
//    lacks) is skipped with its reason. docs/onnx_node_tests.md lists exactly
//    these entries (checked below).
//  - A test whose model uses an op with no registered kernel is skipped only if
//    that op is not in kRequiredOps (e.g. Where/Less/ReduceSum in the
//    "_expanded" function-body variants). A missing kernel for a required op fails.
//  - Anything else that does not import, prepare, run or match is a failure.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "frontends/onnx/onnx_importer.h"
#include "kernels/registry.h"
#include "runtime/executor.h"
#include "frontends/onnx_run_util.h"
#include "support/testdata.h"

namespace qcal {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNodeTestDir = "onnx_node_tests_v1.16.0";
constexpr size_t kNodeTestCount = 226;
constexpr double kRtol = 1e-3;
constexpr double kAtol = 1e-7;

struct ExpectedSkip {
  std::string_view test;
  std::string_view reason;
};

// Every node test qcal is expected not to run, with the reason. Keep in sync
// with docs/onnx_node_tests.md (the OnnxNodeTestsDoc test checks it).
constexpr ExpectedSkip kExpectedSkips[] = {
    {"test_batchnorm_epsilon_training_mode", "training_mode=1 BatchNormalization (extra mean/var outputs); qcal is inference-only"},
    {"test_batchnorm_example_training_mode", "training_mode=1 BatchNormalization (extra mean/var outputs); qcal is inference-only"},
    {"test_dequantizelinear_blocked", "blocked quantization (block_size, opset 21)"},
    {"test_dequantizelinear_e4m3fn", "float8 data type"},
    {"test_dequantizelinear_e4m3fn_float16", "float8 and float16 data types"},
    {"test_dequantizelinear_e4m3fn_zero_point", "float8 data type"},
    {"test_dequantizelinear_e5m2", "float8 data type"},
    {"test_dequantizelinear_int16", "int16 data type"},
    {"test_dequantizelinear_int4", "int4 data type"},
    {"test_dequantizelinear_uint16", "uint16 data type"},
    {"test_dequantizelinear_uint4", "uint4 data type"},
    {"test_maxpool_with_argmax_2d_precomputed_pads", "MaxPool Indices output"},
    {"test_maxpool_with_argmax_2d_precomputed_strides", "MaxPool Indices output"},
    {"test_qlinearmatmul_2D_int8_float16", "float16 data type"},
    {"test_qlinearmatmul_2D_uint8_float16", "float16 data type"},
    {"test_qlinearmatmul_3D_int8_float16", "float16 data type"},
    {"test_qlinearmatmul_3D_uint8_float16", "float16 data type"},
    {"test_quantizelinear_blocked_asymmetric", "blocked quantization (block_size, opset 21)"},
    {"test_quantizelinear_blocked_symmetric", "blocked quantization (block_size, opset 21) to int16"},
    {"test_quantizelinear_e4m3fn", "float8 data type"},
    {"test_quantizelinear_e5m2", "float8 data type"},
    {"test_quantizelinear_int16", "int16 data type"},
    {"test_quantizelinear_int4", "int4 data type"},
    {"test_quantizelinear_uint16", "uint16 data type"},
    {"test_quantizelinear_uint4", "uint4 data type"},
};

// Ops qcal must support (CNN inference and INT8 deployment). A node test using
// one of them without a registered kernel is a failure, not a skip.
constexpr std::string_view kRequiredOps[] = {
    // nn
    "Conv", "ConvTranspose", "Gemm", "MatMul", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
    "BatchNormalization", "Resize",
    // basic: elementwise, activations, shape and data movement
    "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Clip", "Exp",
    "Softmax", "Concat", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Pad", "Split", "Slice",
    "Shape", "Gather", "Cast", "ConstantOfShape", "ReduceMean", "Identity",
    // quantization
    "QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger",
    "DynamicQuantizeLinear",
};

const ExpectedSkip* FindSkip(const std::string& test) {
  for (const auto& s : kExpectedSkips) if (s.test == test) return &s;
  return nullptr;
}

bool IsRequired(const std::string& op) {
  return std::find(std::begin(kRequiredOps), std::end(kRequiredOps), op) != std::end(kRequiredOps);
}

std::vector<std::string> ListNodeTests() {
  std::vector<std::string> tests;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(testing::TestData(kNodeTestDir), ec)) {
    if (e.is_directory() && fs::exists(e.path() / "model.onnx")) tests.push_back(e.path().filename().string());
  }
  std::sort(tests.begin(), tests.end());
  return tests;
}

std::vector<std::string> SortedSubdirs(const fs::path& dir, const std::string& prefix) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string n = e.path().filename().string();
    if (n.rfind(prefix, 0) == 0) v.push_back(e.path().string());
  }
  std::sort(v.begin(), v.end());
  return v;
}

class OnnxNodeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxNodeTest, Run) {
  const std::string& name = GetParam();
  if (const ExpectedSkip* skip = FindSkip(name)) GTEST_SKIP() << skip->reason;
  fs::path dir = testing::TestData(std::string(kNodeTestDir) + "/" + name);

  auto graph = ImportOnnxFile((dir / "model.onnx").string());
  ASSERT_TRUE(graph.ok()) << graph.status().ToString();
  for (const Node& node : graph->nodes) {
    if (!KernelRegistry::Global().KernelsFor(node.op_type).empty()) continue;
    if (IsRequired(node.op_type)) FAIL() << "no kernel registered for required op " << node.Describe();
    GTEST_SKIP() << "op " << node.op_type << " has no kernel and is not in qcal's required ops";
  }

  auto sets = SortedSubdirs(dir, "test_data_set_");
  ASSERT_FALSE(sets.empty()) << "no test_data_set_* in " << dir;
  for (const auto& set : sets) testing::RunTestDataSet(*graph, set, kRtol, kAtol);
}

INSTANTIATE_TEST_SUITE_P(Onnx, OnnxNodeTest, ::testing::ValuesIn(ListNodeTests()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(OnnxNodeTest);

TEST(OnnxNodeTestsData, AllTestsPresentAndSkipTableValid) {
  auto tests = ListNodeTests();
  EXPECT_EQ(tests.size(), kNodeTestCount) << "expected the " << kNodeTestCount << " tests of " << kNodeTestDir;
  std::set<std::string> all(tests.begin(), tests.end());
  for (const auto& s : kExpectedSkips) EXPECT_TRUE(all.count(std::string(s.test))) << "stale skip entry " << s.test;
}

// docs/onnx_node_tests.md lists exactly the skip table (rows "| `test` | reason |").
TEST(OnnxNodeTestsDoc, ListsExactlyTheSkipTable) {
  std::ifstream f(testing::SourceDir("docs/onnx_node_tests.md"));
  ASSERT_TRUE(f.good()) << "docs/onnx_node_tests.md is missing";
  std::map<std::string, std::string> doc;
  std::regex row(R"(^\| `(test_\w+)` \| (.*) \|\s*$)");
  std::smatch m;
  for (std::string line; std::getline(f, line);) {
    if (std::regex_match(line, m, row)) doc[m[1]] = m[2];
  }
  std::map<std::string, std::string> table;
  std::ostringstream expected;
  for (const auto& s : kExpectedSkips) {
    table[std::string(s.test)] = std::string(s.reason);
    expected << "| `" << s.test << "` | " << s.reason << " |\n";
  }
  EXPECT_EQ(doc, table) << "regenerate the table in docs/onnx_node_tests.md:\n" << expected.str();
}

}  // namespace
}  // namespace qcal
