// qcal compare and qcal auto-calibrate end to end on the bundled Fashion-MNIST model.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "support/testdata.h"

namespace qcal {
namespace {

const std::string kFashion = "/usr/share/datasets/fashion-mnist";
const std::string kPre = " --scale 1/255 --mean 0.2860 --std 0.3530";

std::string Model() { return testing::SourceDir("models/fashion_mnist_cnn.onnx"); }
std::string Q() { return testing::QcalBinary() + " -q "; }

nlohmann::json Json(const std::string& path) {
  auto text = ReadFile(path);
  EXPECT_TRUE(text.ok()) << path;
  return nlohmann::json::parse(text.ok() ? *text : "{}");
}

TEST(AccuracyCliTest, CompareAgreesAcrossFakeQuantDeployAndRecord) {
  std::string dir = testing::MakeTempDir(), out;
  ASSERT_EQ(testing::RunCommand(Q() + "quantize --model " + Model() + " --data " + kFashion +
                                    "/train-images-idx3-ubyte.gz" + kPre + " --batch-num 2 --batch-size 16 --save-path " +
                                    dir + "/fm",
                                &out),
            0)
      << out;
  std::string base = Q() + "compare --model " + Model() + " --data " + kFashion + "/t10k-images-idx3-ubyte.gz" + kPre +
                     " --limit 200 --batch-size 64";
  ASSERT_EQ(testing::RunCommand(base + " --quantized " + dir + "/fm_fake_quant_model.onnx --report-json " + dir +
                                    "/fq.json",
                                &out),
            0)
      << out;
  EXPECT_NE(out.find("200 samples; 0 of 4 layers below cosine 0.99"), std::string::npos) << out;
  ASSERT_EQ(testing::RunCommand(base + " --quantized " + dir + "/fm_deploy_model.onnx --report-json " + dir +
                                    "/deploy.json",
                                &out),
            0)
      << out;
  ASSERT_EQ(testing::RunCommand(base + " --record " + dir + "/fm_record.txt --report-json " + dir + "/rec.json", &out),
            0)
      << out;
  auto fq = Json(dir + "/fq.json"), deploy = Json(dir + "/deploy.json"), rec = Json(dir + "/rec.json");
  EXPECT_EQ(fq["samples"], 200);
  ASSERT_EQ(fq["layers"].size(), 4u);
  double previous = -1;
  for (size_t i = 0; i < 4; ++i) {
    const auto& l = fq["layers"][i];
    double cos = l["cosine"];
    EXPECT_GE(cos, previous) << "not sorted worst first";
    previous = cos;
    EXPECT_GT(cos, 0.99) << l["name"];
    EXPECT_LE(cos, 1.0 + 1e-12);
    EXPECT_GT(double(l["weight_cosine"]), 0.999) << l["name"];
    // The same models three ways: identical metrics.
    for (const auto* other : {&deploy, &rec}) {
      EXPECT_EQ((*other)["layers"][i]["name"], l["name"]);
      EXPECT_NEAR(double((*other)["layers"][i]["cosine"]), cos, 1e-9);
      EXPECT_NEAR(double((*other)["layers"][i]["weight_cosine"]), double(l["weight_cosine"]), 1e-9);
    }
    // The first conv reads the model input, so its own error is its whole error; the Gemm writes the logits.
    if (l["name"] == "/features/features.0/Conv") {
      EXPECT_NEAR(double(l["alone_cosine"]), cos, 1e-12);
    }
    if (l["name"] == "/fc/Gemm") {
      EXPECT_NEAR(double(fq["outputs"][0]["cosine"]), cos, 1e-12);
      EXPECT_NEAR(double(fq["outputs"][0]["max_abs_error"]), double(l["max_abs_error"]), 1e-12);
    }
  }
}

// One layer is given a calibration that clips at the median of its input, so full
// quantization misses a 1-point limit by far; auto-calibration must find it.
TEST(AccuracyCliTest, AutoCalibrateKeepsTheSabotagedLayerInFloat) {
  std::string dir = testing::MakeTempDir(), out;
  ASSERT_EQ(testing::RunCommand(Q() + "create-config --model " + Model() + " --batch-num 2 --output " + dir + "/cfg.json",
                                &out),
            0)
      << out;
  const std::string bad = "/features/features.4/Conv";
  auto cfg = Json(dir + "/cfg.json");
  cfg[bad]["activation_quant_params"] = {{"num_bits", 8}, {"act_algo", "percentile"}, {"percentile", 50.01}};
  ASSERT_TRUE(WriteFileAtomic(dir + "/bad.json", cfg.dump(2)).ok());
  ASSERT_EQ(testing::RunCommand(Q() + "auto-calibrate --model " + Model() + " --config " + dir + "/bad.json --data " +
                                    kFashion + "/train-images-idx3-ubyte.gz --eval-data " + kFashion +
                                    "/t10k-images-idx3-ubyte.gz" + kPre +
                                    " --batch-size 16 --eval-limit 300 --max-drop 1 --save-path " + dir + "/out/fm",
                                &out),
            0)
      << out;
  auto rep = Json(dir + "/out/fm_auto_calibration.json");
  double fp32 = rep["fp32_top1"];
  EXPECT_EQ(rep["eval_images"], 300);
  EXPECT_EQ(rep["ranking"][0]["layer"], bad) << rep["ranking"].dump();
  const auto& history = rep["history"];
  ASSERT_GE(history.size(), 2u);
  EXPECT_EQ(history[0]["k"], 0);
  EXPECT_FALSE(history[0]["satisfied"]) << "premise: full quantization must miss the limit";
  EXPECT_GT(100 * (fp32 - double(history[0]["top1"])), 1.0);
  int k = rep["result"]["k"];
  double final_top1 = -1;
  bool below_evaluated = false;
  for (const auto& h : history) {
    double drop = 100 * (fp32 - double(h["top1"]));
    EXPECT_EQ(h["satisfied"], drop <= 1.0 + 1e-9) << h.dump();
    EXPECT_NEAR(double(h["drop_points"]), drop, 1e-9);
    if (int(h["k"]) < k) {
      EXPECT_FALSE(h["satisfied"]) << "a smaller k satisfied: " << h.dump();
    }
    if (int(h["k"]) == k) final_top1 = h["top1"];
    if (int(h["k"]) == k - 1) below_evaluated = true;
  }
  EXPECT_TRUE(below_evaluated) << "k-1 was never evaluated, so k is not shown to be the smallest";
  ASSERT_GE(final_top1, 0) << "final k not in the history";
  EXPECT_LE(100 * (fp32 - final_top1), 1.0);
  std::vector<std::string> kept = rep["result"]["fp32_layers"];
  ASSERT_EQ(static_cast<int>(kept.size()), k);
  EXPECT_EQ(kept[0], bad);
  auto final_cfg = Json(dir + "/out/fm_final_config.json");
  for (const auto& [name, v] : final_cfg.items()) {
    if (!v.is_object()) continue;
    bool is_kept = std::find(kept.begin(), kept.end(), name) != kept.end();
    EXPECT_EQ(v["quant_enable"], !is_kept) << name;
  }
  // Independently: qcal eval of the saved fake-quant model gives the history's top-1.
  ASSERT_EQ(testing::RunCommand(Q() + "eval --model " + Model() + " --quantized " + dir +
                                    "/out/fm_fake_quant_model.onnx --quantized " + dir +
                                    "/out/fm_deploy_model.onnx --data " + kFashion + "/t10k-images-idx3-ubyte.gz" +
                                    kPre + " --limit 300 --report-json " + dir + "/eval.json",
                                &out),
            0)
      << out;
  auto ev = Json(dir + "/eval.json");
  EXPECT_NEAR(double(ev["models"][0]["top1"]), fp32, 1e-12);
  EXPECT_NEAR(double(ev["models"][1]["top1"]), final_top1, 1e-12);
  EXPECT_NEAR(double(ev["models"][2]["top1"]), final_top1, 1e-12);
}

}  // namespace
}  // namespace qcal
