// Top-1 / top-5 accuracy of a classifier graph on labeled data (qcal eval and
// auto-calibrate share this).
#pragma once

#include <string>
#include <vector>

#include "data/data_source.h"
#include "ir/graph.h"

namespace qcal::accuracy {

struct TopKAccuracy {
  std::string name, path;  // for reports ("fp32", "int8", ...)
  int64_t images = 0, top1 = 0, top5 = 0;
  double Top1() const { return images ? double(top1) / images : 0; }
  double Top5() const { return images ? double(top5) / images : 0; }
};

// Counts top-1/top-5 hits of logits [n, classes] against labels (ties go to the lower class index).
void ScoreLogits(const Tensor& logits, const std::vector<int64_t>& labels, TopKAccuracy* acc);

struct EvalOptions {
  int64_t batch_size = 64;
  int64_t limit = 0;  // > 0: only the first `limit` samples
  int threads = 0;
};

// Runs `graph` (one input, first output = logits) over `source` and scores it into `acc`.
Status EvaluateTopK(const Graph& graph, const data::DataSource& source, const EvalOptions& options,
                    TopKAccuracy* acc);

}  // namespace qcal::accuracy
