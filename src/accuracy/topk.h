// Top-1 / top-5 accuracy of a classifier graph on labeled data: the one scoring
// implementation behind qcal eval and auto-calibrate.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "data/data_source.h"
#include "ir/graph.h"

namespace qcal::accuracy {

struct TopKAccuracy {
  TopKAccuracy() = default;
  explicit TopKAccuracy(std::string name_, std::string path_ = "")
      : name(std::move(name_)), path(std::move(path_)) {}

  std::string name, path;  // name labels progress lines ("fp32", "int8_1", "k=3", ...)
  int64_t images = 0, top1 = 0, top5 = 0;
  int64_t classes = 0;  // set by ScoreLogits
  // Per scored image, filled when EvalOptions::keep_predictions is set:
  std::vector<int64_t> predicted;    // top-1 class (the first maximum)
  std::vector<int64_t> labels;       // the data's label
  std::vector<std::string> origins;  // where the image came from (file, record index)
  std::vector<float> logits;         // [images, classes], when EvalOptions::keep_logits is set
  double Top1() const { return images ? double(top1) / images : 0; }
  double Top5() const { return images ? double(top5) / images : 0; }
};

// Counts top-1/top-5 hits of the first labels.size() rows of logits [>= n, classes]. A label counts
// as top-k when fewer than k classes beat it (ties go to the lower class index, so a top-1 hit means
// the label is the first maximum). Labels must lie in [0, classes).
void ScoreLogits(const Tensor& logits, const std::vector<int64_t>& labels, TopKAccuracy* acc);

struct EvalOptions {
  int64_t batch_size = 64;  // models with a fixed batch size run one sample at a time
  int64_t limit = 0;        // > 0: only the first `limit` samples
  int threads = 0;
  bool keep_predictions = false;  // fill TopKAccuracy::predicted, labels, origins
  bool keep_logits = false;       // fill TopKAccuracy::logits
};

// Runs `graph` (one input, first output = float32 scores [batch, classes]) over `source`
// and scores it into `acc`, logging progress every 20 batches.
Status EvaluateTopK(const Graph& graph, const data::DataSource& source, const EvalOptions& options,
                    TopKAccuracy* acc);

}  // namespace qcal::accuracy
