// qcal eval: top-1 / top-5 of a classifier and of its quantized models on
// labeled data, side by side, with the same data and preprocessing.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/log.h"
#include "cli/commands/command.h"
#include "cli/commands/data_flags.h"
#include "cli/commands/model_flags.h"
#include "runtime/executor.h"

namespace qcal::cli {
namespace {

struct EvalFlags {
  ModelFlags model;
  DataFlags data;
  std::vector<std::string> quantized;
  int batch_size = 64;
  int64_t limit = 0;
  std::string report_json;
  int threads = 0;
};

struct Accuracy {
  std::string name, path;
  int64_t images = 0, top1 = 0, top5 = 0;
};

// Counts top-1/top-5 hits of logits [n, classes] against labels.
void Score(const Tensor& logits, const std::vector<int64_t>& labels, Accuracy* acc) {
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

Status Evaluate(const Graph& graph, const data::DataSource& source, const EvalFlags& f, Accuracy* acc) {
  if (graph.outputs.empty()) return InvalidArgument("model has no outputs");
  ExecutorOptions options;
  options.threads = f.threads;
  QCAL_ASSIGN_OR_RETURN(auto executor, Executor::Create(graph, {}, options));
  data::Batcher batcher(source, f.batch_size);
  int64_t total = f.limit > 0 ? std::min(f.limit, source.size()) : source.size();
  for (int64_t b = 0; b < batcher.num_batches() && acc->images < total; ++b) {
    QCAL_ASSIGN_OR_RETURN(data::Batch batch, batcher.GetBatch(b));
    TensorMap out;
    QCAL_RETURN_IF_ERROR(executor->Run({{graph.inputs[0].name, batch.data}}, &out));
    Tensor logits = out.at(graph.outputs[0].name);
    if (acc->images + logits.dim(0) > total) {  // --limit cuts the last batch
      int64_t keep = total - acc->images;
      Tensor cut(DataType::kFloat32, {keep, logits.numel() / logits.dim(0)});
      std::copy_n(logits.data<float>(), cut.numel(), cut.data<float>());
      logits = cut;
      batch.labels.resize(static_cast<size_t>(keep));
    }
    Score(logits, batch.labels, acc);
    if ((b + 1) % 20 == 0) LogInfo(acc->name + ": " + std::to_string(acc->images) + "/" + std::to_string(total));
  }
  return Status::Ok();
}

Status Eval(const EvalFlags& f) {
  QCAL_ASSIGN_OR_RETURN(Graph fp32, LoadModelFromFlags(f.model));
  QCAL_ASSIGN_OR_RETURN(auto source, OpenData(f.data, fp32));
  if (!source->has_labels()) return InvalidArgument("--data " + f.data.data + " has no labels; give --labels");
  std::vector<Accuracy> results;
  results.push_back({"fp32", f.model.model});
  QCAL_RETURN_IF_ERROR(Evaluate(fp32, *source, f, &results.back()));
  for (const auto& q : f.quantized) {
    ModelFlags mf;
    mf.model = q;
    QCAL_ASSIGN_OR_RETURN(Graph g, LoadModelFromFlags(mf));
    results.push_back({"int8", q});
    QCAL_RETURN_IF_ERROR(Evaluate(g, *source, f, &results.back()));
  }
  std::printf("%-6s %8s %8s %8s  %s\n", "model", "images", "top1", "top5", "path");
  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  for (const auto& r : results) {
    double t1 = r.images ? double(r.top1) / r.images : 0, t5 = r.images ? double(r.top5) / r.images : 0;
    std::printf("%-6s %8lld %7.2f%% %7.2f%%  %s\n", r.name.c_str(), static_cast<long long>(r.images), 100 * t1,
                100 * t5, r.path.c_str());
    models.push_back({{"name", r.name}, {"path", r.path}, {"top1", t1}, {"top5", t5}});
  }
  if (results.size() > 1) {
    double d = 100.0 * (double(results[1].top1) - results[0].top1) / std::max<int64_t>(results[0].images, 1);
    std::printf("INT8 - FP32 top-1: %+.2f points\n", d);
  }
  if (!f.report_json.empty()) {
    nlohmann::ordered_json j = {{"images", results[0].images}, {"models", models}};
    QCAL_RETURN_IF_ERROR(WriteFileAtomic(f.report_json, j.dump(2) + "\n"));
  }
  return Status::Ok();
}

std::function<int()> Setup(CLI::App& sub) {
  auto f = std::make_shared<EvalFlags>();
  AddModelFlags(sub, f->model);
  AddDataFlags(sub, f->data, true);
  sub.add_option("--quantized", f->quantized, "A quantized model (ONNX) to evaluate beside the FP32 one; repeatable");
  sub.add_option("--batch-size", f->batch_size, "Images per batch")->check(CLI::PositiveNumber);
  sub.add_option("--limit", f->limit, "Evaluate only the first N images");
  sub.add_option("--report-json", f->report_json, "Write the results as JSON");
  AddThreadsFlag(sub, f->threads);
  return [f]() {
    Status st = Eval(*f);
    return st.ok() ? 0 : ReportError(st);
  };
}

}  // namespace

QCAL_REGISTER_COMMAND("eval", "Top-1/top-5 of a classifier and its quantized models on labeled data", Setup);

}  // namespace qcal::cli
