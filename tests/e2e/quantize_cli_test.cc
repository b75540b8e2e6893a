// qcal quantize / qcal eval end to end through the CLI.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "frontends/onnx/onnx_importer.h"
#include "ir/npy.h"
#include "support/testdata.h"

namespace qcal {
namespace {

const std::string kFashion = "/usr/share/datasets/fashion-mnist";
const std::string kPre = " --scale 1/255 --mean 0.2860 --std 0.3530";

std::string Model() { return testing::SourceDir("models/fashion_mnist_cnn.onnx"); }

TEST(QuantizeCliTest, FashionMnistKeepsAccuracyAndDeployMatchesFakeQuant) {
  std::string dir = testing::MakeTempDir(), out;
  int rc = testing::RunCommand(testing::QcalBinary() + " -q quantize --model " + Model() + " --data " + kFashion +
                                   "/train-images-idx3-ubyte.gz" + kPre +
                                   " --batch-num 4 --batch-size 32 --save-path " + dir + "/fm",
                               &out);
  ASSERT_EQ(rc, 0) << out;
  rc = testing::RunCommand(testing::QcalBinary() + " -q eval --model " + Model() + " --quantized " + dir +
                               "/fm_fake_quant_model.onnx --quantized " + dir + "/fm_deploy_model.onnx --data " +
                               kFashion + "/t10k-images-idx3-ubyte.gz" + kPre + " --batch-size 200 --report-json " +
                               dir + "/acc.json",
                           &out);
  ASSERT_EQ(rc, 0) << out;
  auto j = nlohmann::json::parse(*ReadFile(dir + "/acc.json"));
  EXPECT_EQ(j["images"], 10000);
  // 91.78 % is the FP32 figure an independent numpy interpreter gave (models/README.md).
  double fp32 = j["models"][0]["top1"], fq = j["models"][1]["top1"], deploy = j["models"][2]["top1"];
  EXPECT_NEAR(fp32, 0.9178, 1e-6);
  EXPECT_GT(fq, fp32 - 0.005) << "INT8 lost more than 0.5 points";
  EXPECT_EQ(fq, deploy);
}

TEST(QuantizeCliTest, TooFewBatchesFailsNamingLayersAndCountsWithoutOutputs) {
  std::string dir = testing::MakeTempDir(), out;
  ASSERT_EQ(mkdir((dir + "/data").c_str(), 0755), 0);
  for (int i = 0; i < 2; ++i) {
    Tensor t(DataType::kFloat32, {4, 1, 28, 28});
    for (int64_t k = 0; k < t.numel(); ++k) t.data<float>()[k] = static_cast<float>((k * 7 + i) % 13) / 13.f;
    ASSERT_TRUE(WriteNpyFile(dir + "/data/b" + std::to_string(i) + ".npy", t).ok());
  }
  int rc = testing::RunCommand(testing::QcalBinary() + " quantize --model " + Model() + " --data " + dir +
                                   "/data --batch-num 3 --batch-size 4 --save-path " + dir + "/out/m",
                               &out);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("calibration saw 2 of batch_num=3 batches"), std::string::npos) << out;
  EXPECT_NE(out.find("layer \"/fc/Gemm\""), std::string::npos) << out;
  EXPECT_NE(out.find("4 of 4 quantized layers"), std::string::npos) << out;
  struct stat st;
  EXPECT_NE(stat((dir + "/out/m_fake_quant_model.onnx").c_str(), &st), 0);
  EXPECT_NE(stat((dir + "/out/m_quant.json").c_str(), &st), 0);
}

}  // namespace
}  // namespace qcal

namespace qcal {
namespace {

TEST(QuantizeCliTest, CreateConfigThenConvertFromRecord) {
  std::string dir = testing::MakeTempDir(), out;
  std::string q = testing::QcalBinary() + " -q ";
  // Calibrate once to get a record, then rebuild the models from it with convert and a config
  // that skips the Gemm.
  ASSERT_EQ(testing::RunCommand(q + "quantize --model " + Model() + " --data " + kFashion +
                                    "/train-images-idx3-ubyte.gz" + kPre +
                                    " --batch-num 1 --batch-size 16 --save-path " + dir + "/a",
                                &out),
            0)
      << out;
  ASSERT_EQ(testing::RunCommand(q + "create-config --model " + Model() + " --skip-layers /fc/Gemm --output " + dir +
                                    "/cfg.json",
                                &out),
            0)
      << out;
  auto cfg = nlohmann::json::parse(*ReadFile(dir + "/cfg.json"));
  EXPECT_EQ(cfg["/fc/Gemm"]["quant_enable"], false);
  EXPECT_EQ(cfg["/features/features.0/Conv"]["weight_quant_params"]["channel_wise"], true);
  ASSERT_EQ(testing::RunCommand(q + "convert --model " + Model() + " --config " + dir + "/cfg.json --record " + dir +
                                    "/a_record.txt --save-path " + dir + "/b",
                                &out),
            0)
      << out;
  auto report = nlohmann::json::parse(*ReadFile(dir + "/b_quant.json"));
  int quantized = 0;
  for (const auto& l : report["layers"]) quantized += l["quantized"].get<bool>();
  EXPECT_EQ(quantized, 3);
  // A record from another model is refused, naming its layers.
  ASSERT_TRUE(WriteFileAtomic(dir + "/other.txt", "record { key: \"conv9\" value { scale_d: 1 offset_d: 0 } }\n").ok());
  EXPECT_NE(testing::RunCommand(q + "convert --model " + Model() + " --record " + dir + "/other.txt --save-path " +
                                    dir + "/c",
                                &out),
            0);
  EXPECT_NE(out.find("'conv9'"), std::string::npos) << out;
}

}  // namespace
}  // namespace qcal

namespace qcal {
namespace {

TEST(QuantizeCliTest, CaffeLeNetKeepsTop1Within0_3Points) {
  std::string dir = testing::MakeTempDir(), out;
  std::string lenet = testing::TestData("mnist_lenet_caffe");
  std::string model = " --model " + lenet + "/lenet.prototxt --weights " + lenet + "/lenet_iter_10000.caffemodel";
  std::string data = " --data " + testing::TestData("mnist_t10k_first5000/t10k-first5000-images-idx3-ubyte.gz") +
                     " --scale 0.00390625";
  ASSERT_EQ(testing::RunCommand(testing::QcalBinary() + " -q quantize" + model + data +
                                    " --batch-num 4 --batch-size 64 --save-path " + dir + "/lenet",
                                &out),
            0)
      << out;
  ASSERT_EQ(testing::RunCommand(testing::QcalBinary() + " -q eval" + model + data + " --quantized " + dir +
                                    "/lenet_fake_quant_model.onnx --quantized " + dir +
                                    "/lenet_deploy_model.onnx --batch-size 100 --report-json " + dir + "/acc.json",
                                &out),
            0)
      << out;
  auto j = nlohmann::json::parse(*ReadFile(dir + "/acc.json"));
  double fp32 = j["models"][0]["top1"], fq = j["models"][1]["top1"];
  EXPECT_NEAR(fp32, 0.9874, 1e-6);  // the figure OpenCV's dnn gives (shared/testdata/MANIFEST.md)
  EXPECT_GT(fq, fp32 - 0.003);
  EXPECT_EQ(j["models"][1]["top1"], j["models"][2]["top1"]);
}

// 7-bit weights through the CLI on the Caffe path: create-config --weight-bits 7, quantize with that
// config; every deploy weight lies in [-63, 63]; fake-quant and deploy agree; the 7-bit record is
// refused by an 8-bit save naming a layer.
TEST(QuantizeCliTest, CaffeLeNetSevenBitWeights) {
  std::string dir = testing::MakeTempDir(), out;
  std::string lenet = testing::TestData("mnist_lenet_caffe");
  std::string model =
      " --model " + lenet + "/lenet.prototxt --weights " + lenet + "/lenet_iter_10000.caffemodel";
  std::string data = " --data " +
                     testing::TestData("mnist_t10k_first5000/t10k-first5000-images-idx3-ubyte.gz") +
                     " --scale 0.00390625";
  const std::string q = testing::QcalBinary() + " -q ";
  EXPECT_NE(testing::RunCommand(
                q + "create-config" + model + " --weight-bits 6 --output " + dir + "/bad.json", &out),
            0);
  EXPECT_NE(out.find("--weight-bits"), std::string::npos) << out;
  ASSERT_EQ(testing::RunCommand(
                q + "create-config" + model + " --weight-bits 7 --output " + dir + "/cfg.json", &out),
            0)
      << out;
  auto cfg = nlohmann::json::parse(*ReadFile(dir + "/cfg.json"));
  int layers = 0;
  for (const auto& [name, v] : cfg.items()) {
    if (!v.is_object()) continue;
    EXPECT_EQ(v["weight_quant_params"]["num_bits"], 7) << name;
    ++layers;
  }
  EXPECT_EQ(layers, 4);  // conv1, conv2, ip1, ip2
  ASSERT_EQ(testing::RunCommand(q + "quantize" + model + data + " --config " + dir +
                                    "/cfg.json --batch-num 4 --batch-size 64 --save-path " + dir + "/w7",
                                &out),
            0)
      << out;
  auto deploy = ImportOnnxFile(dir + "/w7_deploy_model.onnx");
  ASSERT_TRUE(deploy.ok()) << deploy.status().ToString();
  int weights = 0;
  for (const auto& [name, t] : deploy->initializers) {
    if (t.dtype() != DataType::kInt8 || name.find("_weight_quantized") == std::string::npos) continue;
    ++weights;
    int max_abs = 0;
    for (int64_t i = 0; i < t.numel(); ++i) max_abs = std::max(max_abs, std::abs(int{t.data<int8_t>()[i]}));
    EXPECT_EQ(max_abs, 63) << name;
  }
  EXPECT_EQ(weights, 4);
  ASSERT_EQ(
      testing::RunCommand(q + "eval" + model + data + " --quantized " + dir + "/w7_fake_quant_model.onnx" +
                              " --quantized " + dir +
                              "/w7_deploy_model.onnx --batch-size 100 --report-json " + dir + "/acc.json",
                          &out),
      0)
      << out;
  auto j = nlohmann::json::parse(*ReadFile(dir + "/acc.json"));
  double fp32 = j["models"][0]["top1"], fq = j["models"][1]["top1"];
  EXPECT_NEAR(fp32, 0.9874, 1e-6);
  EXPECT_GT(fq, fp32 - 0.003);
  EXPECT_EQ(j["models"][1]["top1"], j["models"][2]["top1"]);
  // The record of the 7-bit run with the default (8-bit) config.
  EXPECT_NE(
      testing::RunCommand(
          q + "convert" + model + " --record " + dir + "/w7_record.txt --save-path " + dir + "/w8", &out),
      0);
  EXPECT_NE(out.find("7-bit calibration run"), std::string::npos) << out;
  EXPECT_NE(out.find("layer 'conv1'"), std::string::npos) << out;
}

}  // namespace
}  // namespace qcal
