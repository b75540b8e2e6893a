// The CLI never modifies its inputs and keeps previous outputs when it fails.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <string>

#include "base/file.h"
#include "ir/npy.h"
#include "support/testdata.h"

namespace qcal {
namespace {

std::string Model() { return testing::SourceDir("models/fashion_mnist_cnn.onnx"); }

// FNV-1a of the whole file (a missing file hashes its error text).
uint64_t HashFile(const std::string& path) {
  auto bytes = ReadFile(path);
  std::string s = bytes.ok() ? *bytes : bytes.status().ToString();
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::map<std::string, uint64_t> Hashes(const std::vector<std::string>& files) {
  std::map<std::string, uint64_t> h;
  for (const auto& f : files) h[f] = HashFile(f);
  return h;
}

// Two .npy batches of 4 Fashion-MNIST-shaped samples.
std::string MakeData(const std::string& dir) {
  std::string data = dir + "/data";
  EXPECT_EQ(mkdir(data.c_str(), 0755), 0);
  for (int i = 0; i < 2; ++i) {
    Tensor t(DataType::kFloat32, {4, 1, 28, 28});
    for (int64_t k = 0; k < t.numel(); ++k) t.data<float>()[k] = static_cast<float>((k * 5 + i) % 11) / 11.f;
    EXPECT_TRUE(WriteNpyFile(data + "/b" + std::to_string(i) + ".npy", t).ok());
  }
  return data;
}

TEST(CliOutputsTest, QuantizeAndConvertNeverModifyTheirInputs) {
  std::string dir = testing::MakeTempDir(), out, data = MakeData(dir);
  std::string q = testing::QcalBinary() + " -q ";
  ASSERT_EQ(testing::RunCommand(q + "create-config --model " + Model() + " --output " + dir + "/cfg.json", &out), 0)
      << out;
  std::vector<std::string> inputs = {Model(), data + "/b0.npy", data + "/b1.npy", dir + "/cfg.json"};
  auto before = Hashes(inputs);
  ASSERT_EQ(testing::RunCommand(q + "quantize --model " + Model() + " --data " + data + " --config " + dir +
                                    "/cfg.json --batch-num 2 --batch-size 4 --save-path " + dir + "/out/m",
                                &out),
            0)
      << out;
  inputs.push_back(dir + "/out/m_record.txt");
  auto with_record = Hashes(inputs);
  ASSERT_EQ(testing::RunCommand(q + "convert --model " + Model() + " --record " + dir + "/out/m_record.txt" +
                                    " --config " + dir + "/cfg.json --save-path " + dir + "/conv/m",
                                &out),
            0)
      << out;
  auto after = Hashes(inputs);
  EXPECT_EQ(after, with_record);
  for (const auto& [file, hash] : before) EXPECT_EQ(after[file], hash) << file << " was modified";
}

TEST(CliOutputsTest, FailedQuantizeKeepsThePreviousRecordAndModels) {
  std::string dir = testing::MakeTempDir(), out, data = MakeData(dir);
  ASSERT_EQ(mkdir((dir + "/out").c_str(), 0755), 0);
  const std::string record = dir + "/out/m_record.txt", model = dir + "/out/m_fake_quant_model.onnx";
  ASSERT_TRUE(WriteFileAtomic(record, "# previous record\n").ok());
  ASSERT_TRUE(WriteFileAtomic(model, "previous model").ok());
  // 2 batches of data for batch_num=3: calibration fails.
  int rc = testing::RunCommand(testing::QcalBinary() + " quantize --model " + Model() + " --data " + data +
                                   " --batch-num 3 --batch-size 4 --save-path " + dir + "/out/m",
                               &out);
  EXPECT_NE(rc, 0) << out;
  EXPECT_EQ(*ReadFile(record), "# previous record\n");
  EXPECT_EQ(*ReadFile(model), "previous model");
}

TEST(CliOutputsTest, UnwritableOutputsFailCleanly) {
  std::string dir = testing::MakeTempDir(), out;
  ASSERT_TRUE(WriteFileAtomic(dir + "/file", "x").ok());
  ASSERT_EQ(mkdir((dir + "/cfg.json").c_str(), 0755), 0);
  const std::map<std::string, std::string> cases = {
      {dir + "/cfg.json", "is a directory"},           // output path is a directory
      {dir + "/file/cfg.json", "cannot"},              // a file where a directory is expected
      {"/proc/self/qcal_cfg.json", "cannot write"},    // no one may create files here, not even root
  };
  for (const auto& [path, message] : cases) {
    int rc = testing::RunCommand(testing::QcalBinary() + " create-config --model " + Model() + " --output " + path,
                                 &out);
    EXPECT_NE(rc, 0) << path;
    EXPECT_NE(out.find(message), std::string::npos) << path << ": " << out;
    EXPECT_EQ(out.find("Abort"), std::string::npos) << out;
  }
  EXPECT_EQ(*ReadFile(dir + "/file"), "x");
}

}  // namespace
}  // namespace qcal
