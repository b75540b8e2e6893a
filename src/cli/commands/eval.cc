// qcal eval: top-1 / top-5 of a classifier and of its quantized models on
// labeled data, side by side, with the same data and preprocessing. Optionally
// writes per-image top-1 predictions (CSV) and logits (.npy per model).
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
#include "ir/npy.h"
#include "runtime/batch_runner.h"

namespace qcal::cli {
namespace {

struct EvalFlags {
  ModelFlags model;
  DataFlags data;
  std::vector<std::string> quantized;
  int batch_size = 64;
  int64_t limit = 0;
  std::string report_json;
  std::string predictions;
  std::string logits_dir;
};

struct ModelResult {
  std::string name;    // "fp32" or "int8" (table and JSON)
  std::string column;  // "fp32", "int8_1", "int8_2", ... (CSV column and logits file name)
  std::string path;
  int64_t images = 0, top1 = 0, top5 = 0;
  std::vector<int64_t> predicted;  // top-1 class per image (the first maximum)
  std::vector<float> logits;       // [images, classes], kept for --logits-dir only
  int64_t classes = 0;
};

// What the data says about each image: the same for every model.
struct ImageInfo {
  std::vector<std::string> files;
  std::vector<int64_t> labels;
};

// Scores the first `n` rows of logits [>=n, classes] against labels. A label
// counts as top-k when fewer than k classes beat it (ties go to the lower index,
// so top-1 hit == the label is the first maximum).
void Score(const Tensor& logits, int64_t n, const std::vector<int64_t>& labels, bool keep_logits,
           ModelResult* r) {
  int64_t classes = logits.numel() / std::max<int64_t>(logits.dim(0), 1);
  r->classes = classes;
  const float* p = logits.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const float* row = p + i * classes;
    float truth = row[labels[i]];
    int64_t better = 0;
    for (int64_t c = 0; c < classes; ++c) better += row[c] > truth || (row[c] == truth && c < labels[i]);
    r->top1 += better == 0;
    r->top5 += better < 5;
    ++r->images;
    r->predicted.push_back(std::max_element(row, row + classes) - row);
    if (keep_logits) r->logits.insert(r->logits.end(), row, row + classes);
  }
}

Status Evaluate(const Graph& graph, const data::DataSource& source, const EvalFlags& f, ModelResult* r,
                ImageInfo* info) {
  if (graph.outputs.empty()) return InvalidArgument("model has no outputs");
  QCAL_ASSIGN_OR_RETURN(auto runner, BatchRunner::Create(graph));
  data::Batcher batcher(source, f.batch_size);
  int64_t total = f.limit > 0 ? std::min(f.limit, source.size()) : source.size();
  bool first_model = info->labels.empty();
  for (int64_t b = 0; b < batcher.num_batches() && r->images < total; ++b) {
    QCAL_ASSIGN_OR_RETURN(data::Batch batch, batcher.GetBatch(b));
    TensorMap out;
    QCAL_RETURN_IF_ERROR(runner->Run({{graph.inputs[0].name, batch.data}}, &out));
    const Tensor& logits = out.at(graph.outputs[0].name);
    if (logits.dtype() != DataType::kFloat32 || logits.rank() < 1 || logits.dim(0) != batch.data.dim(0)) {
      return InvalidArgument("output '" + graph.outputs[0].name + "' is " +
                             std::string(DataTypeName(logits.dtype())) + ShapeToString(logits.shape()) +
                             "; eval needs float32 scores [batch, classes]");
    }
    int64_t n = std::min(logits.dim(0), total - r->images);  // --limit cuts the last batch
    batch.labels.resize(static_cast<size_t>(n));
    batch.origins.resize(static_cast<size_t>(n));
    Score(logits, n, batch.labels, !f.logits_dir.empty(), r);
    if (first_model) {
      info->labels.insert(info->labels.end(), batch.labels.begin(), batch.labels.end());
      info->files.insert(info->files.end(), batch.origins.begin(), batch.origins.end());
    }
    if ((b + 1) % 20 == 0)
      LogInfo(r->column + ": " + std::to_string(r->images) + "/" + std::to_string(total));
  }
  return Status::Ok();
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q.push_back('"');
    q.push_back(c);
  }
  q.push_back('"');
  return q;
}

// index,file,label,<top-1 of each model>
Status WritePredictions(const std::string& path, const ImageInfo& info,
                        const std::vector<ModelResult>& results) {
  std::string csv = "index,file,label";
  for (const auto& r : results) csv.append(",").append(r.column);
  csv.append("\n");
  for (size_t i = 0; i < info.labels.size(); ++i) {
    csv.append(std::to_string(i)).append(",").append(CsvField(info.files[i]));
    csv.append(",").append(std::to_string(info.labels[i]));
    for (const auto& r : results) csv.append(",").append(std::to_string(r.predicted[i]));
    csv.append("\n");
  }
  QCAL_RETURN_IF_ERROR(CreateParentDirectories(path));
  return WriteFileAtomic(path, csv);
}

Status WriteLogits(const std::string& dir, const std::vector<ModelResult>& results) {
  for (const auto& r : results) {
    Tensor t(DataType::kFloat32, {r.images, r.classes});
    std::copy(r.logits.begin(), r.logits.end(), t.data<float>());
    std::string path = dir + "/" + r.column + ".npy";
    QCAL_RETURN_IF_ERROR(CreateParentDirectories(path));
    QCAL_RETURN_IF_ERROR(WriteNpyFile(path, t));
  }
  return Status::Ok();
}

Status Report(const EvalFlags& f, const ImageInfo& info, const std::vector<ModelResult>& results) {
  std::printf("%-6s %8s %8s %8s  %s\n", "model", "images", "top1", "top5", "path");
  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  for (const auto& r : results) {
    double t1 = r.images ? double(r.top1) / r.images : 0, t5 = r.images ? double(r.top5) / r.images : 0;
    std::printf("%-6s %8lld %7.2f%% %7.2f%%  %s\n", r.name.c_str(), static_cast<long long>(r.images),
                100 * t1, 100 * t5, r.path.c_str());
    models.push_back({{"name", r.name}, {"column", r.column}, {"path", r.path}, {"top1", t1}, {"top5", t5}});
  }
  if (results.size() > 1) {
    double d = 100.0 * (double(results[1].top1) - results[0].top1) / std::max<int64_t>(results[0].images, 1);
    std::printf("INT8 - FP32 top-1: %+.2f points\n", d);
  }
  if (!f.report_json.empty()) {
    nlohmann::ordered_json j = {{"images", results[0].images}, {"models", models}};
    QCAL_RETURN_IF_ERROR(WriteFileAtomic(f.report_json, j.dump(2) + "\n"));
  }
  if (!f.predictions.empty()) QCAL_RETURN_IF_ERROR(WritePredictions(f.predictions, info, results));
  if (!f.logits_dir.empty()) QCAL_RETURN_IF_ERROR(WriteLogits(f.logits_dir, results));
  return Status::Ok();
}

Status Eval(const EvalFlags& f) {
  QCAL_ASSIGN_OR_RETURN(Graph fp32, LoadModelFromFlags(f.model));
  QCAL_ASSIGN_OR_RETURN(auto source, OpenData(f.data, fp32));
  if (!source->has_labels())
    return InvalidArgument("--data " + f.data.data + " has no labels; give --labels");
  std::vector<ModelResult> results;
  ImageInfo info;
  results.push_back({"fp32", "fp32", f.model.model, 0, 0, 0, {}, {}, 0});
  QCAL_RETURN_IF_ERROR(Evaluate(fp32, *source, f, &results.back(), &info));
  for (const auto& q : f.quantized) {
    ModelFlags mf;
    mf.model = q;
    QCAL_ASSIGN_OR_RETURN(Graph g, LoadModelFromFlags(mf));
    results.push_back({"int8", "int8_" + std::to_string(results.size()), q, 0, 0, 0, {}, {}, 0});
    QCAL_RETURN_IF_ERROR(Evaluate(g, *source, f, &results.back(), &info).WithContext(q));
  }
  return Report(f, info, results);
}

std::function<int()> Setup(CLI::App& sub) {
  auto f = std::make_shared<EvalFlags>();
  AddModelFlags(sub, f->model);
  AddDataFlags(sub, f->data, true);
  sub.add_option("--quantized", f->quantized,
                 "A quantized model (ONNX) to evaluate beside the FP32 one; repeatable");
  sub.add_option("--batch-size", f->batch_size,
                 "Images per batch (models with a fixed batch size run one image "
                 "at a time)")
      ->check(CLI::PositiveNumber);
  sub.add_option("--limit", f->limit, "Evaluate only the first N images");
  sub.add_option("--report-json", f->report_json, "Write the results as JSON");
  sub.add_option("--predictions", f->predictions,
                 "Write per-image top-1 as CSV: index,file,label,fp32,int8_1,... "
                 "(int8_k = the k-th --quantized model)");
  sub.add_option("--logits-dir", f->logits_dir,
                 "Write each model's scores [images, classes] as DIR/fp32.npy, "
                 "DIR/int8_1.npy, ...");
  return [f]() {
    Status st = Eval(*f);
    return st.ok() ? 0 : ReportError(st);
  };
}

}  // namespace

QCAL_REGISTER_COMMAND("eval", "Top-1/top-5 of a classifier and its quantized models on labeled data", Setup);

}  // namespace qcal::cli
