#include "accuracy/topk.h"

#include <algorithm>

#include "base/log.h"
#include "runtime/batch_runner.h"

namespace qcal::accuracy {
namespace {

Status CheckScores(const Tensor& logits, const std::string& output, const data::Batch& batch) {
  if (logits.dtype() != DataType::kFloat32 || logits.rank() < 1 || logits.dim(0) != batch.data.dim(0)) {
    return InvalidArgument("output '" + output + "' is " + std::string(DataTypeName(logits.dtype())) +
                           ShapeToString(logits.shape()) + "; eval needs float32 scores [batch, classes]");
  }
  int64_t classes = logits.numel() / std::max<int64_t>(logits.dim(0), 1);
  for (size_t i = 0; i < batch.labels.size(); ++i) {
    if (batch.labels[i] < 0 || batch.labels[i] >= classes) {
      return InvalidArgument("label " + std::to_string(batch.labels[i]) + " of " + batch.origins[i] +
                             " is outside the model's " + std::to_string(classes) + " classes");
    }
  }
  return Status::Ok();
}

// The per-image outputs EvalOptions asks for, for the batch's first batch.labels.size() rows.
void KeepPerImage(const Tensor& logits, const data::Batch& batch, const EvalOptions& options, TopKAccuracy* acc) {
  const float* p = logits.data<float>();
  for (size_t i = 0; i < batch.labels.size(); ++i) {
    const float* row = p + static_cast<int64_t>(i) * acc->classes;
    if (options.keep_predictions) acc->predicted.push_back(std::max_element(row, row + acc->classes) - row);
    if (options.keep_logits) acc->logits.insert(acc->logits.end(), row, row + acc->classes);
  }
  if (options.keep_predictions) {
    acc->labels.insert(acc->labels.end(), batch.labels.begin(), batch.labels.end());
    acc->origins.insert(acc->origins.end(), batch.origins.begin(), batch.origins.end());
  }
}

}  // namespace

void ScoreLogits(const Tensor& logits, const std::vector<int64_t>& labels, TopKAccuracy* acc) {
  int64_t classes = logits.numel() / std::max<int64_t>(logits.dim(0), 1);
  acc->classes = classes;
  const float* p = logits.data<float>();
  for (size_t i = 0; i < labels.size(); ++i) {
    const float* row = p + static_cast<int64_t>(i) * classes;
    float truth = row[labels[i]];
    int64_t better = 0;
    for (int64_t c = 0; c < classes; ++c) better += row[c] > truth || (row[c] == truth && c < labels[i]);
    acc->top1 += better == 0;
    acc->top5 += better < 5;
    ++acc->images;
  }
}

Status EvaluateTopK(const Graph& graph, const data::DataSource& source, const EvalOptions& options,
                    TopKAccuracy* acc) {
  if (graph.outputs.empty()) return InvalidArgument("model has no outputs");
  if (graph.inputs.size() != 1) return Unsupported("evaluation feeds one model input");
  if (!source.has_labels()) return InvalidArgument("the evaluation data has no labels; give --labels");
  ExecutorOptions eo;
  eo.threads = options.threads;
  QCAL_ASSIGN_OR_RETURN(auto runner, BatchRunner::Create(graph, eo));
  data::Batcher batcher(source, options.batch_size);
  const std::string& output = graph.outputs[0].name;
  int64_t total = options.limit > 0 ? std::min(options.limit, source.size()) : source.size();
  for (int64_t b = 0; b < batcher.num_batches() && acc->images < total; ++b) {
    QCAL_ASSIGN_OR_RETURN(data::Batch batch, batcher.GetBatch(b));
    TensorMap out;
    QCAL_RETURN_IF_ERROR(runner->Run({{graph.inputs[0].name, batch.data}}, &out));
    const Tensor& logits = out.at(output);
    int64_t n = std::min(batch.data.dim(0), total - acc->images);  // the limit cuts the last batch
    batch.labels.resize(static_cast<size_t>(n));
    batch.origins.resize(static_cast<size_t>(n));
    QCAL_RETURN_IF_ERROR(CheckScores(logits, output, batch));
    ScoreLogits(logits, batch.labels, acc);
    KeepPerImage(logits, batch, options, acc);
    if ((b + 1) % 20 == 0) LogInfo(acc->name + ": " + std::to_string(acc->images) + "/" + std::to_string(total));
  }
  return Status::Ok();
}

}  // namespace qcal::accuracy
