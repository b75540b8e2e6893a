// Accuracy of real third-party models through the qcal CLI, against the
// independent figures in shared/testdata/MANIFEST.md (OpenCV dnn / PyTorch).
//
// Protocol: calibrate on 256 images picked round-robin over the classes
// (stratified), evaluate on the other images (held out). One `qcal eval` run per
// model gives per-image predictions (--predictions) and logits (--logits-dir),
// from which the test computes FP32 on all images, FP32 and INT8 on the held-out
// ones, and compares qcal's runtime with ONNX Runtime image by image. The CIFAR
// ResNets' deploy models also check the residual fusion bit for bit.
//
// The suite is named Accuracy* so CI can run or skip it as a group
// (ctest -R '^Accuracy' / -E '^Accuracy'; gtest --gtest_filter='Accuracy*').
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include "base/file.h"
#include "data/data_source.h"
#include "ir/npy.h"
#include "runtime/executor.h"
#include "runtime/model_loader.h"
#include "support/ort_runner.h"
#include "support/testdata.h"

namespace qcal {
namespace {

constexpr size_t kCalibImages = 256;
const std::string kCifarPre = "scale 1/255; mean 0.485,0.456,0.406; std 0.229,0.224,0.225";
const std::string kCifarFlags = " --scale 1/255 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225";

// qcal runs single-threaded here: CI runs two tests at once on two cores, where
// OpenMP threads waiting for a busy core cost more than they give.
std::string Qcal() { return "OMP_NUM_THREADS=1 " + testing::QcalBinary() + " -q "; }

void Run(const std::string& args) {
  std::string out;
  int rc = testing::RunCommand(Qcal() + args, &out);
  ASSERT_EQ(rc, 0) << "qcal " << args << "\n" << out;
}

// Prints the wall time of each phase and of the whole test (no assertion on it).
class WallTimer {
 public:
  ~WallTimer() { std::printf("[ wall time ] total %.1f s\n", Seconds(start_)); }
  void Lap(const char* phase) {
    std::printf("[ wall time ] %s %.1f s\n", phase, Seconds(lap_));
    lap_ = std::chrono::steady_clock::now();
  }

 private:
  static double Seconds(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  }
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), lap_ = start_;
};

// Round-robin over the classes, each class in data order, until n are picked.
std::set<size_t> StratifiedPick(const std::vector<int64_t>& labels, size_t n) {
  std::map<int64_t, std::vector<size_t>> by_class;
  for (size_t i = 0; i < labels.size(); ++i) by_class[labels[i]].push_back(i);
  std::set<size_t> picked;
  for (size_t round = 0; picked.size() < n; ++round) {
    bool any = false;
    for (const auto& [label, items] : by_class) {
      if (round < items.size() && picked.size() < n) picked.insert(items[round]), any = true;
    }
    if (!any) break;
  }
  return picked;
}

// `qcal eval --predictions` CSV: index,file,label,<one top-1 column per model>.
struct Predictions {
  std::vector<std::string> files;
  std::vector<int64_t> labels;
  std::map<std::string, std::vector<int64_t>> top1;
};

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  for (std::string f; std::getline(in, f, ',');) fields.push_back(f);
  return fields;
}

Predictions ReadPredictions(const std::string& path) {
  Predictions p;
  auto text = ReadFile(path);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  if (!text.ok()) return p;
  std::stringstream in(*text);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header = SplitCsv(line);
  EXPECT_GE(header.size(), 4u);
  EXPECT_EQ(header[0] + "," + header[1] + "," + header[2], "index,file,label");
  while (std::getline(in, line)) {
    std::vector<std::string> f = SplitCsv(line);
    EXPECT_EQ(f.size(), header.size()) << line;
    if (f.size() != header.size()) return p;
    EXPECT_EQ(std::stoul(f[0]), p.files.size());
    p.files.push_back(f[1]);
    p.labels.push_back(std::stoll(f[2]));
    for (size_t c = 3; c < f.size(); ++c) p.top1[header[c]].push_back(std::stoll(f[c]));
  }
  return p;
}

// Top-1 accuracy (0..1) of `top1` over the images where use[i].
double Top1(const std::vector<int64_t>& top1, const std::vector<int64_t>& labels,
            const std::vector<bool>& use) {
  int64_t hits = 0, n = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!use[i]) continue;
    hits += top1[i] == labels[i];
    ++n;
  }
  return n ? double(hits) / n : 0;
}

int64_t ArgMax(const float* row, int64_t n) { return std::max_element(row, row + n) - row; }

// The held-out figures of one quantized model, and how ORT agrees with qcal on it.
struct OrtComparison {
  int64_t images = 0;
  int64_t same_top1 = 0;      // ORT fake-quant top-1 == qcal fake-quant top-1
  int64_t deploy_hits = 0;    // ORT deploy-model top-1 == label
  double max_logit_diff = 0;  // |ORT - qcal| over every logit of the fake-quant model
  std::vector<double> diffs;  // per image, max |ORT - qcal| logit
};

// Runs the fake-quant and deploy models in ORT on the held-out images of `source`
// (preprocessed by qcal's data layer, as qcal eval saw them) and compares with
// qcal's fake-quant logits [images, classes].
OrtComparison CompareWithOrt(const data::DataSource& source, const std::vector<bool>& held_out,
                             const Tensor& qcal_logits, const std::string& fake_quant,
                             const std::string& deploy) {
  OrtComparison c;
  // Unoptimized, ORT runs the Q/DQ graph as written (in float, like qcal); with its
  // optimizations it would fuse Q/DQ pairs into int8 kernels with other rounding.
  auto fq = testing::OrtModel::Load(fake_quant, 1, /*optimize=*/false);
  auto dep = testing::OrtModel::Load(deploy);
  EXPECT_TRUE(fq.ok()) << fq.status().ToString();
  EXPECT_TRUE(dep.ok()) << dep.status().ToString();
  if (!fq.ok() || !dep.ok()) return c;
  const int64_t classes = qcal_logits.dim(1);
  data::Batcher batcher(source, 100);
  for (int64_t b = 0; b < batcher.num_batches(); ++b) {
    auto batch = batcher.GetBatch(b);
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    if (!batch.ok()) return c;
    auto a = (*fq)->Run({{"input", batch->data}});
    auto d = (*dep)->Run({{"input", batch->data}});
    EXPECT_TRUE(a.ok() && d.ok()) << a.status().ToString() << d.status().ToString();
    if (!a.ok() || !d.ok()) return c;
    const float* ort = a->begin()->second.data<float>();
    const float* dep_out = d->begin()->second.data<float>();
    for (int64_t k = 0; k < batch->data.dim(0); ++k) {
      int64_t i = batch->first_index + k;
      if (!held_out[i]) continue;
      const float* mine = qcal_logits.data<float>() + i * classes;
      const float* theirs = ort + k * classes;
      double diff = 0;
      for (int64_t j = 0; j < classes; ++j) diff = std::max(diff, double(std::fabs(mine[j] - theirs[j])));
      c.diffs.push_back(diff);
      c.max_logit_diff = std::max(c.max_logit_diff, diff);
      c.same_top1 += ArgMax(mine, classes) == ArgMax(theirs, classes);
      c.deploy_hits += ArgMax(dep_out + k * classes, classes) == batch->labels[k];
      ++c.images;
    }
  }
  return c;
}

// The deploy model on qcal's int8 runtime with and without the residual fusion
// (QcalQConv -> Add -> Relu into one QcalQConv, passes/fuse_quantized_ops.h): the
// fusion takes every residual Add, and the logits of the first 16 images are
// bit-identical.
void CheckResidualFusionIsExact(const data::DataSource& source, const std::string& deploy) {
  LoadOptions off;
  off.fuse_residual_add = false;
  auto fused = LoadModel({deploy, ""});
  auto plain = LoadModel({deploy, ""}, off);
  ASSERT_TRUE(fused.ok() && plain.ok()) << fused.status().ToString() << plain.status().ToString();
  auto count = [](const Graph& g, const std::string& op) {
    return std::count_if(g.nodes.begin(), g.nodes.end(), [&](const Node& n) { return n.op_type == op; });
  };
  EXPECT_GT(count(*plain, "Add"), 0);
  EXPECT_EQ(count(*fused, "Add"), 0);
  EXPECT_EQ(count(*fused, "Relu"), 0);
  auto batch = data::Batcher(source, 16).GetBatch(0);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  TensorMap a, b;
  auto ea = Executor::Create(*fused), eb = Executor::Create(*plain);
  ASSERT_TRUE(ea.ok() && eb.ok());
  ASSERT_TRUE((*ea)->Run({{"input", batch->data}}, &a).ok());
  ASSERT_TRUE((*eb)->Run({{"input", batch->data}}, &b).ok());
  ASSERT_EQ(a.size(), 1u);
  const Tensor& ya = a.begin()->second;
  const Tensor& yb = b.at(a.begin()->first);
  ASSERT_EQ(ya.shape(), yb.shape());
  EXPECT_EQ(std::memcmp(ya.raw(), yb.raw(), static_cast<size_t>(ya.numel()) * sizeof(float)), 0);
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * (v.size() - 1))];
}

// CIFAR-10 ResNet (ONNX): the whole protocol, see the file comment.
void CheckCifarResNet(const std::string& model_file, double manifest_fp32) {
  WallTimer timer;
  ASSERT_TRUE(testing::OrtAvailable()) << "built without ONNX Runtime; run scripts/install-deps.sh";
  std::string dir = testing::MakeTempDir();
  std::string model = testing::TestData("cifar10_resnet_akamaster/" + model_file);
  std::string root = testing::TestData("cifar10_test_jpg");

  // The data in qcal's order (sorted paths) with its labels.
  data::DataOptions opts;
  opts.path = root;
  opts.labels_path = root + "/labels.csv";
  auto pre = data::ParsePreprocessSpec(kCifarPre);
  ASSERT_TRUE(pre.ok());
  opts.preprocess = *pre;
  auto source = data::OpenDataSource(opts);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  std::vector<int64_t> labels;
  std::vector<std::string> files;
  for (int64_t i = 0; i < (*source)->size(); ++i) {
    // Labels come from labels.csv; Get() also decodes, which is cheap for 32x32 images.
    auto s = (*source)->Get(i);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    labels.push_back(*s->label);
    files.push_back(s->origin);
  }
  ASSERT_EQ(labels.size(), 5000u);

  std::set<size_t> calib = StratifiedPick(labels, kCalibImages);
  std::string list;
  for (size_t i : calib) list += files[i] + "\n";
  ASSERT_TRUE(WriteFileAtomic(dir + "/calib.txt", list).ok());
  Run("quantize --model " + model + " --data " + dir + "/calib.txt" + kCifarFlags +
      " --batch-num 8 --batch-size 32 --save-path " + dir + "/q");
  timer.Lap("qcal quantize");
  Run("eval --model " + model + " --quantized " + dir + "/q_fake_quant_model.onnx --data " + root +
      " --labels " + root + "/labels.csv" + kCifarFlags + " --batch-size 100 --predictions " + dir +
      "/pred.csv --logits-dir " + dir + "/logits");
  timer.Lap("qcal eval");

  Predictions p = ReadPredictions(dir + "/pred.csv");
  ASSERT_EQ(p.files, files);
  ASSERT_EQ(p.labels, labels);
  std::vector<bool> all(files.size(), true), held_out(files.size(), true);
  for (size_t i : calib) held_out[i] = false;
  double fp32_all = Top1(p.top1["fp32"], labels, all);
  double fp32 = Top1(p.top1["fp32"], labels, held_out), int8 = Top1(p.top1["int8_1"], labels, held_out);
  EXPECT_NEAR(fp32_all, manifest_fp32, 1e-9) << "FP32 top-1 on all 5,000 differs from the MANIFEST figure";
  EXPECT_GT(int8, fp32 - 0.005) << "fake-quant INT8 lost more than 0.5 points on the held-out images";

  auto logits = ReadNpyFile(dir + "/logits/int8_1.npy");
  ASSERT_TRUE(logits.ok()) << logits.status().ToString();
  ASSERT_EQ(logits->shape(), (Shape{5000, 10}));
  OrtComparison ort = CompareWithOrt(**source, held_out, *logits, dir + "/q_fake_quant_model.onnx",
                                     dir + "/q_deploy_model.onnx");
  timer.Lap("ORT");
  CheckResidualFusionIsExact(**source, dir + "/q_deploy_model.onnx");
  ASSERT_EQ(ort.images, 5000 - static_cast<int64_t>(kCalibImages));
  double agree = double(ort.same_top1) / ort.images, deploy = double(ort.deploy_hits) / ort.images;
  EXPECT_GE(agree, 0.995) << "ORT and qcal disagree on the fake-quant top-1 of too many images";
  EXPECT_GT(deploy, fp32 - 0.005) << "deploy model in ORT lost more than 0.5 points";
  // Logit tolerance: both runtimes evaluate the same Q/DQ graph in float, but a
  // different summation order can move an activation across a rounding boundary,
  // which shifts it by one quantization step, and the change propagates through the
  // following layers (more of them in deeper nets). Measured per-image max |diff|
  // (logits lie in about -13..27, top-1 margin 6-8 on average): ResNet-20 median 0.005 / p99 0.21 / max 0.28,
  // ResNet-56 median 0.087 / p99 0.22 / max 0.40. A real mismatch (rounding mode,
  // a scale or zero point) moves most images by much more.
  EXPECT_LE(Quantile(ort.diffs, 0.5), 0.2) << "median of per-image max |logit diff|";
  EXPECT_LE(Quantile(ort.diffs, 0.99), 0.5) << "99th percentile of per-image max |logit diff|";
  EXPECT_LE(ort.max_logit_diff, 1.5);
  std::printf(
      "[ measured  ] %s: FP32 all %.2f %%, held-out (%lld images) FP32 %.2f %%, INT8 %.2f %%, "
      "ORT fake-quant top-1 agreement %.2f %%, deploy in ORT %.2f %%, max |logit diff| %.4g "
      "(median %.3g, p99 %.3g)\n",
      model_file.c_str(), 100 * fp32_all, static_cast<long long>(ort.images), 100 * fp32, 100 * int8,
      100 * agree, 100 * deploy, ort.max_logit_diff, Quantile(ort.diffs, 0.5), Quantile(ort.diffs, 0.99));
}

// MNIST (first 5,000 test digits, idx): calibration on 256 stratified digits
// written as a preprocessed .npy, evaluation on the other 4,744.
void CheckMnist(const std::string& model_flags, const std::string& pre_flag, const std::string& pre_spec,
                double manifest_fp32) {
  WallTimer timer;
  std::string dir = testing::MakeTempDir();
  std::string idx = testing::TestData("mnist_t10k_first5000/t10k-first5000-images-idx3-ubyte.gz");
  data::DataOptions opts;
  opts.path = idx;
  auto pre = data::ParsePreprocessSpec(pre_spec);
  ASSERT_TRUE(pre.ok());
  opts.preprocess = *pre;
  auto source = data::OpenDataSource(opts);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  std::vector<int64_t> labels;
  std::vector<Tensor> samples;
  for (int64_t i = 0; i < (*source)->size(); ++i) {
    auto s = (*source)->Get(i);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    labels.push_back(*s->label);
    samples.push_back(s->data);
  }
  ASSERT_EQ(labels.size(), 5000u);
  std::set<size_t> calib = StratifiedPick(labels, kCalibImages);
  Tensor calib_data(DataType::kFloat32, {static_cast<int64_t>(kCalibImages), 1, 28, 28});
  float* dst = calib_data.data<float>();
  for (size_t i : calib) dst = std::copy_n(samples[i].data<float>(), 28 * 28, dst);
  ASSERT_TRUE(WriteNpyFile(dir + "/calib.npy", calib_data).ok());

  Run("quantize " + model_flags + " --data " + dir + "/calib.npy --batch-num 4 --batch-size 64 --save-path " +
      dir + "/q");
  Run("eval " + model_flags + " --quantized " + dir + "/q_fake_quant_model.onnx --data " + idx + pre_flag +
      " --batch-size 100 --predictions " + dir + "/pred.csv");
  Predictions p = ReadPredictions(dir + "/pred.csv");
  ASSERT_EQ(p.labels, labels);
  std::vector<bool> all(labels.size(), true), held_out(labels.size(), true);
  for (size_t i : calib) held_out[i] = false;
  double fp32_all = Top1(p.top1["fp32"], labels, all);
  double fp32 = Top1(p.top1["fp32"], labels, held_out), int8 = Top1(p.top1["int8_1"], labels, held_out);
  EXPECT_NEAR(fp32_all, manifest_fp32, 1e-9) << "FP32 top-1 on all 5,000 differs from the MANIFEST figure";
  EXPECT_GT(int8, fp32 - 0.003) << "INT8 lost more than 0.3 points on the held-out digits";
  std::printf("[ measured  ] FP32 all %.2f %%, held-out (%zu digits) FP32 %.2f %%, INT8 %.2f %%\n",
              100 * fp32_all, labels.size() - calib.size(), 100 * fp32, 100 * int8);
}

// MANIFEST item 1: 81.02 % / 83.02 % on the 5,000 JPEGs (PyTorch and OpenCV agree).
TEST(AccuracyCifarTest, ResNet20) { CheckCifarResNet("cifar10_resnet20.onnx", 0.8102); }
TEST(AccuracyCifarTest, ResNet56) { CheckCifarResNet("cifar10_resnet56.onnx", 0.8302); }

// MANIFEST item 4: 98.74 % on the 5,000 digits (OpenCV dnn); pixels x 1/256.
TEST(AccuracyMnistTest, LeNetCaffe) {
  std::string d = testing::TestData("mnist_lenet_caffe");
  CheckMnist("--model " + d + "/lenet.prototxt --weights " + d + "/lenet_iter_10000.caffemodel",
             " --scale 0.00390625", "scale 0.00390625", 0.9874);
}

// MANIFEST item 5: 98.30 % on the 5,000 digits (OpenCV dnn); raw 0..255 pixels; batch fixed at 1.
TEST(AccuracyMnistTest, CntkOnnxFixedBatch) {
  CheckMnist("--model " + testing::TestData("mnist_cntk_onnx/model.onnx"), "", "", 0.9830);
}

}  // namespace
}  // namespace qcal
