// qcal bench, --threads on run/quantize, and quantize's calibration report,
// through the CLI. No timing assertions: only the report's shape and consistency.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "ir/npy.h"
#include "support/testdata.h"

namespace qcal {
namespace {

using testing::TestData;

const std::string kResNet20 = "cifar10_resnet_akamaster/cifar10_resnet20.onnx";

int Qcal(const std::string& args, std::string* out) {
  return testing::RunCommand(testing::QcalBinary() + " " + args, out);
}

nlohmann::json ReadJson(const std::string& path) {
  auto text = ReadFile(path);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? nlohmann::json::parse(*text) : nlohmann::json();
}

void ExpectLatencyReport(const nlohmann::json& j, int batch, int threads, int runs) {
  for (const char* key : {"runtime", "model", "batch", "threads", "warmup", "runs", "median_ms", "p10_ms",
                          "p90_ms", "min_ms", "max_ms", "mean_ms", "images_per_s", "load_avg_1m_before",
                          "load_avg_1m_after", "peak_rss_mib", "providers", "inputs"}) {
    EXPECT_TRUE(j.contains(key)) << "missing " << key << " in " << j.dump();
  }
  EXPECT_EQ(j["runtime"], "qcal");
  EXPECT_EQ(j["batch"], batch);
  EXPECT_EQ(j["threads"], threads);
  EXPECT_EQ(j["runs"], runs);
  double p10 = j["p10_ms"], med = j["median_ms"], p90 = j["p90_ms"], mn = j["min_ms"], mx = j["max_ms"];
  EXPECT_GT(mn, 0.0);
  EXPECT_LE(mn, p10);
  EXPECT_LE(p10, med);
  EXPECT_LE(med, p90);
  EXPECT_LE(p90, mx);
  EXPECT_NEAR(j["images_per_s"].get<double>(), batch * 1000.0 / med, 1e-3 * batch * 1000.0 / med + 1e-3);
  EXPECT_GT(j["peak_rss_mib"].get<double>(), 1.0);
}

TEST(BenchCliTest, ResNet20ReportShape) {
  std::string dir = testing::MakeTempDir(), out;
  int rc =
      Qcal("-q bench --model " + TestData(kResNet20) +
               " --batch 2 --threads 1 --warmup 1 --runs 5 --profile --report-json " + dir + "/r/bench.json",
           &out);
  ASSERT_EQ(rc, 0) << out;
  nlohmann::json j = ReadJson(dir + "/r/bench.json");
  ExpectLatencyReport(j, 2, 1, 5);
  EXPECT_EQ(j["inputs"], "random");
  EXPECT_NE(j["providers"].get<std::string>().find("dnnl:"), std::string::npos) << j["providers"];
  EXPECT_NE(out.find("\"median_ms\""), std::string::npos) << "the JSON is also printed:\n" << out;
  // --profile: one entry per op type/provider that ran, e.g. the convolutions on oneDNN.
  const auto& prof = j["profile_ms_per_run"];
  ASSERT_TRUE(prof.is_object()) << j.dump();
  EXPECT_TRUE(prof.contains("Conv/dnnl")) << prof.dump();
  EXPECT_TRUE(prof.contains("Gemm/dnnl")) << prof.dump();
  for (const auto& [key, ms] : prof.items()) EXPECT_GE(ms.get<double>(), 0.0) << key;
}

TEST(BenchCliTest, DataModeWalksTheBatches) {
  std::string dir = testing::MakeTempDir(), out;
  Tensor t(DataType::kFloat32, {6, 3});
  ASSERT_TRUE(WriteNpyFile(dir + "/x.npy", t).ok());
  int rc = Qcal("-q bench --model " + testing::SourceDir("tests/testdata/cli/tiny_relu.onnx") + " --data " +
                    dir + "/x.npy --batch 4 --warmup 0 --runs 3 --report-json " + dir + "/b.json",
                &out);
  ASSERT_EQ(rc, 0) << out;
  nlohmann::json j = ReadJson(dir + "/b.json");
  ExpectLatencyReport(j, 4, 0, 3);
  EXPECT_EQ(j["inputs"], "data");
}

TEST(BenchCliTest, BadInputsFailWithOneErrorLine) {
  struct Case {
    std::string args, message;
  };
  std::string dir = testing::MakeTempDir();
  ASSERT_TRUE(WriteFileAtomic(dir + "/junk.onnx", "not a model").ok());
  const Case cases[] = {
      {"bench --model " + dir + "/missing.onnx", "missing.onnx"},
      {"bench --model " + dir + "/junk.onnx", "junk.onnx"},
      {"bench --model " + TestData(kResNet20) + " --input-shape input:1,3,16", "rank"},
      {"bench --model " + TestData(kResNet20) + " --data " + dir + "/nothing_here", "nothing_here"},
  };
  for (const auto& c : cases) {
    std::string out;
    int rc = Qcal(c.args, &out);
    EXPECT_EQ(rc, 1) << c.args << "\n" << out;
    EXPECT_NE(out.find("[qcal] error: "), std::string::npos) << out;
    EXPECT_NE(out.find(c.message), std::string::npos) << "missing '" << c.message << "' in\n" << out;
    EXPECT_EQ(out.find("median_ms"), std::string::npos) << out;
  }
  std::string out;
  EXPECT_NE(Qcal("bench --model " + TestData(kResNet20) + " --runs 0", &out), 0) << out;
  EXPECT_NE(Qcal("bench --model " + TestData(kResNet20) + " --threads -1", &out), 0) << out;
}

TEST(ThreadsFlagTest, RunGivesIdenticalOutputsWithOneAndTwoThreads) {
  std::string dir = testing::MakeTempDir(), out;
  Tensor x(DataType::kFloat32, {3, 3, 32, 32});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = static_cast<float>((i * 13) % 29) / 14.0f - 1.0f;
  ASSERT_TRUE(WriteNpyFile(dir + "/x.npy", x).ok());
  for (int threads : {1, 2}) {
    int rc = Qcal("-q run --model " + TestData(kResNet20) + " --input " + dir + "/x.npy --threads " +
                      std::to_string(threads) + " --output-dir " + dir + "/t" + std::to_string(threads),
                  &out);
    ASSERT_EQ(rc, 0) << out;
  }
  auto a = ReadNpyFile(dir + "/t1/logits.npy"), b = ReadNpyFile(dir + "/t2/logits.npy");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->shape(), (Shape{3, 10}));
  EXPECT_EQ(a->ToFloatVector(), b->ToFloatVector());
}

TEST(QuantizeReportTest, CalibrationThroughputAndPeakMemory) {
  std::string dir = testing::MakeTempDir(), out;
  int rc =
      Qcal("-q quantize --model " + testing::SourceDir("models/fashion_mnist_cnn.onnx") +
               " --data /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz --scale 1/255"
               " --batch-num 3 --batch-size 8 --threads 1 --act-algo hfmg --save-type deploy --save-path " +
               dir + "/m --report-json " + dir + "/calib.json",
           &out);
  ASSERT_EQ(rc, 0) << out;
  nlohmann::json j = ReadJson(dir + "/calib.json");
  EXPECT_EQ(j["images"], 24);
  EXPECT_EQ(j["batch_num"], 3);
  EXPECT_EQ(j["batch_size"], 8);
  EXPECT_EQ(j["threads"], 1);
  EXPECT_EQ(j["act_algo"], "hfmg");
  double secs = j["seconds"], data = j["data_seconds"];
  EXPECT_GT(secs, 0.0);
  EXPECT_LE(data, secs);
  EXPECT_NEAR(j["images_per_s"].get<double>(), 24 / secs, 1e-6 * 24 / secs);
  EXPECT_GT(j["peak_rss_mib"].get<double>(), 1.0);
}

}  // namespace
}  // namespace qcal
