// The step-by-step CLI workflow (calibrate, then save) against the one-shot
// quantize, and the simplified calibration config through the CLI.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <set>

#include "base/file.h"
#include "ir/npy.h"
#include "support/testdata.h"

namespace qcal {
namespace {

const std::string kData =
    " --data /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz --scale 1/255 --mean 0.2860 --std 0.3530";

std::string Model() { return " --model " + testing::SourceDir("models/fashion_mnist_cnn.onnx"); }

int Qcal(const std::string& args, std::string* out) {
  return testing::RunCommand(testing::QcalBinary() + " " + args, out);
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::set<std::string> ListDir(const std::string& dir) {
  std::set<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') names.insert(e->d_name);
    }
    closedir(d);
  }
  return names;
}

// A simplified config exercising common, type and layer blocks (HFMG on the Gemm).
const char* kCfg = R"(batch_num: 2
activation_offset: true
common_config { ifmr_quantize { search_range_start: 0.8 search_range_end: 1.2 search_step: 0.02 } }
override_layer_types { layer_type: "Gemm" calibration_config { hfmg_quantize { num_of_bins: 2048 } } }
override_layer_configs {
  layer_name: "/features/features.0/Conv"
  calibration_config { arq_quantize { channel_wise: false } }
}
)";

TEST(WorkflowCliTest, CalibrateThenSaveGivesTheOneShotModelsByteForByte) {
  std::string dir = testing::MakeTempDir(), out;
  ASSERT_TRUE(WriteFileAtomic(dir + "/quant.cfg", kCfg).ok());
  std::string cfg = " --calibration-config " + dir + "/quant.cfg";
  ASSERT_EQ(Qcal("-q quantize" + Model() + kData + cfg + " --batch-size 16 --save-path " + dir + "/one/fm", &out), 0)
      << out;
  ASSERT_EQ(Qcal("-q calibrate" + Model() + kData + cfg + " --batch-size 16 --record " + dir + "/two/rec.txt", &out), 0)
      << out;
  EXPECT_EQ(ListDir(dir + "/two"), std::set<std::string>{"rec.txt"}) << "calibrate writes the record only";
  ASSERT_EQ(Qcal("-q save" + Model() + cfg + " --record " + dir + "/two/rec.txt --save-path " + dir + "/two/fm", &out),
            0)
      << out;
  for (const char* suffix : {"_fake_quant_model.onnx", "_deploy_model.onnx"}) {
    auto a = ReadFile(dir + "/one/fm" + suffix), b = ReadFile(dir + "/two/fm" + suffix);
    ASSERT_TRUE(a.ok() && b.ok()) << suffix;
    EXPECT_GT(a->size(), 1000u);
    EXPECT_TRUE(*a == *b) << suffix << " differs";
  }
  EXPECT_EQ(*ReadFile(dir + "/one/fm_record.txt"), *ReadFile(dir + "/two/rec.txt"));

  // The cfg's settings reached the layers: the report and the JSON create-config writes.
  auto report = nlohmann::json::parse(*ReadFile(dir + "/two/fm_quant.json"));
  std::map<std::string, std::string> algo;
  for (const auto& l : report["layers"]) algo[l["name"]] = l.value("act_algo", "");
  EXPECT_EQ(algo["/fc/Gemm"], "hfmg");
  EXPECT_EQ(algo["/features/features.4/Conv"], "ifmr");
  EXPECT_EQ(report["batch_num"], 2);
  ASSERT_EQ(Qcal("-q create-config" + Model() + cfg + " --output " + dir + "/cfg.json", &out), 0) << out;
  auto json = nlohmann::json::parse(*ReadFile(dir + "/cfg.json"));
  EXPECT_EQ(json["batch_num"], 2);
  EXPECT_EQ(json["/fc/Gemm"]["activation_quant_params"]["num_of_bins"], 2048);
  EXPECT_EQ(json["/features/features.4/Conv"]["activation_quant_params"]["search_range"],
            nlohmann::json::parse("[0.8, 1.2]"));
  EXPECT_EQ(json["/features/features.0/Conv"]["weight_quant_params"]["channel_wise"], false);
  EXPECT_EQ(json["/features/features.4/Conv"]["weight_quant_params"]["channel_wise"], true);

  // That JSON through --config gives the same models again.
  ASSERT_EQ(Qcal("-q quantize" + Model() + kData + " --config " + dir + "/cfg.json --batch-size 16 --save-path " + dir +
                     "/three/fm",
                 &out),
            0)
      << out;
  EXPECT_TRUE(*ReadFile(dir + "/three/fm_deploy_model.onnx") == *ReadFile(dir + "/one/fm_deploy_model.onnx"));
}

TEST(WorkflowCliTest, SaveAfterTooFewBatchesNamesEveryLayerAndWritesNothing) {
  std::string dir = testing::MakeTempDir(), out;
  ASSERT_EQ(mkdir((dir + "/data").c_str(), 0755), 0);
  Tensor t(DataType::kFloat32, {4, 1, 28, 28});
  for (int64_t k = 0; k < t.numel(); ++k) t.data<float>()[k] = static_cast<float>(k % 11) / 11.f;
  ASSERT_TRUE(WriteNpyFile(dir + "/data/b0.npy", t).ok());
  // One batch of 4 for batch_num=2: calibrate succeeds with a warning, the record lacks scale_d.
  ASSERT_EQ(Qcal("calibrate" + Model() + " --data " + dir + "/data --batch-num 2 --batch-size 4 --record " + dir +
                     "/out/rec.txt",
                 &out),
            0)
      << out;
  EXPECT_NE(out.find("4 layers saw fewer than batch_num=2 batches"), std::string::npos) << out;
  int rc = Qcal("save" + Model() + " --record " + dir + "/out/rec.txt --save-path " + dir + "/out/m", &out);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("4 of 4 quantized layers have no activation factors"), std::string::npos) << out;
  for (const char* layer : {"/features/features.0/Conv\" (Conv)", "/features/features.4/Conv\" (Conv)",
                            "/features/features.8/Conv\" (Conv)", "/fc/Gemm\" (Gemm)"}) {
    EXPECT_NE(out.find(std::string("layer \"") + layer + ": calibration saw 1 of batch_num=2 batches"),
              std::string::npos)
        << layer << "\n"
        << out;
  }
  EXPECT_EQ(ListDir(dir + "/out"), std::set<std::string>{"rec.txt"});
}

TEST(WorkflowCliTest, ConfigFlagsExcludeEachOtherAndBadCfgIsReported) {
  std::string dir = testing::MakeTempDir(), out;
  ASSERT_TRUE(WriteFileAtomic(dir + "/bad.cfg", "batch_num: 2\ncommon_config { ifmr_quantize { max_percentile: 2 } }\n")
                  .ok());
  EXPECT_NE(Qcal("create-config" + Model() + " --config x.json --calibration-config " + dir +
                     "/bad.cfg --output " + dir + "/c.json",
                 &out),
            0);
  EXPECT_NE(Qcal("quantize" + Model() + kData + " --config x.json --calibration-config " + dir +
                     "/bad.cfg --save-path " + dir + "/q",
                 &out),
            0);
  EXPECT_NE(out.find("--calibration-config excludes --config"), std::string::npos) << out;
  EXPECT_EQ(Qcal("create-config" + Model() + " --calibration-config " + dir + "/bad.cfg --output " + dir + "/c.json",
                 &out),
            1);
  EXPECT_NE(out.find("bad.cfg:2:49: common_config: ifmr_quantize.max_percentile: 2 is not allowed (allowed: (0.5, 1])"),
            std::string::npos)
      << out;
  EXPECT_FALSE(Exists(dir + "/c.json"));
}

TEST(WorkflowCliTest, HelpDocumentsTheWorkflowFlags) {
  std::string out;
  ASSERT_EQ(Qcal("calibrate --help", &out), 0);
  for (const char* flag : {"--model", "--data", "--calibration-config", "--config", "--batch-num", "--batch-size",
                           "--record", "--scale", "--mean", "--std", "--resize", "--crop"}) {
    EXPECT_NE(out.find(flag), std::string::npos) << flag;
  }
  ASSERT_EQ(Qcal("save --help", &out), 0);
  for (const char* flag : {"--model", "--record", "--save-path", "--save-type", "--calibration-config", "--config"}) {
    EXPECT_NE(out.find(flag), std::string::npos) << flag;
  }
  ASSERT_EQ(Qcal("quantize --help", &out), 0);
  EXPECT_NE(out.find("--calibration-config"), std::string::npos);
  ASSERT_EQ(Qcal("create-config --help", &out), 0);
  EXPECT_NE(out.find("--calibration-config"), std::string::npos);
}

}  // namespace
}  // namespace qcal
