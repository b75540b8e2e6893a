// Inputs that crashed a fuzz target (fuzz/), minimized, kept under
// tests/testdata/fuzz_regressions/<target>/. Each must now give a clean error
// (a non-OK status with a message) through the same API the target calls;
// files named "ok-*" are valid inputs that crashed and must now load.
// To add one: copy the minimized crash file (libFuzzer's -minimize_crash=1
// output) into the folder named like the target without "_fuzzer".
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "base/file.h"
#include "base/limits.h"
#include "data/idx_reader.h"
#include "data/image_decode.h"
#include "data/preprocess.h"
#include "frontends/caffe/caffe_importer.h"
#include "frontends/onnx/onnx_importer.h"
#include "frontends/onnx/onnx_tensor.h"
#include "ir/npy.h"
#include "ir/npz.h"
#include "quant/config/quant_config.h"
#include "quant/config/simple_cfg.h"
#include "quant/record/record.h"
#include "runtime/model_loader.h"
#include "support/testdata.h"

namespace qcal {
namespace {

namespace fs = std::filesystem;

Status ImportAndPrepare(Result<Graph> graph, const std::string& where) {
  if (!graph.ok()) return graph.status();
  return PrepareModel(*graph, {}, where);
}

std::string Fixture(const std::string& rel) { return *ReadFile(testing::TestData(rel)); }

using Loader = std::function<Status(const std::string& bytes)>;

// Folder name -> what its fuzz target does with the bytes (without the
// round-trip checks, which are only meaningful for inputs that load).
const std::map<std::string, Loader>& Loaders() {
  static const auto* table = new std::map<std::string, Loader>{
      {"onnx_model", [](const std::string& b) { return ImportAndPrepare(ImportOnnxBytes(b, "fuzz.onnx"), "fuzz"); }},
      {"onnx_tensor", [](const std::string& b) { return ParseTensorProto(b, "fuzz.pb").status(); }},
      {"caffe_prototxt",
       [](const std::string& b) {
         return ImportAndPrepare(ImportCaffeBuffers(b, "fuzz.prototxt",
                                                    Fixture("mnist_lenet_caffe/lenet_iter_10000.caffemodel"), "w"),
                                 "fuzz");
       }},
      {"caffemodel",
       [](const std::string& b) {
         return ImportAndPrepare(
             ImportCaffeBuffers(Fixture("mnist_lenet_caffe/lenet.prototxt"), "lenet.prototxt", b, "fuzz"), "fuzz");
       }},
      {"record",
       [](const std::string& b) -> Status {
         QCAL_ASSIGN_OR_RETURN(quant::ScaleOffsetRecord rec, quant::ParseRecord(b, "fuzz"));
         QCAL_ASSIGN_OR_RETURN(std::string text, quant::FormatRecord(rec));
         QCAL_ASSIGN_OR_RETURN(quant::ScaleOffsetRecord again, quant::ParseRecord(text, "formatted"));
         bool same = again.entries() == rec.entries() && again.header.layer_batches == rec.header.layer_batches;
         return same ? Status::Ok() : Internal("record changed in a format/parse round trip");
       }},
      {"quant_config", [](const std::string& b) { return QuantConfigFromJson(b, "fuzz.json").status(); }},
      {"simple_cfg", [](const std::string& b) { return ParseSimpleCfg(b, "fuzz.cfg").status(); }},
      {"npy", [](const std::string& b) { return ParseNpy(b, "fuzz.npy").status(); }},
      {"npz", [](const std::string& b) { return ParseNpz(b, "fuzz.npz").status(); }},
      {"idx",
       [](const std::string& b) -> Status {
         if (b.empty()) return InvalidArgument("empty");
         std::string bytes = b.substr(1);
         if (b[0] & 1) {
           QCAL_ASSIGN_OR_RETURN(bytes, data::Gunzip(bytes, "fuzz.gz"));
         }
         return data::ParseIdx(bytes, "fuzz", (b[0] & 2) ? 3 : 1).status();
       }},
      {"image",
       [](const std::string& b) -> Status {
         QCAL_ASSIGN_OR_RETURN(data::Image img, data::DecodeImage(b, "fuzz.img"));
         QCAL_ASSIGN_OR_RETURN(auto pre, data::ParsePreprocessSpec("resize 16; crop 12; bgr; scale 1/255; mean 0.5; std 0.25"));
         return data::Preprocess(img, pre, "fuzz.img").status();
       }},
      {"preprocess_spec",
       [](const std::string& b) -> Status {
         QCAL_ASSIGN_OR_RETURN(auto pre, data::ParsePreprocessSpec(b));
         data::Image img{5, 7, 3, std::vector<float>(5 * 7 * 3, 100.0f)};
         return data::Preprocess(img, pre, "fuzz.img").status();
       }},
  };
  return *table;
}

TEST(FuzzRegressionsTest, EveryCrashInputGivesACleanError) {
  // The limits the fuzz targets run with (fuzz/fuzz_util.h).
  ResourceLimits limits;
  limits.max_tensor_bytes = int64_t{64} << 20;
  limits.max_total_weight_bytes = int64_t{256} << 20;
  limits.max_nodes = 20000;
  limits.max_image_pixels = int64_t{1} << 20;
  ScopedResourceLimits scoped(limits);
  fs::path root = fs::path(QCAL_SOURCE_DIR) / "tests/testdata/fuzz_regressions";
  int checked = 0;
  for (const auto& dir : fs::directory_iterator(root)) {
    if (!dir.is_directory()) continue;
    auto loader = Loaders().find(dir.path().filename().string());
    ASSERT_NE(loader, Loaders().end()) << "no loader for " << dir.path();
    for (const auto& file : fs::directory_iterator(dir.path())) {
      auto bytes = ReadFile(file.path().string());
      ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
      Status s = loader->second(*bytes);
      if (file.path().filename().string().rfind("ok-", 0) == 0) {
        EXPECT_TRUE(s.ok()) << file.path() << ": " << s.ToString();
      } else {
        EXPECT_FALSE(s.ok()) << file.path() << " loads without error";
        EXPECT_FALSE(s.message().empty()) << file.path();
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 0) << "no regression inputs under " << root;
}

}  // namespace
}  // namespace qcal
