// The public API (include/qcal/qcal.h) in process, and the example program
// built on it (examples/quantize_example.cc).
#include "qcal/qcal.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>

#include "base/file.h"
#include "runtime/executor.h"
#include "runtime/model_loader.h"
#include "support/testdata.h"

namespace qcal {
namespace {

namespace api = qcal::api;

const std::string kFashion = "/usr/share/datasets/fashion-mnist";
const char* kPreprocess = "scale 1/255; mean 0.2860; std 0.3530";

std::string ModelPath() { return testing::SourceDir("models/fashion_mnist_cnn.onnx"); }

api::DataSource OpenFashion(const api::Model& model, const std::string& file) {
  api::DataOptions o;
  o.path = kFashion + "/" + file;
  o.preprocess = kPreprocess;
  auto d = api::OpenDataSource(model, o);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return *d;
}

std::string Bytes(const std::string& path) {
  auto r = ReadFile(path);
  EXPECT_TRUE(r.ok()) << path;
  return r.ok() ? *r : "";
}

TEST(ApiTest, StepByStepWorkflowWithSimplifiedCfg) {
  std::string dir = testing::MakeTempDir();
  auto model = api::LoadModel(ModelPath());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ASSERT_EQ(model->inputs().size(), 1u);
  EXPECT_EQ(model->inputs()[0].dtype, "float32");
  EXPECT_EQ(model->inputs()[0].shape, (std::vector<int64_t>{-1, 1, 28, 28}));
  EXPECT_EQ(model->QuantizableLayers(), (std::vector<std::string>{"/features/features.0/Conv",
                                                                  "/features/features.4/Conv",
                                                                  "/features/features.8/Conv", "/fc/Gemm"}));

  ASSERT_TRUE(WriteFileAtomic(dir + "/quant.cfg", "batch_num: 2\nskip_layers: \"/fc/Gemm\"\n"
                                                  "common_config { hfmg_quantize { num_of_bins: 1024 } }\n")
                  .ok());
  auto config = api::CreateQuantConfigFromCfg(*model, dir + "/quant.cfg");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->batch_num(), 2);
  EXPECT_FALSE(config->quant_enabled("/fc/Gemm"));
  EXPECT_TRUE(config->quant_enabled("/features/features.0/Conv"));
  EXPECT_EQ(config->activation_algorithm("/features/features.4/Conv"), "hfmg");

  api::DataSource data = OpenFashion(*model, "train-images-idx3-ubyte.gz");
  EXPECT_EQ(data.size(), 60000);
  EXPECT_EQ(data.NumBatches(16), 3750);
  auto b0 = data.GetBatch(0, 16), b1 = data.GetBatch(1, 16);
  ASSERT_TRUE(b0.ok() && b1.ok());
  EXPECT_EQ(b0->shape(), (std::vector<int64_t>{16, 1, 28, 28}));
  // Background pixels are 0: (0 / 255 - mean) / std; the brightest 255: (1 - mean) / std.
  std::vector<float> v = b0->ToFloats();
  EXPECT_NEAR(*std::min_element(v.begin(), v.end()), (0.0 - 0.2860) / 0.3530, 1e-5);
  EXPECT_NEAR(*std::max_element(v.begin(), v.end()), (1.0 - 0.2860) / 0.3530, 1e-5);

  // Session A: batches fed one by one.
  auto a = api::QuantSession::Init(*config, *model, dir + "/a/record.txt");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE((*a)->QuantizeModel().ok());
  ASSERT_TRUE((*a)->Calibrate(*b0).ok());
  ASSERT_TRUE((*a)->Calibrate(std::map<std::string, api::Tensor>{{"input", *b1}}).ok());
  EXPECT_EQ((*a)->batches_seen(), 2);
  auto fa = api::SaveModel(**a, api::SaveType::kBoth, dir + "/a/m");
  ASSERT_TRUE(fa.ok()) << fa.status().ToString();
  EXPECT_EQ(fa->deploy_model, dir + "/a/m_deploy_model.onnx");

  // Session B: the data source loop; same batches, so the same models.
  auto b = api::QuantSession::Init(*config, *model, dir + "/b/record.txt");
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE((*b)->QuantizeModel().ok());
  ASSERT_TRUE((*b)->Calibrate(data, 16).ok());
  EXPECT_EQ((*b)->batches_seen(), 2);
  auto fb = api::SaveModel(**b, api::SaveType::kDeploy, dir + "/b/m");
  ASSERT_TRUE(fb.ok()) << fb.status().ToString();
  EXPECT_TRUE(fb->fake_quant_model.empty());
  EXPECT_EQ(Bytes(fa->deploy_model), Bytes(fb->deploy_model));

  // save_model from the record alone, and convert_model from the same record.
  auto fc = api::SaveModel(*config, *model, dir + "/a/record.txt", api::SaveType::kBoth, dir + "/c/m");
  ASSERT_TRUE(fc.ok()) << fc.status().ToString();
  EXPECT_EQ(Bytes(fa->fake_quant_model), Bytes(fc->fake_quant_model));
  EXPECT_EQ(Bytes(fa->deploy_model), Bytes(fc->deploy_model));
  auto fd = api::ConvertModel(*config, *model, dir + "/a/record.txt", api::SaveType::kDeploy, dir + "/d/m");
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  EXPECT_EQ(Bytes(fa->deploy_model), Bytes(fd->deploy_model));
  for (const auto& path : {fa->fake_quant_model, fa->deploy_model}) {
    auto q = api::LoadModel(path);
    ASSERT_TRUE(q.ok()) << path << ": " << q.status().ToString();
    EXPECT_EQ(q->inputs()[0].name, "input");
  }
}

TEST(ApiTest, ErrorsComeBackAsStatuses) {
  EXPECT_FALSE(api::Tensor::FromFloats({2, 2}, {1, 2, 3}).ok());
  EXPECT_FALSE(api::LoadModel("/nonexistent/model.onnx").ok());
  auto model = api::LoadModel(ModelPath());
  ASSERT_TRUE(model.ok());
  api::ConfigOptions o;
  o.skip_layers = {"conv9"};
  auto bad = api::CreateQuantConfig(*model, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("/fc/Gemm"), std::string::npos) << bad.status().message();
  o = {};
  o.act_algo = "magic";
  EXPECT_FALSE(api::CreateQuantConfig(*model, o).ok());
  api::DataSource data = OpenFashion(*model, "t10k-images-idx3-ubyte.gz");
  EXPECT_EQ(data.GetBatch(1000, 16).status().code(), StatusCode::kOutOfRange);

  // save_model before enough batches: every layer with its count, nothing written.
  std::string dir = testing::MakeTempDir();
  o = {};
  o.batch_num = 3;
  auto config = api::CreateQuantConfig(*model, o);
  ASSERT_TRUE(config.ok());
  auto s = api::QuantSession::Init(*config, *model, dir + "/r.txt");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->Calibrate(*data.GetBatch(0, 4)).code(), StatusCode::kFailedPrecondition);  // before QuantizeModel
  ASSERT_TRUE((*s)->QuantizeModel().ok());
  ASSERT_TRUE((*s)->Calibrate(*data.GetBatch(0, 4)).ok());
  auto saved = api::SaveModel(**s, api::SaveType::kBoth, dir + "/m");
  ASSERT_FALSE(saved.ok());
  EXPECT_NE(saved.status().message().find("layer \"/fc/Gemm\" (Gemm): calibration saw 1 of batch_num=3 batches"),
            std::string::npos)
      << saved.status().message();
  struct stat st;
  EXPECT_NE(stat((dir + "/m_deploy_model.onnx").c_str(), &st), 0);
}

std::vector<int64_t> Predictions(const Graph& g, const Tensor& batch) {
  auto ex = Executor::Create(g);
  EXPECT_TRUE(ex.ok()) << ex.status().ToString();
  TensorMap out;
  Status st = (*ex)->Run({{g.inputs[0].name, batch}}, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  std::vector<int64_t> pred;
  if (!st.ok()) return pred;
  const Tensor& logits = out.at(g.outputs[0].name);
  std::vector<float> v = logits.ToFloatVector();
  int64_t classes = logits.dim(1);
  for (int64_t i = 0; i < logits.dim(0); ++i) {
    auto row = v.begin() + i * classes;
    pred.push_back(std::max_element(row, row + classes) - row);
  }
  return pred;
}

#ifdef QCAL_EXAMPLE_BINARY
TEST(ApiTest, ExampleProgramWritesModelsThatLoadAndAgreeWithFp32) {
  std::string dir = testing::MakeTempDir(), out;
  int rc = testing::RunCommand(std::string(QCAL_EXAMPLE_BINARY) + " " + ModelPath() + " " + kFashion +
                                   "/train-images-idx3-ubyte.gz " + dir + "/fm 2 32",
                               &out);
  ASSERT_EQ(rc, 0) << out;
  for (const char* suffix : {"_fake_quant_model.onnx", "_deploy_model.onnx", "_quant.json", "_record.txt"}) {
    EXPECT_NE(out.find(dir + "/fm" + suffix), std::string::npos) << suffix << " not printed:\n" << out;
  }
  // The outputs load with qcal's loader and classify 200 test images like the FP32 model.
  auto fp32 = LoadModel({ModelPath(), ""});
  auto fq = LoadModel({dir + "/fm_fake_quant_model.onnx", ""});
  auto deploy = LoadModel({dir + "/fm_deploy_model.onnx", ""});
  ASSERT_TRUE(fp32.ok() && fq.ok() && deploy.ok()) << fq.status().ToString() << deploy.status().ToString();
  auto model = api::LoadModel(ModelPath());
  ASSERT_TRUE(model.ok());
  auto batch = OpenFashion(*model, "t10k-images-idx3-ubyte.gz").GetBatch(0, 200);
  ASSERT_TRUE(batch.ok());
  Tensor x = Tensor::FromVector<float>(batch->ToFloats(), batch->shape());
  std::vector<int64_t> p32 = Predictions(*fp32, x), pfq = Predictions(*fq, x), pdep = Predictions(*deploy, x);
  ASSERT_EQ(p32.size(), 200u);
  int agree = 0;
  for (size_t i = 0; i < p32.size(); ++i) agree += p32[i] == pfq[i];
  EXPECT_GE(agree, 190) << "fake-quant agrees with FP32 on " << agree << " of 200";
  EXPECT_EQ(pfq, pdep);
}
#endif  // QCAL_EXAMPLE_BINARY

}  // namespace
}  // namespace qcal
