#include "accuracy/topk.h"

#include <algorithm>

#include "base/log.h"
#include "runtime/executor.h"

namespace qcal::accuracy {

void ScoreLogits(const Tensor& logits, const std::vector<int64_t>& labels, TopKAccuracy* acc) {
  int64_t n = logits.dim(0), classes = logits.numel() / std::max<int64_t>(n, 1);
  const float* p = logits.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const float* row = p + i * classes;
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
  QCAL_ASSIGN_OR_RETURN(auto executor, Executor::Create(graph, {}, eo));
  data::Batcher batcher(source, options.batch_size);
  int64_t total = options.limit > 0 ? std::min(options.limit, source.size()) : source.size();
  for (int64_t b = 0; b < batcher.num_batches() && acc->images < total; ++b) {
    QCAL_ASSIGN_OR_RETURN(data::Batch batch, batcher.GetBatch(b));
    TensorMap out;
    QCAL_RETURN_IF_ERROR(executor->Run({{graph.inputs[0].name, batch.data}}, &out));
    Tensor logits = out.at(graph.outputs[0].name);
    if (logits.dtype() != DataType::kFloat32 || logits.rank() < 1) {
      return InvalidArgument("output '" + graph.outputs[0].name + "' is not float32 logits [n, classes]");
    }
    if (acc->images + logits.dim(0) > total) {  // the limit cuts the last batch
      int64_t keep = total - acc->images;
      Tensor cut(DataType::kFloat32, {keep, logits.numel() / logits.dim(0)});
      std::copy_n(logits.data<float>(), cut.numel(), cut.data<float>());
      logits = cut;
      batch.labels.resize(static_cast<size_t>(keep));
    }
    int64_t classes = logits.numel() / std::max<int64_t>(logits.dim(0), 1);
    for (size_t i = 0; i < batch.labels.size(); ++i) {
      if (batch.labels[i] < 0 || batch.labels[i] >= classes) {
        return InvalidArgument("label " + std::to_string(batch.labels[i]) + " of " + batch.origins[i] +
                               " is outside the model's " + std::to_string(classes) + " classes");
      }
    }
    ScoreLogits(logits, batch.labels, acc);
    if ((b + 1) % 20 == 0) LogInfo(acc->name + ": " + std::to_string(acc->images) + "/" + std::to_string(total));
  }
  return Status::Ok();
}

}  // namespace qcal::accuracy
