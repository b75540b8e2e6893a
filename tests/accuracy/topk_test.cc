// accuracy::EvaluateTopK (the scoring behind qcal eval and auto-calibrate) on a
// model whose scores are its input, so every expected figure follows from the
// data: per-image predictions, labels and logits, --limit cutting a batch, and a
// model with its batch size fixed inside the graph (run one sample at a time).
#include <gtest/gtest.h>

#include "accuracy/topk.h"

namespace qcal::accuracy {
namespace {

constexpr int64_t kClasses = 4;

std::string Origin(int64_t i) {
  std::string o = "s";
  o += std::to_string(i);
  return o;
}

// Sample i: scores with the maximum at class (i % 4), label (i % 3).
class ScoreSource : public data::DataSource {
 public:
  explicit ScoreSource(int64_t n) : n_(n) {}
  int64_t size() const override { return n_; }
  Result<data::Sample> Get(int64_t i) const override {
    std::vector<float> scores(kClasses, 0.f);
    scores[static_cast<size_t>(i % kClasses)] = 1.f;
    scores[static_cast<size_t>((i + 1) % kClasses)] = 0.5f;  // runner-up
    return data::Sample{Tensor::FromVector<float>(scores, {kClasses}), i % 3, Origin(i)};
  }
  bool has_labels() const override { return true; }
  std::string Describe() const override { return "scores"; }

 private:
  int64_t n_;
};

// y = Relu(x): the scores pass through unchanged. With `fixed_batch`, a Reshape to [1, 4]
// pins the batch size to one (as the ONNX Model Zoo MNIST model does).
Graph ScoreModel(bool fixed_batch) {
  Graph g;
  g.inputs.push_back({"x", DataType::kFloat32, Shape{-1, kClasses}});
  g.outputs.push_back({"y", DataType::kFloat32, std::nullopt});
  if (fixed_batch) {
    g.initializers["shape"] = Tensor::FromVector<int64_t>({1, kClasses}, {2});
    g.nodes.push_back(Node{"reshape", "Reshape", "", {"x", "shape"}, {"r"}, {}});
    g.nodes.push_back(Node{"relu", "Relu", "", {"r"}, {"y"}, {}});
  } else {
    g.nodes.push_back(Node{"relu", "Relu", "", {"x"}, {"y"}, {}});
  }
  return g;
}

void ExpectPerImage(const TopKAccuracy& acc, int64_t n) {
  ASSERT_EQ(acc.images, n);
  ASSERT_EQ(acc.predicted.size(), static_cast<size_t>(n));
  ASSERT_EQ(acc.labels.size(), static_cast<size_t>(n));
  ASSERT_EQ(acc.origins.size(), static_cast<size_t>(n));
  ASSERT_EQ(acc.logits.size(), static_cast<size_t>(n * kClasses));
  int64_t top1 = 0, top5 = 0;
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_EQ(acc.predicted[i], i % kClasses) << i;
    EXPECT_EQ(acc.labels[i], i % 3) << i;
    EXPECT_EQ(acc.origins[i], Origin(i));
    EXPECT_EQ(acc.logits[i * kClasses + i % kClasses], 1.f);
    top1 += i % kClasses == i % 3;
    top5 += 1;  // 4 classes: every label is within the top 5
  }
  EXPECT_EQ(acc.classes, kClasses);
  EXPECT_EQ(acc.top1, top1);
  EXPECT_EQ(acc.top5, top5);
}

// Evaluates n samples of ScoreSource keeping everything per image, and checks it.
void EvaluateAndCheck(bool fixed_batch, int64_t samples, int64_t batch_size, int64_t limit, int64_t expected) {
  ScoreSource source(samples);
  EvalOptions options;
  options.batch_size = batch_size;
  options.limit = limit;
  options.keep_predictions = options.keep_logits = true;
  TopKAccuracy acc("fp32");
  Status st = EvaluateTopK(ScoreModel(fixed_batch), source, options, &acc);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ExpectPerImage(acc, expected);
}

TEST(EvaluateTopKTest, PerImageOutputsAndLimitCuttingTheLastBatch) {
  EvaluateAndCheck(false, 23, 5, 17, 17);  // 3 whole batches and 2 of the 4th
}

TEST(EvaluateTopKTest, FixedBatchModelRunsSampleBySample) {
  EvaluateAndCheck(true, 11, 4, 0, 11);
}

TEST(EvaluateTopKTest, WithoutKeepFlagsOnlyCounts) {
  ScoreSource source(9);
  TopKAccuracy acc("fp32");
  ASSERT_TRUE(EvaluateTopK(ScoreModel(false), source, {}, &acc).ok());
  EXPECT_EQ(acc.images, 9);
  EXPECT_TRUE(acc.predicted.empty());
  EXPECT_TRUE(acc.logits.empty());
}

TEST(EvaluateTopKTest, LabelOutsideTheClassesIsAnError) {
  class BadLabel : public ScoreSource {
   public:
    BadLabel() : ScoreSource(3) {}
    Result<data::Sample> Get(int64_t i) const override {
      QCAL_ASSIGN_OR_RETURN(data::Sample s, ScoreSource::Get(i));
      if (i == 2) s.label = kClasses;
      return s;
    }
  } source;
  TopKAccuracy acc("fp32");
  Status st = EvaluateTopK(ScoreModel(false), source, {}, &acc);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("label 4 of s2 is outside the model's 4 classes"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace qcal::accuracy
