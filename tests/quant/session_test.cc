// The PTQ workflow end to end on a small generated model: init, quantize,
// calibrate, save; the save_model checks; ONNX Runtime agreement; determinism.
#include "quant/session.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "base/file.h"
#include "exporters/save_model.h"
#include "frontends/onnx/onnx_importer.h"
#include "quant/algorithms/hfmg.h"
#include "quant/record/record.h"
#include "support/ort_runner.h"
#include "support/testdata.h"

namespace qcal {
namespace {

Tensor Random(Shape shape, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t(DataType::kFloat32, std::move(shape));
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = d(g);
  return t;
}

// x[N,3,8,8] -> Conv 'conv1' (4, 3x3, pad 1) -> Relu -> AveragePool 'pool' 2x2 -> Flatten -> Gemm 'fc' ->
// y[N,5]
Graph SmallCnn() {
  Graph g;
  g.name = "small_cnn";
  g.inputs.push_back({"x", DataType::kFloat32, Shape{-1, 3, 8, 8}});
  g.outputs.push_back({"y", DataType::kFloat32, std::nullopt});
  g.initializers["w1"] = Random({4, 3, 3, 3}, 1, -0.5f, 0.5f);
  g.initializers["b1"] = Random({4}, 2, -0.1f, 0.1f);
  g.initializers["w2"] = Random({5, 64}, 3, -0.3f, 0.3f);
  g.initializers["b2"] = Random({5}, 4, -0.1f, 0.1f);
  Node conv{"conv1", "Conv", "", {"x", "w1", "b1"}, {"c"}, {}};
  conv.attrs.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  conv.attrs.Set("kernel_shape", std::vector<int64_t>{3, 3});
  Node pool{"pool", "AveragePool", "", {"r"}, {"p"}, {}};
  pool.attrs.Set("kernel_shape", std::vector<int64_t>{2, 2});
  pool.attrs.Set("strides", std::vector<int64_t>{2, 2});
  Node fc{"fc", "Gemm", "", {"f", "w2", "b2"}, {"y"}, {}};
  fc.attrs.Set("transB", int64_t{1});
  g.nodes = {conv, Node{"relu", "Relu", "", {"c"}, {"r"}, {}}, pool,
             Node{"flat", "Flatten", "", {"p"}, {"f"}, {}}, fc};
  return g;
}

double Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / std::sqrt(na * nb);
}

bool Exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

struct CalibratedRun {
  std::unique_ptr<QuantSession> session;
  std::string dir;
};

// Calibration batch b (4 images of SmallCnn's input).
Tensor DefaultBatch(int b) { return Random({4, 3, 8, 8}, 100 + b, 0.f, 1.f); }

CalibratedRun Calibrated(int batches, int batch_num, const std::string& algo = "ifmr", int weight_bits = 8,
                         int threads = 0, Tensor (*batch)(int) = DefaultBatch) {
  CalibratedRun r;
  r.dir = testing::MakeTempDir();
  Graph g = SmallCnn();
  auto config = CreateQuantConfig(g, {{}, batch_num, true, weight_bits});
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  for (auto& [name, lc] : config->layers) lc.act.act_algo = algo;
  SessionOptions options;
  options.threads = threads;
  auto s = QuantSession::Init(*config, g, r.dir + "/record.txt", options);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  r.session = std::move(*s);
  Status st = r.session->QuantizeModel();
  EXPECT_TRUE(st.ok()) << st.ToString();
  for (int b = 0; b < batches; ++b) {
    st = r.session->Calibrate({{"x", batch(b)}});
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  return r;
}

TEST(QuantSessionTest, TooFewBatchesNamesEveryLayerWithCountsAndWritesNothing) {
  CalibratedRun r = Calibrated(1, 2);
  Status st = SaveModel(*r.session, SaveType::kBoth, r.dir + "/out/model");
  ASSERT_FALSE(st.ok());
  const std::string& m = st.message();
  for (const char* layer : {"conv1", "pool", "fc"}) {
    EXPECT_NE(m.find(std::string("layer \"") + layer + "\""), std::string::npos) << m;
  }
  EXPECT_NE(m.find("calibration saw 1 of batch_num=2 batches"), std::string::npos) << m;
  EXPECT_NE(m.find("3 of 3 quantized layers"), std::string::npos) << m;
  EXPECT_NE(m.find("Fix:"), std::string::npos) << m;
  EXPECT_FALSE(Exists(r.dir + "/out/model_fake_quant_model.onnx"));
  EXPECT_FALSE(Exists(r.dir + "/out/model_quant.json"));
  EXPECT_FALSE(Exists(r.dir + "/out"));

  // The same explanation from a separate convert, reading progress from the record.
  st = ConvertModel(r.session->config(), SmallCnn(), r.dir + "/record.txt", SaveType::kBoth, r.dir + "/m2");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("calibration saw 1 of batch_num=2 batches"), std::string::npos) << st.message();
}

// Progress records are written at most once per kProgressRecordInterval; what
// is not on disk yet is written by FlushRecord and by the destructor, so the
// record always ends up showing every batch that ran.
TEST(QuantSessionTest, ProgressRecordIsFlushedOnRequestAndAtDestruction) {
  CalibratedRun r = Calibrated(1, 3);
  ASSERT_TRUE(r.session->FlushRecord().ok());
  auto rec = ReadFile(r.dir + "/record.txt");
  ASSERT_TRUE(rec.ok());
  EXPECT_NE(rec->find("# batches \"conv1\" 1\n"), std::string::npos) << *rec;
  ASSERT_TRUE(r.session->Calibrate({{"x", Random({4, 3, 8, 8}, 7, 0.f, 1.f)}}).ok());
  r.session.reset();
  rec = ReadFile(r.dir + "/record.txt");
  ASSERT_TRUE(rec.ok());
  EXPECT_NE(rec->find("# batches \"conv1\" 2\n"), std::string::npos) << *rec;
  EXPECT_EQ(rec->find("scale_d"), std::string::npos) << *rec;  // 2 of batch_num=3: no activation factors
}

TEST(QuantSessionTest, SavedModelsAreAccurateRunInOrtAndAreDeterministic) {
  CalibratedRun a = Calibrated(2, 2);
  SavedFiles files;
  Status st = SaveModel(*a.session, SaveType::kBoth, a.dir + "/model", &files);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(Exists(files.fake_quant_model) && Exists(files.deploy_model) && Exists(files.quant_json));

  Tensor x = Random({3, 3, 8, 8}, 999, 0.f, 1.f);
  auto fp32 = Executor::Create(SmallCnn());
  ASSERT_TRUE(fp32.ok());
  TensorMap ref;
  ASSERT_TRUE((*fp32)->Run({{"x", x}}, &ref).ok());
  auto fq_graph = ImportOnnxFile(files.fake_quant_model);
  ASSERT_TRUE(fq_graph.ok()) << fq_graph.status().ToString();
  auto fq = Executor::Create(*fq_graph);
  ASSERT_TRUE(fq.ok()) << fq.status().ToString();
  TensorMap got;
  ASSERT_TRUE((*fq)->Run({{"x", x}}, &got).ok());
  std::vector<float> a_v = ref["y"].ToFloatVector(), b_v = got["y"].ToFloatVector();
  EXPECT_GT(Cosine(a_v, b_v), 0.99);  // INT8 simulation stays close to FP32

  ASSERT_TRUE(testing::OrtAvailable());
  // ORT's plain QDQ semantics (no graph rewrites) match qcal's runtime exactly.
  for (const std::string& model : {files.fake_quant_model, files.deploy_model}) {
    auto ort = testing::RunInOrt(model, {{"x", x}}, 1, /*optimize=*/false);
    ASSERT_TRUE(ort.ok()) << ort.status().ToString();
    std::vector<float> o = ort->at("y").ToFloatVector();
    ASSERT_EQ(o.size(), b_v.size());
    for (size_t i = 0; i < o.size(); ++i) EXPECT_NEAR(o[i], b_v[i], 1e-4f) << model << " element " << i;
  }

  CalibratedRun b = Calibrated(2, 2);
  SavedFiles files_b;
  ASSERT_TRUE(SaveModel(*b.session, SaveType::kBoth, b.dir + "/model", &files_b).ok());
  for (auto [p, q] : {std::pair{files.fake_quant_model, files_b.fake_quant_model},
                      {files.deploy_model, files_b.deploy_model}}) {
    EXPECT_EQ(*ReadFile(p), *ReadFile(q)) << p;
  }
  auto rec_a = ReadFile(a.dir + "/record.txt"), rec_b = ReadFile(b.dir + "/record.txt");
  EXPECT_EQ(*rec_a, *rec_b);
}

// Runs `model` on `x` in ORT (plain QDQ semantics) and returns output y.
std::vector<float> RunOrt(const std::string& model, const Tensor& x) {
  auto ort = testing::RunInOrt(model, {{"x", x}}, 1, /*optimize=*/false);
  EXPECT_TRUE(ort.ok()) << ort.status().ToString();
  return ort.ok() ? ort->at("y").ToFloatVector() : std::vector<float>{};
}

// The layers' searches run in parallel after the last batch (HFMG); the record
// must not depend on the thread count.
TEST(QuantSessionTest, RecordIsTheSameAtOneAndTwoThreads) {
  for (const char* algo : {"hfmg", "ifmr"}) {
    SCOPED_TRACE(algo);
    CalibratedRun one = Calibrated(2, 2, algo, 8, 1), two = Calibrated(2, 2, algo, 8, 2);
    auto a = ReadFile(one.dir + "/record.txt"), b = ReadFile(two.dir + "/record.txt");
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_NE(a->find("conv1"), std::string::npos);
    EXPECT_NE(a->find("fc"), std::string::npos);
    EXPECT_EQ(*a, *b);
  }
}

// The final batch's observers finish as soon as their tensor is in
// (ActivationObserver::FinishEarly): conv1's activation factors are HFMG's on
// the histogram of every batch of x it reads, the last (widest) one included.
TEST(QuantSessionTest, FinalBatchResultsUseEveryBatch) {
  auto widening = [](int b) { return Random({4, 3, 8, 8}, 100 + b, -0.5f * (b + 1), 1.f + b); };
  CalibratedRun run = Calibrated(3, 3, "hfmg", 8, 0, widening);
  auto h = quant::Histogram::Create(quant::kHfmgDefaultBins, quant::Histogram::Mode::kSigned);
  ASSERT_TRUE(h.ok());
  for (int b = 0; b < 3; ++b) {
    const Tensor x = widening(b);
    ASSERT_TRUE(h->Add(std::span<const float>(x.data<float>(), static_cast<size_t>(x.numel()))).ok());
  }
  auto want = quant::HfmgCalibrate(*h, /*with_offset=*/true);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  auto rec = quant::ReadRecordFile(run.dir + "/record.txt");
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  const quant::LayerRecord* conv1 = rec->Find("conv1");
  ASSERT_TRUE(conv1 && conv1->scale_d && conv1->offset_d);
  EXPECT_EQ(*conv1->scale_d, want->scale);
  EXPECT_EQ(*conv1->offset_d, want->offset);
}

TEST(QuantSessionTest, SevenBitWeightsStayInRangeAndDeployMatchesFakeQuant) {
  CalibratedRun r = Calibrated(2, 2, "ifmr", 7);
  SavedFiles files;
  Status st = SaveModel(*r.session, SaveType::kBoth, r.dir + "/model", &files);
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto fq = ImportOnnxFile(files.fake_quant_model);
  auto deploy = ImportOnnxFile(files.deploy_model);
  ASSERT_TRUE(fq.ok() && deploy.ok());
  int weights = 0;
  for (const char* layer : {"conv1", "fc"}) {
    const std::string base = std::string(layer) + "_weight";
    ASSERT_TRUE(deploy->initializers.count(base + "_quantized")) << layer;
    const Tensor& q = deploy->initializers.at(base + "_quantized");
    const Tensor& scale = deploy->initializers.at(base + "_scale");
    const Tensor& w = fq->initializers.at(base + "_fakequant");
    ASSERT_EQ(q.dtype(), DataType::kInt8);
    ASSERT_EQ(q.numel(), w.numel());
    const int64_t inner = q.numel() / scale.numel();  // both layers keep output channels on axis 0
    int max_abs = 0;
    for (int64_t i = 0; i < q.numel(); ++i) {
      const int v = q.data<int8_t>()[i];
      ASSERT_GE(v, -63) << layer;
      ASSERT_LE(v, 63) << layer;
      max_abs = std::max(max_abs, std::abs(v));
      // The fake-quant weight is the dequantized 7-bit value.
      EXPECT_FLOAT_EQ(w.data<float>()[i], v * scale.data<float>()[i / inner]) << layer << " " << i;
      ++weights;
    }
    EXPECT_EQ(max_abs, 63) << layer;
  }
  EXPECT_EQ(weights, 4 * 27 + 5 * 64);
  auto report = nlohmann::json::parse(*ReadFile(files.quant_json));
  for (const auto& l : report["layers"]) {
    if (l.contains("scale_w")) EXPECT_EQ(l["weight_bits"], 7) << l.dump();
  }

  // qcal and ORT agree on both models, as for 8-bit weights.
  Tensor x = Random({3, 3, 8, 8}, 999, 0.f, 1.f);
  auto exec = Executor::Create(*fq);
  ASSERT_TRUE(exec.ok());
  TensorMap got;
  ASSERT_TRUE((*exec)->Run({{"x", x}}, &got).ok());
  std::vector<float> ours = got["y"].ToFloatVector();
  ASSERT_TRUE(testing::OrtAvailable());
  for (const std::string& model : {files.fake_quant_model, files.deploy_model}) {
    std::vector<float> o = RunOrt(model, x);
    ASSERT_EQ(o.size(), ours.size());
    for (size_t i = 0; i < o.size(); ++i) EXPECT_NEAR(o[i], ours[i], 1e-4f) << model << " element " << i;
  }
  auto fp32 = Executor::Create(SmallCnn());
  ASSERT_TRUE(fp32.ok());
  TensorMap ref;
  ASSERT_TRUE((*fp32)->Run({{"x", x}}, &ref).ok());
  EXPECT_GT(Cosine(ref["y"].ToFloatVector(), ours), 0.99);
}

TEST(QuantSessionTest, RecordOfAnotherWeightBitWidthIsRejectedNamingTheLayer) {
  for (auto [calibrated_bits, config_bits] : {std::pair{8, 7}, {7, 8}}) {
    CalibratedRun r = Calibrated(1, 1, "ifmr", calibrated_bits);
    auto config = CreateQuantConfig(SmallCnn(), {{}, 1, true, config_bits});
    ASSERT_TRUE(config.ok());
    Status st = ConvertModel(*config, SmallCnn(), r.dir + "/record.txt", SaveType::kBoth, r.dir + "/m");
    ASSERT_FALSE(st.ok()) << calibrated_bits;
    EXPECT_NE(st.message().find("layer 'conv1'"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(std::to_string(calibrated_bits) + "-bit calibration run"), std::string::npos)
        << st.message();
    EXPECT_NE(st.message().find("num_bits " + std::to_string(config_bits)), std::string::npos)
        << st.message();
    EXPECT_FALSE(Exists(r.dir + "/m_quant.json"));
    // The matching config saves.
    config = CreateQuantConfig(SmallCnn(), {{}, 1, true, calibrated_bits});
    st = ConvertModel(*config, SmallCnn(), r.dir + "/record.txt", SaveType::kBoth, r.dir + "/m");
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
}

TEST(QuantSessionTest, RecordProblemsGetTheirOwnMessages) {
  std::string dir = testing::MakeTempDir();
  Graph g = SmallCnn();
  auto config = CreateQuantConfig(g, {{}, 1, true});
  ASSERT_TRUE(config.ok());
  auto write = [&](const std::string& text) { ASSERT_TRUE(WriteFileAtomic(dir + "/r.txt", text).ok()); };
  auto convert = [&]() { return ConvertModel(*config, g, dir + "/r.txt", SaveType::kBoth, dir + "/m"); };

  write("# empty\n");
  EXPECT_NE(convert().message().find("is empty"), std::string::npos) << convert().message();
  write("record { key: \"conv9\" value { scale_d: 0.1 offset_d: 0 } }\n");
  EXPECT_NE(convert().message().find("'conv9'"), std::string::npos) << convert().message();
  EXPECT_NE(convert().message().find("another model"), std::string::npos);
  write("record { key: \"conv1\" value { scale_d: 0.1 offset_d: 300 } }\n");
  EXPECT_NE(convert().message().find("offset_d"), std::string::npos) << convert().message();
  write(
      "record { key: \"conv1\" value { scale_d: 0.1 offset_d: 0 scale_w: 0.1 scale_w: 0.2 offset_w: 0 "
      "offset_w: 0 } }\nrecord { key: \"pool\" value { scale_d: 0.1 offset_d: 0 } }\n"
      "record { key: \"fc\" value { scale_d: 0.1 offset_d: 0 } }\n");
  EXPECT_NE(convert().message().find("conv1"), std::string::npos) << convert().message();
  EXPECT_NE(convert().message().find("does not match this model"), std::string::npos) << convert().message();
  EXPECT_FALSE(Exists(dir + "/m_quant.json"));

  // Activation factors only: convert computes weights with ARQ and succeeds.
  write(
      "record { key: \"conv1\" value { scale_d: 0.01 offset_d: -128 } }\n"
      "record { key: \"pool\" value { scale_d: 0.01 offset_d: -128 } }\n"
      "record { key: \"fc\" value { scale_d: 0.01 offset_d: -128 } }\n");
  Status st = convert();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(Exists(dir + "/m_deploy_model.onnx"));
}

}  // namespace
}  // namespace qcal
