// Real models through LoadModel + Executor, compared with reference outputs
// staged next to the models (PyTorch / ONNX model zoo data).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "frontends/onnx/onnx_tensor.h"
#include "ir/npz.h"
#include "runtime/executor.h"
#include "runtime/model_loader.h"
#include "support/testdata.h"

namespace qcal {
namespace {

using testing::TestData;

Graph Load(const std::string& rel, LoadOptions opts = {}) {
  auto g = LoadModel({TestData(rel), ""}, opts);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return g.ok() ? std::move(g).value() : Graph{};
}

Tensor ReadPb(const std::string& rel) {
  auto t = ReadTensorProtoFile(TestData(rel));
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? t->tensor : Tensor{};
}

TensorMap RunGraph(const Graph& g, const TensorMap& inputs, ExecutorOptions options = {}) {
  TensorMap outs;
  auto ex = Executor::Create(g, {}, options);
  EXPECT_TRUE(ex.ok()) << ex.status().ToString();
  if (!ex.ok()) return outs;
  Status st = (*ex)->Run(inputs, &outs);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return outs;
}

float MaxAbsDiff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  if (a.shape() != b.shape()) return INFINITY;
  auto va = a.ToFloatVector(), vb = b.ToFloatVector();
  float m = 0;
  for (size_t i = 0; i < va.size(); ++i) m = std::max(m, std::fabs(va[i] - vb[i]));
  return m;
}

int CountOp(const Graph& g, const std::string& op) {
  return static_cast<int>(std::count_if(g.nodes.begin(), g.nodes.end(), [&](const Node& n) { return n.op_type == op; }));
}

int64_t ArgMax(const std::vector<float>& v) { return std::max_element(v.begin(), v.end()) - v.begin(); }

void CheckResNet(const std::string& model, const std::string& data_dir) {
  Graph g = Load("cifar10_resnet_akamaster/" + model);
  ASSERT_FALSE(g.nodes.empty());
  for (const char* op : {"Shape", "Gather", "Unsqueeze", "Concat", "ConstantOfShape", "Cast"}) {
    EXPECT_EQ(CountOp(g, op), 0) << op << " left after folding";
  }
  EXPECT_EQ(g.inputs[0].shape, (Shape{-1, 3, 32, 32}));  // batch still symbolic
  Tensor x = ReadPb("cifar10_resnet_akamaster/" + data_dir + "/input_0.pb");
  Tensor want = ReadPb("cifar10_resnet_akamaster/" + data_dir + "/output_0.pb");
  ASSERT_EQ(x.shape(), (Shape{8, 3, 32, 32}));
  TensorMap out = RunGraph(g, {{"input", x}});
  float err = MaxAbsDiff(out["logits"], want);
  EXPECT_LE(err, 1e-4f);
  std::printf("%s vs PyTorch: max |diff| = %.3g\n", model.c_str(), err);

  // Folding must not change the results. (Compared without the executor's
  // inference fusions: the unfolded graph's shortcut shapes are only known at
  // run time, so fewer residual Adds would fuse there, changing the rounding.)
  LoadOptions raw;
  raw.fold_constants = false;
  raw.eliminate_dead_code = false;
  Graph unfolded = Load("cifar10_resnet_akamaster/" + model, raw);
  EXPECT_GT(unfolded.nodes.size(), g.nodes.size());
  ExecutorOptions as_given;
  as_given.fuse = false;
  TensorMap out_unfolded = RunGraph(unfolded, {{"input", x}}, as_given);
  TensorMap out_folded = RunGraph(g, {{"input", x}}, as_given);
  EXPECT_LE(MaxAbsDiff(out_folded["logits"], out_unfolded["logits"]), 1e-6f);
}

TEST(ModelsTest, ResNet20MatchesPyTorch) { CheckResNet("cifar10_resnet20.onnx", "resnet20_test_data_set_0"); }
TEST(ModelsTest, ResNet56MatchesPyTorch) { CheckResNet("cifar10_resnet56.onnx", "resnet56_test_data_set_0"); }

TEST(ModelsTest, ResNet20BatchOverride) {
  LoadOptions opts;
  opts.input_shapes["input"] = {8, 3, 32, 32};
  Graph g = Load("cifar10_resnet_akamaster/cifar10_resnet20.onnx", opts);
  ASSERT_EQ(g.outputs.size(), 1u);  // not loaded: fail here, do not index an empty list
  EXPECT_EQ(g.outputs[0].shape, (Shape{8, 10}));
  Tensor x = ReadPb("cifar10_resnet_akamaster/resnet20_test_data_set_0/input_0.pb");
  Tensor want = ReadPb("cifar10_resnet_akamaster/resnet20_test_data_set_0/output_0.pb");
  EXPECT_LE(MaxAbsDiff(RunGraph(g, {{"input", x}})["logits"], want), 1e-4f);
}

TEST(ModelsTest, MnistClassifiesTheThreeZooCases) {
  Graph g = Load("mnist_cntk_onnx/model.onnx");
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.inputs[0].shape, (Shape{1, 1, 28, 28}));
  for (int i = 0; i < 3; ++i) {
    auto npz = ReadNpzFile(TestData("mnist_cntk_onnx/test_data_" + std::to_string(i) + ".npz"));
    ASSERT_TRUE(npz.ok()) << npz.status().ToString();
    auto pixels = npz->at("inputs").ToFloatVector();
    Tensor x = Tensor::FromVector<float>(pixels, {1, 1, 28, 28});
    TensorMap out = RunGraph(g, {{g.inputs[0].name, x}});
    auto logits = out[g.outputs[0].name].ToFloatVector();
    ASSERT_EQ(logits.size(), 10u);
    auto label = npz->at("outputs").ToFloatVector();
    EXPECT_EQ(ArgMax(logits), ArgMax(label)) << "case " << i;
  }
}

// A smooth synthetic 320x240 image already normalized like (x - 127) / 128.
Tensor UltraFaceInput() {
  Tensor x(DataType::kFloat32, {1, 3, 240, 320});
  float* p = x.data<float>();
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 240; ++y) {
      for (int w = 0; w < 320; ++w) {
        *p++ = 0.9f * std::sin(0.05f * static_cast<float>(w) + 1.3f * static_cast<float>(c)) *
               std::cos(0.07f * static_cast<float>(y) - 0.4f * static_cast<float>(c));
      }
    }
  }
  return x;
}

TensorMap RunUltraFace(const std::string& variant) {
  Graph g = Load("ultraface_RFB-320/" + variant);
  EXPECT_EQ(g.inputs.size(), 1u) << variant;  // initializers listed as inputs are not inputs
  TensorMap out = RunGraph(g, {{"input", UltraFaceInput()}});
  EXPECT_EQ(out["scores"].shape(), (Shape{1, 4420, 2})) << variant;
  EXPECT_EQ(out["boxes"].shape(), (Shape{1, 4420, 4})) << variant;
  return out;
}

TEST(ModelsTest, UltraFaceSimplifiedAndUnsimplifiedAgree) {
  // _simplified has BatchNorm folded and shape subgraphs removed by onnx-simplifier.
  TensorMap simplified = RunUltraFace("version-RFB-320_simplified.onnx");
  TensorMap raw = RunUltraFace("version-RFB-320_without_postprocessing.onnx");
  float ds = MaxAbsDiff(simplified["scores"], raw["scores"]);
  float db = MaxAbsDiff(simplified["boxes"], raw["boxes"]);
  std::printf("UltraFace simplified vs without_postprocessing: scores %.3g, boxes %.3g\n", ds, db);
  EXPECT_LE(ds, 1e-4f);
  EXPECT_LE(db, 1e-4f);
  auto s = simplified["scores"].ToFloatVector();
  ASSERT_GE(s.size(), 40u);
  for (size_t i = 0; i < 40; i += 2) EXPECT_NEAR(s[i] + s[i + 1], 1.0f, 1e-5f);  // softmax pairs
}

TEST(ModelsTest, UltraFaceWithPostprocessingScoresAgree) {
  // The full model also decodes boxes (Exp, priors); its scores are the same.
  TensorMap full = RunUltraFace("version-RFB-320.onnx");
  TensorMap simplified = RunUltraFace("version-RFB-320_simplified.onnx");
  float ds = MaxAbsDiff(full["scores"], simplified["scores"]);
  std::printf("UltraFace full vs simplified: scores %.3g\n", ds);
  EXPECT_LE(ds, 1e-4f);
}

TEST(ModelsTest, ShuffleNetMatchesInt8ReferenceClass) {
  Graph g = Load("imagenet_shufflenet_v2/shufflenet-v2-12-dequantized-fp32.onnx");
  Tensor x = ReadPb("imagenet_shufflenet_v2/test_data_set_0/input_0.pb");
  Tensor want = ReadPb("imagenet_shufflenet_v2/test_data_set_0/output_0.pb");
  // The reference output comes from the int8 model, whose uint8 input quantizer
  // (scale 0.01865845, zero point 114) clips the out-of-range input; do the same.
  const float lo = -114 * 0.01865845f, hi = (255 - 114) * 0.01865845f;
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = std::clamp(x.data<float>()[i], lo, hi);
  TensorMap out = RunGraph(g, {{"input", x}});
  auto got = out["output"].ToFloatVector();
  auto ref = want.ToFloatVector();
  ASSERT_EQ(got.size(), 1000u);
  ASSERT_EQ(ref.size(), 1000u);
  EXPECT_EQ(ArgMax(got), ArgMax(ref));
  // Pearson correlation with the int8 model's logits (0.92 measured with OpenCV dnn).
  double mg = 0, mr = 0;
  for (size_t i = 0; i < got.size(); ++i) mg += got[i], mr += ref[i];
  mg /= 1000, mr /= 1000;
  double sgr = 0, sgg = 0, srr = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    sgr += (got[i] - mg) * (ref[i] - mr);
    sgg += (got[i] - mg) * (got[i] - mg);
    srr += (ref[i] - mr) * (ref[i] - mr);
  }
  double corr = sgr / std::sqrt(sgg * srr);
  std::printf("ShuffleNet fp32 vs int8 reference: argmax %lld, correlation %.4f\n",
              static_cast<long long>(ArgMax(got)), corr);
  EXPECT_GT(corr, 0.85);
}

}  // namespace
}  // namespace qcal
