// Imported real models compute what independent references computed: the
// importer's rewrites (opset-1 Reshape, legacy broadcasting, Slice/Unsqueeze
// attribute forms) checked numerically. Needs the reference kernels.
#include <gtest/gtest.h>

#include "frontends/onnx/onnx_importer.h"
#include "frontends/onnx_run_util.h"
#include "kernels/registry.h"
#include "support/testdata.h"

namespace qcal {
namespace {

// Every op of these models is one qcal must run: a missing kernel is a failure.
void ExpectKernelsFor(const Graph& g) {
  for (const Node& n : g.nodes) {
    EXPECT_FALSE(KernelRegistry::Global().KernelsFor(n.op_type).empty()) << "no kernel for " << n.Describe();
  }
}

Graph MustImport(const std::string& path) {
  auto g = ImportOnnxFile(path);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return g.ok() ? std::move(g).value() : Graph{};
}

// Logits from a PyTorch re-implementation (tests/testdata/mnist_cntk_onnx/make_test_data.py);
// magnitudes are in the thousands (raw 0..255 pixels).
TEST(OnnxModelRun, MnistCntkOpset1MatchesReference) {
  Graph g = MustImport(testing::TestData("mnist_cntk_onnx/model.onnx"));
  ExpectKernelsFor(g);
  if (HasFailure()) return;
  for (int i = 0; i < 3; ++i) {
    testing::RunTestDataSet(g, testing::SourceDir("tests/testdata/mnist_cntk_onnx/test_data_set_" + std::to_string(i)),
                            1e-4, 1e-2);
  }
}

// 8 CIFAR images, logits from PyTorch (MANIFEST: ONNX vs PyTorch within 2.5e-5).
TEST(OnnxModelRun, CifarResNet20MatchesPyTorch) {
  Graph g = MustImport(testing::TestData("cifar10_resnet_akamaster/cifar10_resnet20.onnx"));
  ExpectKernelsFor(g);
  if (HasFailure()) return;
  testing::RunTestDataSet(g, testing::TestData("cifar10_resnet_akamaster/resnet20_test_data_set_0"), 1e-3, 1e-4);
}

// The three UltraFace exports share weights: 'scores' agree across all of them
// (the full one via Slice/Unsqueeze attribute forms, the simplified one with BN
// folded), and the two without box decoding give the same 'boxes'.
TEST(OnnxModelRun, UltraFaceVariantsAgree) {
  const char* files[] = {"version-RFB-320.onnx", "version-RFB-320_simplified.onnx",
                         "version-RFB-320_without_postprocessing.onnx"};
  Tensor x(DataType::kFloat32, {1, 3, 240, 320});
  uint32_t s = 12345;
  for (int64_t i = 0; i < x.numel(); ++i) {
    s = s * 1664525u + 1013904223u;
    x.data<float>()[i] = static_cast<float>(s >> 8) / static_cast<float>(1 << 24) * 2.f - 1.f;
  }
  std::vector<TensorMap> results;
  for (const char* f : files) {
    SCOPED_TRACE(f);
    Graph g = MustImport(testing::TestData(std::string("ultraface_RFB-320/") + f));
    ExpectKernelsFor(g);
    if (HasFailure()) return;
    auto exec = Executor::Create(g);
    ASSERT_TRUE(exec.ok()) << exec.status().ToString();
    TensorMap out;
    Status st = (*exec)->Run({{"input", x}}, &out);
    ASSERT_TRUE(st.ok()) << st.ToString();
    results.push_back(std::move(out));
  }
  testing::ExpectTensorsClose(results[1].at("scores"), results[0].at("scores"), "full vs simplified scores", 1e-3, 1e-5);
  testing::ExpectTensorsClose(results[1].at("scores"), results[2].at("scores"), "scores", 1e-3, 1e-5);
  testing::ExpectTensorsClose(results[1].at("boxes"), results[2].at("boxes"), "boxes", 1e-3, 1e-5);
  EXPECT_EQ(results[0].at("boxes").shape(), (Shape{1, 4420, 4}));
}

}  // namespace
}  // namespace qcal
